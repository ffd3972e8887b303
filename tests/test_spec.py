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


def _assets(name: str) -> dict:
    return dict(np.load(ROOT / "aigic" / "models" / "assets" / name))


@pytest.mark.parametrize("code", [1, 4])
def test_a_decoder_written_from_the_spec_reads_the_prompt_vectors(code):
    """tests/spec_symbols.py follows FORMAT.md's text (5, 10.2, 10.3), not aigic's code."""
    from aigic.format.container import parse
    from tests import vectors
    from tests.spec_symbols import decode_semantic

    data = (vectors.VECTORS / f"semantic-{code}.aigic").read_bytes()
    text = decode_semantic(
        parse(data).chunk(1).payload,
        _assets("prompt_model_v1.npz"),
        _assets("prompt_model_v2.npz"),
    )
    want = (vectors.VECTORS / f"semantic-{code}.expected" / "text.txt").read_text("utf-8")
    assert text == want


def test_a_decoder_written_from_the_spec_reads_the_pose_vector():
    import json

    from aigic.format.container import parse
    from tests import vectors
    from tests.spec_symbols import decode_pose

    data = (vectors.VECTORS / "structure-1.aigic").read_bytes()
    want = json.loads((vectors.VECTORS / "structure-1.expected" / "keypoints.json").read_text())
    assert decode_pose(parse(data).chunk(2).payload) == want


@pytest.mark.parametrize("bits", [4, 9, 12])
def test_the_pose_spec_decoder_agrees_on_every_lattice_size(bits):
    """Lattices over 128 points take 10.2's pairwise sums past their first block."""
    from aigic.layers.pose import PoseLayer
    from tests.spec_symbols import decode_pose

    rng = np.random.default_rng(bits)
    people = [
        [None if rng.random() < 0.3 else tuple(rng.random(2)) for _ in range(18)] for _ in range(3)
    ]
    layer = PoseLayer.from_keypoints(people, bits=bits)
    want = [
        [[int(x), int(y)] if here else None for (x, y), here in zip(pts, pres)]
        for pts, pres in zip(layer.points, layer.present)
    ]
    assert decode_pose(layer.to_payload()) == want


def test_the_prompt_spec_decoders_agree_on_real_prompts():
    from aigic.models.prompt import load_model, load_model_v2
    from tests.spec_symbols import decode_semantic

    prompts = [
        "masterpiece, best quality, 1girl, solo, long hair, looking at viewer, smile",
        "a photo of an astronaut riding a horse on mars, 8k, trending on artstation",
        "Ünïcødé ✨ prompt with émoji 🦊 and (weights:1.3), [brackets] BREAK again again again",
    ]
    v1, v2 = _assets("prompt_model_v1.npz"), _assets("prompt_model_v2.npz")
    for text in prompts:
        assert decode_semantic(bytes([1]) + load_model().encode(text), v1, v2) == text
        assert decode_semantic(bytes([4]) + load_model_v2().encode(text), v1, v2) == text


@pytest.mark.parametrize(
    "code", [c for c, codec in STRUCTURE_CODECS.items() if codec.redraw == "links"]
)
def test_the_links_drawing_of_the_spec_is_what_the_adapter_receives(code):
    from tests import vectors
    from tests.spec_decoder import draw_links

    folder = vectors.VECTORS / f"structure-{code}.expected"
    grid = vectors.read_png((folder / "grid.png").read_bytes())
    drawn = vectors.read_png((folder / "drawn.png").read_bytes())
    assert np.array_equal(draw_links(grid, drawn.shape[::-1]), drawn)
