"""Sketch structure: PiDiNet maps coded as strokes drawn by the learned stroke table (structure
codecs 7, 8 and 9; 5 and 6, bilinear strokes, are still read), with the real PiDiNet checkpoint
from ../shared where it is there."""

import numpy as np
import pytest

import aigic
from aigic.encoder.reduce import edge_layer
from aigic.format.codes import (
    STRUCT_SKETCH_CM_V5,
    STRUCT_SKETCH_CM_V7,
    STRUCT_SKETCH_NET_V6,
    STRUCT_SKETCH_NET_V8,
    STRUCT_SKETCH_NET_V9,
)
from aigic.imaging.metrics import dice
from aigic.layers.structure import StructureLayer
from tests.conftest import ROOT

PIDINET = ROOT.parent / "shared" / "models" / "pidinet" / "table5_pidinet.pth"


def _strokes(h=256, w=256) -> np.ndarray:
    """Thick smooth strokes, as PiDiNet draws them."""
    import cv2

    m = np.zeros((h, w), np.uint8)
    cv2.circle(m, (w // 2, h // 2), h // 3, 1, 5)
    cv2.line(m, (10, 20), (w - 20, h - 40), 1, 4)
    return m.astype(bool)


@pytest.mark.parametrize("factor", [2, 4, 8])
def test_strokes_round_trip_and_restore_smooth_strokes(factor):
    ref = _strokes()
    layer = edge_layer(ref, factor, "sketch", style="strokes")
    assert layer.restore == "learned strokes"
    payload = layer.to_payload()
    assert payload[0] in (STRUCT_SKETCH_CM_V7, STRUCT_SKETCH_NET_V8, STRUCT_SKETCH_NET_V9)
    sizes = {c: len(layer.to_payload(c)) for c in (7, 8, 9)}
    assert len(payload) == min(sizes.values())
    back = StructureLayer.from_payload(payload)
    assert back.restore == "learned strokes" and back.kind == "sketch"
    assert (back.grid == layer.grid).all()
    restored = back.edges(ref.shape[::-1])
    assert dice(restored, ref) > {2: 0.93, 4: 0.89, 8: 0.82}[factor]  # 0.952, 0.911, 0.846
    links = StructureLayer(layer.grid, "sketch").edges(ref.shape[::-1])
    assert dice(restored, ref) > dice(links, ref)  # strokes, not 1-px links


def test_a_strokes_grid_cannot_be_written_with_a_links_codec():
    layer = edge_layer(_strokes(), 4, "sketch", style="strokes")
    with pytest.raises(ValueError, match="edge codec 2 for learned strokes"):
        layer.to_payload(2)
    # the whole map is the map itself, coded with the sketch predictors (codecs 7 .. 9)
    whole = edge_layer(_strokes(), 1, "sketch", style="strokes")
    assert whole.restore == "learned strokes"
    assert (StructureLayer.from_payload(whole.to_payload()).edges((256, 256)) == _strokes()).all()
    assert edge_layer(_strokes(), 1, "canny").restore == "links"


def test_older_bilinear_strokes_still_decode_and_recode_to_the_same_bytes():
    import cv2

    layer = edge_layer(_strokes(), 4, "sketch", style="strokes")
    old = StructureLayer(layer.grid, "sketch", "strokes")
    for code in (STRUCT_SKETCH_CM_V5, STRUCT_SKETCH_NET_V6):
        back = StructureLayer.from_payload(old.to_payload(code))
        assert back.restore == "strokes" and (back.grid == layer.grid).all()
        up = cv2.resize(layer.grid.astype(np.float32), (256, 256), interpolation=cv2.INTER_LINEAR)
        assert (back.edges((256, 256)) == (up > 0.5)).all()
    assert StructureLayer.from_payload(old.to_payload()).to_payload() == old.to_payload()


def test_the_stroke_table_is_pinned_and_reads_each_cell_neighbourhood():
    from aigic.models import strokes

    table = strokes.load(1)
    assert table.shape == (strokes.PATTERNS * strokes.P**2,) and table.dtype == bool
    grid = np.zeros((4, 4), bool)
    grid[1, 2] = True
    index = strokes.features(grid, (32, 32))  # 8 px per cell
    pattern = index // strokes.P**2
    assert (pattern[8:16, 16:24] == 1 << 4).all()  # the cell itself: the centre bit
    assert (pattern[8:16, 24:32] == 1 << 3).all()  # its right neighbour sees it on its left
    assert (pattern[:, :8] == 0).all()
    phases = index % strokes.P**2
    assert phases[8, 16] == 0 and phases[15, 23] == strokes.P**2 - 1
    # nothing set, nothing drawn; a patch of set cells is drawn solid inside
    assert not strokes.draw(np.zeros((4, 4), bool), (32, 32), 1).any()
    assert strokes.draw(np.ones((4, 4), bool), (32, 32), 1)[4:28, 4:28].all()
    # patterns never seen in training fall back to bilinear: a solid patch is solid there too
    assert strokes.bilinear_entries()[(strokes.PATTERNS - 1) * strokes.P**2 :].all()


def _pidinet_map(path) -> np.ndarray:
    """PiDiNet's map of the image at ``path``, at its coding size."""
    from aigic.encoder.extractors import extract
    from aigic.format.limits import coding_size
    from aigic.imaging.images import load_image, to_array

    im = load_image(path)[0]
    return extract(to_array(im, coding_size(*im.size)), "sketch")


@pytest.fixture()
def pidinet_dir(tmp_path, monkeypatch):
    if not PIDINET.exists():
        pytest.skip(f"{PIDINET} not found: the real PiDiNet checkpoint lives in ../shared")
    from aigic.encoder import extractors

    folder = tmp_path / "lllyasviel" / "Annotators"
    folder.mkdir(parents=True)
    (folder / PIDINET.name).symlink_to(PIDINET)
    monkeypatch.setenv("AIGIC_MODEL_DIR", str(tmp_path))
    extractors.available.cache_clear()
    yield tmp_path
    extractors.available.cache_clear()


def test_default_structure_is_a_pidinet_sketch_when_its_weights_are_there(pidinet_dir):
    path = ROOT / "assets" / "fennec_bottle_sdxlturbo.png"
    fine = aigic.encode_result(path, preset="fine")
    assert fine.structure == "sketch" and "PiDiNet from" in fine.structure_why
    lay = aigic.read_layers(fine.data)
    assert lay.structure.kind == "sketch" and lay.structure.restore == "learned strokes"
    assert len(fine.data) <= 0.020 * 512 * 512 / 8
    ref = _pidinet_map(path)
    assert 0.02 < ref.mean() < 0.4  # PiDiNet's strokes, binarized at 0.5
    assert dice(lay.structure.edges(lay.size), ref) > 0.95  # 0.972 here; the README's 0.954 is
    # the dev set's median at `fine`
    lossless = aigic.read_layers(aigic.encode(path, preset="lossless"))
    assert (lossless.structure.edges(lay.size) == ref).all()


def test_edits_and_export_keep_a_sketch_drawn_as_strokes(tmp_path):
    from aigic import edit
    from aigic.export import export
    from aigic.format.container import Bitstream, write

    layer = edge_layer(_strokes(), 4, "sketch", style="strokes")
    data = write(Bitstream(256, 256).with_layer(layer))
    erased = aigic.read_layers(edit.erase_rect(data, (0.0, 0.0, 0.5, 0.5))).structure
    assert erased.restore == "learned strokes" and erased.kind == "sketch"
    assert erased.grid.sum() < layer.grid.sum()
    written = export(data, tmp_path)
    from PIL import Image

    png = np.asarray(Image.open(tmp_path / "structure.png").convert("L")) > 127
    assert tmp_path / "structure.png" in written
    assert (png == layer.edges((512, 512))).all()  # the strokes at the coding size


def test_on_a_real_sketch_the_table_beats_bilinear_and_the_sketch_predictors_pay(pidinet_dir):
    from aigic.encoder.reduce import to_grid
    from aigic.layers.edgemap import strokes

    ref = _pidinet_map(ROOT / "assets" / "fennec_bottle_sdxlturbo.png")
    h, w = ref.shape
    for f in (4, 6.4):
        grid = to_grid(ref, (round(w / f), round(h / f)), style="strokes")
        layer = StructureLayer(grid, "sketch", "learned strokes")
        assert dice(layer.edges((w, h)), ref) > dice(strokes(grid, (w, h)), ref) + 0.01
        assert len(layer.to_payload(STRUCT_SKETCH_NET_V8)) < len(layer.to_payload(7))
    whole = StructureLayer(ref, "sketch", "learned strokes")
    assert len(whole.to_payload(STRUCT_SKETCH_NET_V9)) < 0.9 * len(StructureLayer(ref).to_payload())


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
@pytest.mark.parametrize("name", ["fennec_bottle_sdxlturbo.png", "astronaut_horse_sd15.png"])
def test_the_folded_pidinet_draws_the_reference_detectors_map(
    pidinet_dir, name, runtime, monkeypatch
):
    """aigic runs PiDiNet with its pixel-difference convolutions folded into plain ones
    (encoder/pidinet.py), in onnxruntime or torch; controlnet_aux's PidiNetDetector, the
    reference, must agree pixel for pixel."""
    import torch
    from controlnet_aux.pidi import PidiNetDetector

    from aigic.encoder import extractors
    from aigic.encoder.pidinet import OnnxPiDiNet
    from aigic.format.limits import coding_size
    from aigic.imaging.images import load_image, to_array

    monkeypatch.setenv("AIGIC_SKETCH_RUNTIME", runtime)
    assert isinstance(extractors.load_detector("sketch"), OnnxPiDiNet) == (runtime == "onnx")

    im = load_image(ROOT / "assets" / name)[0]
    rgb = to_array(im, coding_size(*im.size))
    reference = PidiNetDetector.from_pretrained(str(pidinet_dir / "lllyasviel" / "Annotators"))
    x = torch.from_numpy(np.ascontiguousarray(rgb[:, :, ::-1])).float().permute(2, 0, 1) / 255
    with torch.no_grad():
        want = reference.netNetwork(x[None])[-1][0, 0].numpy() > 0.5
    got = _pidinet_map(ROOT / "assets" / name)
    assert got.shape == want.shape and want.sum() > 1000
    assert (got != want).sum() == 0


def test_pidinet_runs_on_the_gpu_when_there_is_one(pidinet_dir, monkeypatch):
    """With CUDA, PiDiNet runs there in fp32: the same map but for rounding (a few pixels)."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from aigic.encoder import extractors

    monkeypatch.setenv("AIGIC_MODEL_DIR", str(pidinet_dir))
    name = ROOT / "assets" / "fennec_bottle_sdxlturbo.png"
    on_gpu = _pidinet_map(name)
    assert next(extractors.load_detector("sketch").parameters()).device.type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    extractors._DETECTORS.clear()
    on_cpu = _pidinet_map(name)
    extractors._DETECTORS.clear()
    assert (on_gpu != on_cpu).sum() <= 0.001 * on_cpu.size


FRESH_ENCODE = """
import sys, aigic
r = aigic.encode_result(sys.argv[1], structure="sketch")
print(len(r.data), r.data.hex(), " ".join(m for m in ("torch", "onnxruntime") if m in sys.modules))
"""


def test_a_fresh_process_sketches_without_torch_once_the_network_is_exported(pidinet_dir, tmp_path):
    """The first sketch encode exports the folded network to aigic's cache (torch runs once);
    every later process reads that file into onnxruntime and never imports torch."""
    import os
    import subprocess
    import sys

    from aigic.encoder.extractors import sketch_runtime

    if sketch_runtime() != "onnx":
        pytest.skip("PiDiNet runs in torch on this machine (a GPU, or no onnxruntime)")
    env = dict(os.environ, AIGIC_MODEL_DIR=str(pidinet_dir), AIGIC_STATE_DIR=str(tmp_path / "s"))
    image = str(ROOT / "assets" / "astronaut_horse_sd15.png")
    runs = [
        subprocess.run(
            [sys.executable, "-c", FRESH_ENCODE, image],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        for _ in range(2)
    ]
    (first, second) = [r.stdout.split() for r in runs]
    assert first[1] == second[1]  # the same stream either way
    assert first[2:] == ["torch", "onnxruntime"]  # exported, then run
    assert second[2:] == ["onnxruntime"]  # no torch at all
    assert len(list((tmp_path / "s" / "pidinet").glob("*.onnx"))) == 1


def test_a_damaged_exported_network_is_dropped_and_torch_draws_the_map(pidinet_dir, monkeypatch):
    from aigic.encoder import extractors
    from aigic.encoder.pidinet import OnnxPiDiNet, onnx_file
    from aigic.weights.files import known_digest

    if extractors.sketch_runtime() != "onnx":
        pytest.skip("PiDiNet runs in torch on this machine (a GPU, or no onnxruntime)")
    monkeypatch.setattr(extractors, "_DETECTORS", {})
    exported = extractors.load_detector("sketch")
    assert isinstance(exported, OnnxPiDiNet)
    name = ROOT / "assets" / "fennec_bottle_sdxlturbo.png"
    want = _pidinet_map(name)
    path = onnx_file(known_digest(PIDINET))
    assert exported.path == path
    saved = path.read_bytes()
    try:
        path.write_bytes(saved[: len(saved) // 3])  # cut short, as a full disk would leave it
        monkeypatch.setattr(extractors, "_DETECTORS", {})
        assert not isinstance(extractors.load_detector("sketch"), OnnxPiDiNet)
        assert not path.exists()  # dropped: the next load exports it again
        assert (_pidinet_map(name) == want).all()
        monkeypatch.setattr(extractors, "_DETECTORS", {})
        assert isinstance(extractors.load_detector("sketch"), OnnxPiDiNet)
    finally:
        if not path.exists():
            path.write_bytes(saved)
