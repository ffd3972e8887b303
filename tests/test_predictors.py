"""The learned edge predictors pay on the maps they were trained for (structure codecs 4, 10)."""

import numpy as np

from aigic.encoder.extractors import canny
from aigic.encoder.reduce import edge_layer
from aigic.format.codes import STRUCT_EDGE_CM_V2, STRUCT_EDGE_NET_V4, STRUCT_EDGE_NET_V10
from aigic.format.limits import coding_size
from aigic.imaging.images import load_image, to_array
from aigic.layers.structure import StructureLayer
from tests.conftest import ROOT


def _canny(name: str) -> np.ndarray:
    im = load_image(ROOT / "assets" / name)[0]
    return canny(to_array(im, coding_size(*im.size)))


def test_the_canny_grid_predictor_codes_thinned_grids_shorter_and_the_encoder_uses_it():
    for name in ("fennec_bottle_sdxlturbo.png", "astronaut_horse_sd15.png"):
        edges = _canny(name)
        for factor in (5.33, 8):
            layer = edge_layer(edges, factor, "canny", style="lines")
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
