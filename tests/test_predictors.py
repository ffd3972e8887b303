"""The learned edge predictors pay on the maps they were trained for (structure codecs 4, 10, 12),
and lossy Canny maps are drawn by the learned line table (codecs 11, 12)."""

import numpy as np

from aigic.encoder.extractors import canny
from aigic.encoder.reduce import edge_layer
from aigic.format.codes import (
    STRUCT_EDGE_CM_V2,
    STRUCT_EDGE_NET_V4,
    STRUCT_EDGE_NET_V10,
    STRUCT_LINES_CM_V11,
    STRUCT_LINES_NET_V12,
)
from aigic.format.limits import coding_size
from aigic.imaging.images import load_image, to_array
from aigic.imaging.metrics import matched_f1
from aigic.layers.edgemap import restore
from aigic.layers.structure import StructureLayer
from tests.conftest import ROOT


def _canny(name: str) -> np.ndarray:
    im = load_image(ROOT / "assets" / name)[0]
    return canny(to_array(im, coding_size(*im.size)))


def test_the_canny_grid_predictor_codes_thinned_grids_shorter_and_the_encoder_uses_it():
    for name in ("fennec_bottle_sdxlturbo.png", "astronaut_horse_sd15.png"):
        edges = _canny(name)
        for factor in (5.33, 8):
            layer = StructureLayer(edge_layer(edges, factor, "canny", style="lines").grid)
            sizes = {c: len(layer.to_payload(c)) for c in (2, 4, 10)}
            assert sizes[STRUCT_EDGE_NET_V10] < 0.95 * sizes[STRUCT_EDGE_CM_V2]
            assert sizes[STRUCT_EDGE_NET_V10] < sizes[STRUCT_EDGE_NET_V4]
            payload = layer.to_payload()
            assert payload[0] == STRUCT_EDGE_NET_V10
            back = StructureLayer.from_payload(payload)
            assert (back.grid == layer.grid).all() and back.restore == "links"
        # a full-size Canny map is what codec 4's model was trained on
        whole = StructureLayer(edges)
        assert len(whole.to_payload(4)) < len(whole.to_payload(2))


def test_lossy_canny_maps_are_drawn_as_thin_lines_by_the_line_table():
    edges = _canny("fennec_bottle_sdxlturbo.png")
    h, w = edges.shape
    for factor in (5.33, 8):
        layer = edge_layer(edges, factor, "canny", style="lines")
        assert layer.restore == "learned lines"
        payload = layer.to_payload()
        assert payload[0] in (STRUCT_LINES_CM_V11, STRUCT_LINES_NET_V12)
        assert payload[0] == STRUCT_LINES_NET_V12  # codec 10's predictor pays here too
        back = StructureLayer.from_payload(payload)
        assert back.restore == "learned lines" and (back.grid == layer.grid).all()
        drawn = back.edges((w, h))
        assert (drawn == layer.edges((w, h))).all()
        # thin: 1-px lines (Zhang-Suen leaves the odd 2x2 block), and closer than the links
        blocks = drawn[:-1, :-1] & drawn[1:, :-1] & drawn[:-1, 1:] & drawn[1:, 1:]
        assert blocks.sum() < 0.02 * drawn.sum()
        links = restore(layer.grid, (w, h))
        assert matched_f1(drawn, edges)[0] > matched_f1(links, edges)[0]
    # a whole map, a cells lattice and a sketch drawn as lines stay links
    assert edge_layer(edges, 1, "canny").restore == "links"
    assert edge_layer(edges, 8, "canny", style="cells").restore == "links"
    assert edge_layer(edges, 8, "sketch", style="lines").restore == "links"


def test_rate_control_draws_a_canny_grid_whichever_way_matches_better():
    from dataclasses import replace

    import aigic

    edges = _canny("banana_sushi_sd15.png")
    size = edges.shape[::-1]
    drawn = set()
    for rate in ({"budget": 200}, {"preset": "default"}, {"preset": "fine"}):
        st = aigic.read_layers(
            aigic.encode(ROOT / "assets" / "banana_sushi_sd15.png", structure="canny", **rate)
        ).structure
        assert st.restore in ("learned lines", "links")
        other = replace(st, restore="links" if st.restore == "learned lines" else "learned lines")
        assert matched_f1(st.edges(size), edges)[0] >= matched_f1(other.edges(size), edges)[0]
        drawn.add(st.restore)
    assert "learned lines" in drawn


def test_a_canny_grid_drawn_as_links_is_kept_only_within_the_budget(monkeypatch):
    """Rate control weighs each Canny line grid drawn both ways but codes the links one only
    when it would keep it; coded, it must still fit the budget, else the next best is kept."""
    from dataclasses import replace

    from aigic.encoder import ratecontrol
    from aigic.format.container import Bitstream, write

    edges = _canny("banana_sushi_sd15.png")
    base = Bitstream(*edges.shape[::-1])
    stream = ratecontrol._with_map(base, "canny", edges, 4, ("lines", True))
    assert ratecontrol._layer(stream).restore == "learned lines"
    links = len(write(base.with_layer(replace(edge_layer(edges, 4), restore="links"))))
    held = len(write(stream))
    monkeypatch.setattr(  # links drawn closer, whatever the map
        ratecontrol, "_fidelity", lambda layer, _: 1.0 if layer.restore == "links" else 0.5
    )
    kept = ratecontrol._best([("lines", stream)], edges, max(links, held))
    assert ratecontrol._layer(kept.stream).restore == "links"
    assert len(write(kept.stream)) <= max(links, held)
    if links > held:
        kept = ratecontrol._best([("lines", stream)], edges, held)
        assert kept.stream is stream
