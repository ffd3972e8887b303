"""Structure extractors (encoder side): Canny edges, PiDiNet sketches, OpenPose keypoints.

    RGB --cv2.Canny(grey, 100, 200)--> edge map (bool), no weights
    RGB --PiDiNet (folded into plain convolutions: pidinet.py; onnxruntime on a CPU,
        torch on a GPU)--> edge probability
        --> 0.5 threshold --> sketch map (bool)
    RGB --OpenPose body model (controlnet_aux)--> people x 18 keypoints --> PoseLayer

The weights are lllyasviel/Annotators' ``.pth`` files, read with ``torch.load(weights_only=True)``
(tensors only, no pickled code). Canny needs no weights and stays the offline default. A
missing model raises :class:`ModelUnavailable` naming the file and how to get it.
"""

from __future__ import annotations

import os
from functools import cache

import numpy as np

from ..errors import ModelUnavailable
from ..weights import hub
from ..weights.repos import ANNOTATORS, REVISIONS

ANNOTATORS_REVISION = REVISIONS[ANNOTATORS]
FILES = {"sketch": "table5_pidinet.pth", "pose": "body_pose_model.pth"}
SKETCH_THRESHOLD = 0.5  # what the sketch adapter was trained on

_DETECTORS: dict[str, object] = {}


def canny(rgb: np.ndarray, low: int = 100, high: int = 200) -> np.ndarray:
    """Boolean Canny edges of an RGB uint8 array (``cv2.Canny`` on its grey image)."""
    import cv2

    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return cv2.Canny(gray, low, high) > 0


def _weights_path(kind: str, source: str | None) -> str:
    """The local path of ``kind``'s weights (a folder given, the cache, or the hub), its pin
    verified."""
    name = FILES[kind]
    if source is not None:
        path = os.path.join(source, name)
    else:
        from huggingface_hub import hf_hub_download

        where = hub.locate(ANNOTATORS, ANNOTATORS_REVISION, name, "encode with --structure canny")
        try:
            path = hf_hub_download(
                ANNOTATORS,
                name,
                revision=where["revision"],
                local_files_only=where["local_files_only"],
            )
        except Exception as exc:
            why = f"{name}: {type(exc).__name__}"
            raise hub.missing(
                ANNOTATORS, ANNOTATORS_REVISION, why, "use --structure canny"
            ) from exc
    from pathlib import Path

    from ..weights.repos import check

    check(ANNOTATORS, Path(path).parent)  # PiDiNet's file is pinned by its SHA-256
    return path


