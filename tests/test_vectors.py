"""Every codec's test vector decodes to its expected arrays (tests/vectors.py writes them)."""

import json

import numpy as np
import pytest

from tests import vectors

NAMES = sorted(p.stem for p in vectors.VECTORS.glob("*.aigic"))


def test_there_is_a_vector_for_every_codec_a_reader_accepts():
    from aigic.format.codes import STRUCTURE_CODECS

    expected = {f"structure-{c}" for c in STRUCTURE_CODECS}
    expected |= {f"semantic-{c}" for c in range(5)} | {"texture-1"}
    assert set(NAMES) == expected


@pytest.mark.parametrize("name", NAMES)
def test_vector_decodes_to_its_expected_arrays(name):
    data = (vectors.VECTORS / f"{name}.aigic").read_bytes()
    folder = vectors.VECTORS / f"{name}.expected"
    got = vectors.decoded(name, data)
    assert sorted(got) == sorted(p.name for p in folder.iterdir())
    for file, content in got.items():
        want = (folder / file).read_bytes()
        if file.endswith(".png"):  # compare pixels, not the PNG encoder's bytes
            assert np.array_equal(vectors.read_png(content), vectors.read_png(want)), file
        elif file.endswith(".json"):
            assert json.loads(content) == json.loads(want), file
        else:
            assert content == want, file


def test_the_vectors_are_what_the_fuzzer_seeds_are():
    """The committed streams are today's seeds: a writer change shows here first."""
    for name, data in vectors.streams().items():
        assert (vectors.VECTORS / f"{name}.aigic").read_bytes() == data, name
