"""Structure extractors (encoder side): Canny edges, PiDiNet sketches, OpenPose keypoints.

    RGB --cv2.Canny(grey, 100, 200)--> edge map (bool), no weights
    RGB --PiDiNet (folded into plain convolutions: pidinet.py)--> edge probability
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


def _weights(kind: str, source: str | None):
    """The state dict for ``kind`` from a local folder, the cache, or the hub."""
    import torch

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
        weights = _weights(kind, source)
        _DETECTORS[key] = _build(kind, weights)
    return _DETECTORS[key]


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
    """PiDiNet edges of an RGB uint8 array, binarized at 0.5, at the array's own size (on the
    GPU when there is one). The network reads BGR in 0..1, as controlnet_aux's detector hands
    it."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(rgb[:, :, ::-1])).float() / 255.0
    x = x.permute(2, 0, 1)[None].contiguous(memory_format=torch.channels_last)
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