def _read(kind: str, path: str) -> dict:
    """The state dict in ``path`` (tensors only)."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ModelUnavailable(f"cannot read the {kind} weights {path}: {exc}") from exc


NAMES = {"sketch": "PiDiNet", "pose": "OpenPose"}


@cache
def available(kind: str) -> tuple[bool, str]:
    """Whether the extractor of ``kind`` can run here without a manual step, and why (or why
    not): Canny always; PiDiNet ('sketch') and OpenPose ('pose') when their weights are in
    AIGIC_MODEL_DIR or the Hugging Face cache, or the hub is reachable. Asked once per
    process and kind (the hub probe can take seconds)."""
    if kind == "canny":
        return True, "Canny (OpenCV) needs no weights"
    from importlib.util import find_spec

    net = NAMES[kind]
    missing = [m for m in ("torch", "controlnet_aux", "huggingface_hub") if find_spec(m) is None]
    if missing:
        return False, f"{net} needs {', '.join(missing)} (pip install 'aigic[sd]')"
    name = FILES[kind]
    folder = hub.local_dir(ANNOTATORS)
    if folder is not None and os.path.exists(os.path.join(folder, name)):
        return True, f"{net} from {folder}"
    if hub.cached(ANNOTATORS, name, ANNOTATORS_REVISION) is not None:
        return True, f"{net} from the Hugging Face cache"
    if hub.reachable():
        return True, f"{net} from the hub ({ANNOTATORS})"
    return False, (
        f"{net}'s weights ({ANNOTATORS}/{name}) are not in AIGIC_MODEL_DIR or the Hugging "
        "Face cache and the hub is unreachable"
    )


def load_detector(kind: str, source: str | None = None):
    """PiDiNet ('sketch') or the OpenPose body model ('pose'), loaded once. ``source``: a
    local folder holding the Annotators file (default: the Hugging Face cache or hub)."""
    if kind not in FILES:
        raise ValueError(f"no neural extractor for {kind!r}: choose from {', '.join(FILES)}")
    source = source or hub.local_dir(ANNOTATORS)
    key = f"{kind}:{source}"
    if key not in _DETECTORS:
        path = _weights_path(kind, source)
        net = _onnx_sketch(path) if kind == "sketch" else None
        _DETECTORS[key] = net or _build(kind, _read(kind, path))
    return _DETECTORS[key]


def sketch_runtime() -> str:
    """Which runtime runs PiDiNet here: ``onnx`` (onnxruntime, CPU) or ``torch`` (CUDA where
    there is a GPU; also wherever onnxruntime is missing). ``AIGIC_SKETCH_RUNTIME`` forces one."""
    from importlib.util import find_spec

    forced = os.environ.get("AIGIC_SKETCH_RUNTIME", "").strip().lower()
    if forced in ("torch", "onnx"):
        return forced
    gpu = os.path.exists("/proc/driver/nvidia/version")  # torch's CUDA path; no torch import
    return "onnx" if not gpu and find_spec("onnxruntime") is not None else "torch"


def _onnx_sketch(path: str):
    """PiDiNet in onnxruntime, from the network exported once per checkpoint (the export
    needs torch and onnx, once); None where the torch network runs instead."""
    from importlib.util import find_spec

    from ..weights.files import known_digest
    from .pidinet import OnnxPiDiNet, export_onnx, onnx_file

    if sketch_runtime() != "onnx":
        return None
    digest = known_digest(path)  # check() has just hashed it or found its marker
    if digest is None:
        return None
    target = onnx_file(digest)
    if not target.is_file():
        if find_spec("onnx") is None:
            return None
        try:
            export_onnx(_build("sketch", _read("sketch", path)), target)
        except (ImportError, RuntimeError, OSError):  # torch's exporter failed: torch runs it
            return None
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidProtobuf

    try:
        return OnnxPiDiNet(target)
    except (Fail, InvalidProtobuf, OSError):  # a damaged cache file: drop it (exported again)
        target.unlink(missing_ok=True)
        return None


def _build(kind: str, weights: dict):
    import warnings

    with warnings.catch_warnings():  # controlnet_aux's imports warn about timm, mediapipe, jit
        warnings.simplefilter("ignore")
        return _build_quietly(kind, weights)


def _build_quietly(kind: str, weights: dict):
    if kind == "sketch":  # plain convolutions, channels-last: the same map, faster
        import torch

        from .pidinet import plain_pidinet

        net = plain_pidinet(weights.get("state_dict", weights))
        if torch.cuda.is_available():  # fp32 there too: at most a pixel's rounding apart
            net = net.cuda()
        return net.to(memory_format=torch.channels_last)
    from controlnet_aux.open_pose import OpenposeDetector
    from controlnet_aux.open_pose.body import Body
    from controlnet_aux.open_pose.model import bodypose_model
    from controlnet_aux.open_pose.util import transfer

    body = Body.__new__(Body)  # Body() would torch.load a path itself
    body.model = bodypose_model()
    body.model.load_state_dict(transfer(body.model, weights))
    body.model.eval()
    return OpenposeDetector(body)


def sketch(rgb: np.ndarray, net) -> np.ndarray:
    """PiDiNet edges of an RGB uint8 array, binarized at 0.5, at the array's own size (in
    onnxruntime, or torch on the GPU when there is one). The network reads BGR in 0..1, as
    controlnet_aux's detector hands it."""
    from .pidinet import OnnxPiDiNet

    bgr = np.ascontiguousarray(rgb[:, :, ::-1]).astype(np.float32) / np.float32(255.0)
    if isinstance(net, OnnxPiDiNet):
        return net(np.ascontiguousarray(bgr.transpose(2, 0, 1)[None])) > SKETCH_THRESHOLD
    import torch

    x = torch.from_numpy(bgr).permute(2, 0, 1)[None].contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        prob = net(x.to(next(net.parameters()).device))[-1][0, 0].float().cpu().numpy()
    return prob > SKETCH_THRESHOLD


def pose(rgb: np.ndarray, detector) -> list[list[tuple[float, float] | None]]:
    """OpenPose body keypoints per person, as (x, y) image fractions or None."""
    results = detector.detect_poses(np.ascontiguousarray(rgb))
    return [[None if k is None else (k.x, k.y) for k in r.body.keypoints] for r in results]


def extract(rgb: np.ndarray, kind: str, source: str | None = None):
    """The structure of ``rgb`` for ``kind``: a bool map ('canny', 'sketch'), which rate
    control codes at the rate it chooses, or a finished layer with no rate knob ('pose':
    the keypoints on their lattice)."""
    if kind == "canny":
        return canny(rgb)
    detector = load_detector(kind, source)
    if kind == "sketch":
        return sketch(rgb, detector)
    from ..layers.pose import PoseLayer

    return PoseLayer.from_keypoints(pose(rgb, detector))
