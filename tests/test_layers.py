"""Each layer and the entropy coder: exact round trips."""

import hashlib
import json

import numpy as np
import pytest

from aigic.coding.binary_maps import decode_map, encode_map
from aigic.coding.bits import ONE, BitDecoder, BitEncoder, geometric
from aigic.coding.symbols import Decoder, Encoder
from aigic.encoder.extractors import canny
from aigic.encoder.reduce import edge_layer
from aigic.errors import FormatError
from aigic.layers.edgemap import restore
from aigic.layers.semantic import SemanticLayer
from aigic.layers.structure import StructureLayer
from aigic.layers.texture import MAX_DE, TextureLayer, grid_of
from aigic.models.edgenet import predictor
from tests import golden_corpus as golden
from tests.conftest import synthetic

# exact coder outputs, written by tests/golden_corpus.py (python -m tests.golden_corpus)
CODERS = json.loads(golden.CORPUS.read_text(encoding="utf-8"))["coders"]


def test_entropy_coder_exact_output_for_a_fixed_input():
    enc = Encoder()
    enc.bits([1, 0, 1], [0.5, 0.2, 0.9])
    enc.categorical(3, [1, 2, 3, 4])
    enc.uniform(200, 256)
    data = enc.to_bytes()
    assert data.hex() == CODERS["symbols"]
    dec = Decoder(data)
    assert dec.bits([0.5, 0.2, 0.9]).tolist() == [1, 0, 1]
    assert dec.categorical([1, 2, 3, 4]) == 3
    assert dec.uniform(256) == 200


def test_entropy_coder_random_round_trips():
    rng = np.random.default_rng(1)
    for _ in range(20):
        p = rng.uniform(0.01, 0.99, 300)
        bits = (rng.uniform(size=300) < p).astype(int)
        enc = Encoder()
        enc.bits(bits, p)
        assert Decoder(enc.to_bytes()).bits(p).tolist() == bits.tolist()


def test_entropy_decoder_rejects_partial_words():
    with pytest.raises(FormatError):
        Decoder(b"abc")


