"""docs/FORMAT.md agrees with the code's tables (the spec's copies are checked, not trusted)."""

import re

import numpy as np
import pytest

from aigic.format.codes import STRUCTURE_CODECS
from tests.conftest import ROOT

SPEC = ROOT / "docs" / "FORMAT.md"


def structure_codec_rows() -> list[str]:
    """FORMAT.md's structure-codec table, rendered from STRUCTURE_CODECS."""
    rows = []
    for code, codec in sorted(STRUCTURE_CODECS.items()):
        if codec.predictor is None:
            predictor = "— (pose keypoints, section 7)"
        else:
            predictor = f"edge_model_v{codec.predictor}" if codec.predictor else "none"
        written = "yes" if codec.written else "read only"
        rows.append(f"| {code} | {predictor} | {codec.redraw} | {written} |")
    return rows


def test_the_structure_codec_table_is_the_codes_table():
    text = SPEC.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- structure codecs: .*? -->\n\| code .*?\n\| --- .*?\n(.*?)<!-- end of structure codecs -->",
        text,
        re.DOTALL,
    )
    assert block, "FORMAT.md lost its structure-codec table markers"
    expected = "\n".join(structure_codec_rows())
    assert block.group(1).strip() == expected, f"FORMAT.md's table should read:\n{expected}"


@pytest.mark.parametrize("code", [3, 4, 7, 12])
def test_a_decoder_written_from_the_spec_reads_the_vectors(code):
    """tests/spec_decoder.py follows FORMAT.md's text (6.1, 6.2, 10.1), not aigic's code."""
    from aigic.format.container import parse
    from tests import vectors
    from tests.spec_decoder import decode_edge_map

    data = (vectors.VECTORS / f"structure-{code}.aigic").read_bytes()
    payload = parse(data).chunk(2).payload
    version = STRUCTURE_CODECS[code].predictor
    model = None
    if version:
        model = dict(np.load(ROOT / "aigic" / "models" / "assets" / f"edge_model_v{version}.npz"))
    want = vectors.read_png(
        (vectors.VECTORS / f"structure-{code}.expected" / "grid.png").read_bytes()
    )
    assert np.array_equal(decode_edge_map(payload, model), want)


def test_a_decoder_written_from_the_spec_reads_the_texture_vector():
    import json

    from aigic.format.container import parse
    from tests import vectors
    from tests.spec_decoder import decode_texture

    data = (vectors.VECTORS / "texture-1.aigic").read_bytes()
    q, grid = decode_texture(parse(data).chunk(3).payload)
    folder = vectors.VECTORS / "texture-1.expected"
    assert q.tolist() == json.loads((folder / "cells.json").read_text())["q"]
    assert np.array_equal(grid, vectors.read_png((folder / "grid.png").read_bytes()))
