"""Neural front-ends on random weights (PiDiNet, OpenPose, BLIP) and the pose keypoint codec."""

from __future__ import annotations

import numpy as np
import pytest

from aigic import api, edit, encode, inspect, read_layers
from aigic.errors import FormatError, ModelUnavailable
from aigic.format.codes import CHUNK_STRUCTURE
from aigic.format.container import Bitstream, Chunk, write
from aigic.layers.pose import N_POINTS, PoseLayer

from .conftest import synthetic

PERSON = [(0.5, 0.2), (0.5, 0.3), (0.4, 0.3), (0.35, 0.45), (0.3, 0.6), (0.6, 0.3), (0.65, 0.45)]
PERSON += [(0.7, 0.6), (0.45, 0.6), (0.45, 0.8), (0.45, 0.95), (0.55, 0.6), (0.55, 0.8)]
PERSON += [None, (0.48, 0.18), (0.52, 0.18), None, (0.54, 0.19)]


def test_pose_keypoints_round_trip_within_half_a_lattice_step():
    other = [None] * 5 + [(0.9, 0.1)] * 3 + [None] * 10
    layer = PoseLayer.from_keypoints([PERSON, other])
    payload = layer.to_payload()
    back = PoseLayer.from_payload(payload)
    assert np.array_equal(back.points[back.present], layer.points[layer.present])
    assert np.array_equal(back.present, layer.present)
    for got, want in zip(back.keypoints()[0], PERSON):
        assert (got is None) == (want is None)
        if want is not None:
            assert max(abs(g - w) for g, w in zip(got, want)) <= 0.5 / 127 + 1e-9
    assert len(payload) <= 48  # two people in a few dozen bytes, not a pixel map


def test_pose_render_draws_openpose_limbs():
    layer = PoseLayer.from_keypoints([PERSON])
    img = layer.condition((512, 512))
    assert img.shape == (512, 512, 3) and img.dtype == np.uint8
    # the neck-to-right-shoulder limb is drawn in OpenPose's first colour at 60%
    assert tuple(img[154, 230]) == (153, 0, 0)
    assert img[0, 0].max() == 0  # black background
    assert layer.edges((256, 256)).any()


def test_pose_stream_decodes_inspects_and_edits():
    data = encode(synthetic(256, 256), prompt="a dancer", layers=("semantic", "texture"))
    bs = __import__("aigic").parse(data)
    pose = PoseLayer.from_keypoints([PERSON])
    data = write(bs.with_chunk(Chunk(CHUNK_STRUCTURE, pose.to_payload())))
    info = inspect(data)
    assert info["structure_kind"] == "pose" and info["people"] == 1
    img = api.decode(data, backend="preview")
    assert img.size == (256, 256)
    erased = edit.erase_rect(data, (0.0, 0.0, 1.0, 0.5))  # the head and arms go
    lay = read_layers(erased)
    assert lay.structure.present.sum() < pose.present.sum()
    assert api.changed_layers(data, erased) == {
        "semantic": "identical",
        "structure": "changed",
        "texture": "identical",
    }


def test_pose_payload_bounds():
    good = PoseLayer.from_keypoints([PERSON]).to_payload()
    with pytest.raises(FormatError, match="bits per coordinate"):
        PoseLayer.from_payload(good[:2] + bytes([30]) + good[3:])
    with pytest.raises(FormatError):
        PoseLayer.from_payload(good[:3] + b"\xff\xff\xff\x7f" + good[4:])
    assert N_POINTS == 18


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("controlnet_aux")
    from aigic.testing.models import ANNOTATORS, BLIP, annotators, blip

    root = tmp_path_factory.mktemp("frontends")
    annotators(root / ANNOTATORS)
    blip(root / BLIP)
    return root


def test_sketch_extractor_runs_pidinet_and_binarizes(model_dir, monkeypatch):
    from aigic.encoder import extractors

    monkeypatch.setenv("AIGIC_MODEL_DIR", str(model_dir))
    rgb = np.asarray(synthetic(128, 96))
    edges = extractors.extract(rgb, "sketch")
    assert edges.shape == (96, 128) and edges.dtype == bool
    data = encode(synthetic(128, 96), prompt="x", structure="sketch")
    assert inspect(data)["structure_kind"] == "sketch"


def test_pose_extractor_runs_openpose(model_dir, monkeypatch):
    from aigic.encoder import extractors

    monkeypatch.setenv("AIGIC_MODEL_DIR", str(model_dir))
    layer = extractors.extract(np.asarray(synthetic(128, 128)), "pose")
    assert layer.kind == "pose"  # random weights: usually nobody, but the path runs
    assert layer.points.shape == (layer.people, N_POINTS, 2)
    data = encode(synthetic(128, 128), prompt="x", structure="pose")
    assert inspect(data)["structure_kind"] == "pose"


def test_captioner_fills_a_missing_prompt(model_dir, monkeypatch):
    from aigic.encoder import caption

    monkeypatch.setenv("AIGIC_MODEL_DIR", str(model_dir))
    text = caption.caption(synthetic(64, 64))
    assert isinstance(text, str) and len(text.split()) <= caption.MAX_TOKENS
    data = encode(synthetic(64, 64), caption="blip")
    assert inspect(data)["prompt"] == text
    assert caption.clean("arafed there is a red house") == "a red house"


def test_missing_front_end_weights_are_one_clear_error(monkeypatch, tmp_path):
    from aigic.encoder import extractors
    from aigic.weights import hub

    monkeypatch.setenv("AIGIC_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(hub, "reachable", lambda timeout=3.0: False)
    extractors._DETECTORS.clear()
    with pytest.raises(ModelUnavailable, match="lllyasviel/Annotators.*--structure canny"):
        encode(synthetic(64, 64), structure="sketch")
    with pytest.raises(ModelUnavailable, match="blip-image-captioning-base.*--prompt"):
        encode(synthetic(64, 64), caption="blip")
    # 'auto' captioning without cached weights just leaves the prompt empty
    assert inspect(encode(synthetic(64, 64), caption="auto"))["prompt"] == ""
    assert Bitstream  # the container stays importable without torch


def test_a_pidinet_file_that_is_not_the_pinned_one_is_refused_on_load(
    model_dir, monkeypatch, tmp_path, capsys
):
    """The random-weight PiDiNet of these tests is exactly such a file: without the tests'
    AIGIC_UNPINNED_WEIGHTS it must not load, in the API or the CLI."""
    from aigic.cli.main import main
    from aigic.encoder import extractors
    from aigic.weights.files import WeightMismatch

    monkeypatch.setenv("AIGIC_MODEL_DIR", str(model_dir))
    monkeypatch.delenv("AIGIC_UNPINNED_WEIGHTS")
    monkeypatch.setattr(extractors, "_DETECTORS", {})
    with pytest.raises(WeightMismatch, match="table5_pidinet.pth is not the pinned file"):
        extractors.load_detector("sketch")
    with pytest.raises(WeightMismatch):
        encode(synthetic(64, 64), prompt="x", structure="sketch")
    assert extractors._DETECTORS == {}  # nothing was kept for the next call
    image = tmp_path / "x.png"
    synthetic(64, 64).save(image)
    args = ["encode", str(image), "-o", str(tmp_path / "x.aigic"), "--structure", "sketch"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not the pinned file" in err