def test_binary_coder_exact_output_and_round_trips():
    enc = BitEncoder()
    for bit, p in ((1, ONE // 2), (0, 1000), (1, 60000), (0, 30000)):
        enc.bit(bit, p)
    for r in (0, 3, -2, 7):
        enc.residual(r, *geometric(20000))
    assert enc.to_bytes().hex() == CODERS["bits"]
    rng = np.random.default_rng(5)
    for _ in range(30):
        n = int(rng.integers(0, 300))
        ps = rng.integers(1, ONE, n)
        bits = (rng.integers(0, ONE, n) < ps).astype(int)
        rs = rng.integers(-40, 40, n)
        enc = BitEncoder()
        for b, p, r in zip(bits, ps, rs):
            enc.bit(int(b), int(p))
            enc.residual(int(r), *geometric(int(p) // 2 + 1))
        dec = BitDecoder(enc.to_bytes())
        for b, p, r in zip(bits, ps, rs):
            assert dec.bit(int(p)) == b
            assert dec.residual(*geometric(int(p) // 2 + 1)) == r


_fixed_map = golden.fixed_map


def test_bitmap_exact_output_for_a_fixed_map():
    assert encode_map(_fixed_map()).hex() == CODERS["bitmap"]


def test_bitmap_round_trip_random_and_sparse():
    rng = np.random.default_rng(2)
    for shape, density in (((37, 53), 0.5), ((64, 64), 0.02), ((1, 1), 1.0), ((9, 130), 0.1)):
        m = rng.uniform(size=shape) < density
        assert (decode_map(encode_map(m), shape) == m).all()


@pytest.mark.parametrize("model", [1, 2])
def test_bitmap_with_the_learned_predictor_exact_output_and_round_trips(model):
    assert encode_map(_fixed_map(), predictor(model)).hex() == CODERS[f"bitmap+edgenet{model}"]
    rng = np.random.default_rng(3)
    for shape, density in (((37, 53), 0.5), ((64, 64), 0.02), ((1, 1), 1.0), ((9, 130), 0.1)):
        m = rng.uniform(size=shape) < density
        assert (decode_map(encode_map(m, predictor(model)), shape, predictor(model)) == m).all()


def _two_layer_net(rng):
    """A random network with two hidden layers (the shipped one has one), edgenet's types."""
    from aigic.models import edgenet

    dy, dx = edgenet.window_offsets()
    w1 = rng.integers(-900, 900, (dy.size, 24)).astype(np.int32)
    b1 = rng.integers(-500, 500, 24).astype(np.int32)
    w2 = rng.integers(-900, 900, (24, 8)).astype(np.int64)
    b2, w3 = rng.integers(-(2**19), 2**19, 8), rng.integers(-900, 900, 8)
    return dy, dx, w1, b1, w2, b2, w3, np.array([-(2**20)])


@pytest.mark.parametrize("which", ["model 1", "model 2", "two hidden layers"])
def test_edge_predictor_integer_forward_matches_the_float_network(which):
    from aigic.coding.cm_kernel import PAD, net_empty, net_predict
    from aigic.models import edgenet

    rng = np.random.default_rng(4)
    net = edgenet.load(int(which[-1])) if which.startswith("model") else _two_layer_net(rng)
    dy, dx, w1, b1, w2, b2, w3, b3 = net
    h1, h2 = np.zeros(b1.size, np.int32), np.zeros(b2.size, np.int64)
    img = (rng.uniform(size=(40, 60)) < 0.1).astype(np.int64)
    img[:PAD] = 0
    for yy, xx in ((PAD + 5, 20), (PAD + 9, 30), (PAD + 20, 41)):
        x = img[yy + dy, xx + dx].astype(float)
        a = np.maximum(b1 / 2**10 + x @ (w1 / 2**10), 0)
        if w2.size:
            a = np.maximum(a @ (w2 / 2**10) + b2 / 2**20, 0)
        logit = a @ (w3 / 2**10) + b3[0] / 2**20
        got, work = net_predict(img, yy, xx, net, h1, h2, edgenet.SCALE)
        assert abs(got - np.clip(256 * logit, -2047, 2047)) <= 2, (got, 256 * logit)
        assert work > b1.size
    empty = np.zeros_like(img)
    assert net_predict(empty, PAD + 5, 20, net, h1, h2, edgenet.SCALE) == (-32768, 0)
    if which.startswith("model"):
        assert net_empty(net, h1, h2, edgenet.SCALE) < -1000  # no edge in reach: unlikely


def test_edge_models_are_pinned(tmp_path):
    from aigic.models import edgenet

    for name, sha256 in edgenet.MODELS.values():
        data = (edgenet.ASSETS / name).read_bytes()
        assert sha256 == hashlib.sha256(data).hexdigest()
        bad = tmp_path / name
        bad.write_bytes(data[:-1] + b"x")
        with pytest.raises(FormatError, match="SHA-256"):
            edgenet.read(bad, sha256)


def test_structure_writes_the_shortest_of_codecs_2_4_10_and_reads_all_four():
    from aigic.format.codes import (
        STRUCT_EDGE_CM_V2,
        STRUCT_EDGE_NET_V3,
        STRUCT_EDGE_NET_V4,
        STRUCT_EDGE_NET_V10,
    )

    rgb = np.asarray(synthetic(256, 192))
    for factor in (1, 8):
        layer = StructureLayer(edge_layer(canny(rgb), factor).grid)  # drawn as links
        payload = layer.to_payload()
        coded = {
            STRUCT_EDGE_CM_V2: encode_map(layer.grid),
            STRUCT_EDGE_NET_V4: encode_map(layer.grid, predictor(2)),
            STRUCT_EDGE_NET_V10: encode_map(layer.grid, predictor(5)),
        }
        shortest = min(coded, key=lambda c: len(coded[c]))  # the first on a tie
        assert payload[0] == shortest and payload.endswith(coded[shortest])
        for code in (STRUCT_EDGE_CM_V2, STRUCT_EDGE_NET_V3, STRUCT_EDGE_NET_V4, None):
            back = StructureLayer.from_payload(layer.to_payload(code))
            assert (back.grid == layer.grid).all()
        back = StructureLayer.from_payload(layer.to_payload(STRUCT_EDGE_NET_V10))
        assert (back.grid == layer.grid).all() and back.restore == "links"
    with pytest.raises(ValueError, match="edge codec"):
        layer.to_payload(1)


@pytest.mark.parametrize("factor", [1, 2, 4, 5.33, 8])
def test_structure_round_trip(factor):
    rgb = np.asarray(synthetic(256, 192))
    layer = edge_layer(canny(rgb), factor)
    back = StructureLayer.from_payload(layer.to_payload())
    assert (back.grid == layer.grid).all() and back.kind == "canny"
    edges = back.edges((256, 192))
    assert edges.shape == (192, 256) and edges.any()
    cond = back.condition((256, 192))
    assert cond.shape == (192, 256, 3) and set(np.unique(cond)) <= {0, 255}


def test_structure_restore_keeps_lines_thin_and_connected():
    grid = np.zeros((16, 16), bool)
    grid[8, 2:14] = True
    out = restore(grid, (64, 64))
    rows = np.nonzero(out.any(axis=1))[0]
    assert len(rows) == 1  # a horizontal line stays one pixel thick
    assert out[rows[0]].sum() >= 44  # and continuous between the cell centres


def test_cells_style_keeps_textured_cells_filled_where_lines_thins_them():
    import cv2

    from aigic.encoder.reduce import reduce

    rng = np.random.default_rng(3)
    edges = np.zeros((128, 128), bool)
    edges[32:96, 32:96] = rng.random((64, 64)) < 0.3  # a textured square: grid cells 4..11
    edges[10, :] = True  # and a line
    cells, lines = reduce(edges, 8, style="cells"), reduce(edges, 8, style="lines")
    assert cells[4:12, 4:12].all() and lines[4:12, 4:12].sum() < 32
    assert cells[1].all() and lines[1].all()  # the line is a line in both
    lattice = restore(cells, (128, 128))
    far = cv2.distanceTransform((~lattice).astype(np.uint8), cv2.DIST_L2, 5)
    assert far[36:92, 36:92].max() <= 3.0  # every pixel of the region is near a link
    assert lattice[36:92, 36:92].mean() < 0.5  # links, not a solid block
    with pytest.raises(ValueError, match="style"):
        reduce(edges, 8, style="hatch")


def test_texture_round_trip_and_quality():
    from aigic.imaging.color import srgb_to_lab
    from aigic.imaging.metrics import ciede2000

    rgb = np.asarray(synthetic(512, 512))
    grid = grid_of(rgb)
    assert grid.shape == (8, 8, 3)
    layer = TextureLayer.from_grid(grid)
    back = TextureLayer.from_payload(layer.to_payload())
    assert (back.q == layer.q).all()
    assert ciede2000(srgb_to_lab(grid), back.lab()).mean() <= MAX_DE
    cond = back.condition((512, 512))
    assert cond.shape == (512, 512, 3) and (cond[:64, :64] == back.grid()[0, 0]).all()


def test_texture_recolor_sets_the_cell():
    layer = TextureLayer.from_grid(grid_of(np.asarray(synthetic(512, 512))))
    red = layer.recolor([(1, 2)], (255, 0, 0))
    back = TextureLayer.from_payload(red.to_payload())
    r, g, b = back.grid()[1, 2].astype(int)
    assert r > 200 and g < 60 and b < 60


DAMAGED = {  # payloads each layer must refuse, and what the refusal says
    SemanticLayer: {
        b"": "empty",
        b"\x07": "unknown codec",
        b"\x00\xff\xfe": "not UTF-8",
        b"\x01" + b"\xff" * 8: "damaged",
        b"\x01\x05": "not whole 32-bit words",
        b"\x02garbage": "damaged compressed text",
        b"\x03garbage": "damaged compressed text",
    },
    StructureLayer: {
        b"": "truncated",
        b"\x07": "truncated",
        b"\x00\x00\x05\x05abc": "pre-release",
        b"\x04\xff\xff\xff": "unknown edge kind",
        b"\xff\x00": "unknown codec",
    },
    TextureLayer: {
        b"": "truncated",
        b"\x07": "unknown codec",
        b"\x00\x00\x05\x05abc": "pre-release",
        b"\x01" + b"\xff" * 8: "not a valid varint",
        b"\x01\x05": "truncated",
    },
}


@pytest.mark.parametrize("cls", list(DAMAGED), ids=lambda c: c.__name__)
def test_damaged_payloads_raise_format_error(cls):
    for junk, says in DAMAGED[cls].items():
        with pytest.raises(FormatError, match=says):
            cls.from_payload(junk)


def test_preview_darkens_a_lone_line_fully_and_a_lattice_less():
    from aigic.backends.preview import EDGE_DARKEN, darken_edges

    edges = np.zeros((64, 64), bool)
    edges[10, :] = True  # a lone line
    edges[30:60:2, 30:60] = True  # a dense region
    out = darken_edges(np.full((64, 64, 3), 200.0, np.float32), edges)
    assert np.allclose(out[10, 5:59], 200 * (1 - EDGE_DARKEN), atol=0.5)
    assert np.all(out[44, 36:54] > 200 * (1 - EDGE_DARKEN) + 20)  # softer inside the region
    assert np.all(out[~edges] == 200)  # only edge pixels change


def test_preview_caption_folds_odd_spaces_and_marks_a_cut():
    from aigic.backends.preview import CAPTION_LINES, caption_lines

    assert caption_lines("a\u00a0red\u2009fox\x07 at\tdusk", 40) == ["a red fox at dusk"]
    long = " ".join(f"word{i}" for i in range(60))
    lines = caption_lines(long, 30)
    assert len(lines) == CAPTION_LINES and lines[-1].endswith("...") and len(lines[-1]) <= 30
    assert caption_lines("short", 30) == ["short"]
