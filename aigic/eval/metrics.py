"""The metrics of ``aigic eval``, each from a kept library, each saying when it cannot run here.

    (original, decoded, prompt) at the coding size --Metric.score--> one number per item
    set-level metrics (FID, KID) --> one number per codec/preset row, over the whole set

| name      | library                      | needs                                          |
| psnr      | torchmetrics                 | nothing                                        |
| ms_ssim   | torchmetrics                 | nothing                                        |
| clip_i2i  | torchmetrics CLIPScore       | openai/clip-vit-large-patch14 (image-image)    |
| clip_t2i  | torchmetrics CLIPScore       | the same (text-image, against the prompt)      |
| lpips     | torchmetrics (AlexNet)       | torchvision's AlexNet weights in the torch cache |
| dists     | torchmetrics                 | torchvision's VGG16 weights in the torch cache |
| niqe      | IQA_Metrics_Toolbox (MIT)    | nothing: it ships LIVE's NIQE model parameters |
| fid, kid  | torchmetrics (+ torch-fidelity's Inception-v3) | the Inception weights in the torch cache |

torchmetrics is the Lightning team's maintained metric library (the one diffusers' docs use);
CLIP ViT-L/14 is what the paper's CLIPSim uses. NIQE: pyiqa, the maintained toolbox, fetches
its parameter file from GitHub at first use; IQA_Metrics_Toolbox (scikit-video's NIQE port,
unmaintained since 2023) is the PyPI package that computes it offline, so it is used here.
FID and KID are computed over each codec/preset/layers group from the features of its items
(``features/``, kept per row so a resumed or multi-process run still covers the whole set). A metric whose weights or package are missing
is reported in one line and its column stays empty; the others are still computed. The CLIP
folder comes from ``AIGIC_MODEL_DIR/openai/clip-vit-large-patch14`` or the HF cache.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..weights import hub

CLIP = "openai/clip-vit-large-patch14"
PER_ITEM = ("psnr", "ms_ssim", "clip_i2i", "clip_t2i", "lpips", "dists", "niqe")
PER_SET = ("fid", "kid")


def _chw(rgb: np.ndarray):
    """An RGB uint8 array (H, W, 3) as a uint8 tensor (3, H, W), copied (writable)."""
    import torch

    return torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1)


def _tensor(rgb: np.ndarray):
    return _chw(rgb)[None].float() / 255


def _torch_cached(name: str) -> bool:
    from pathlib import Path

    import torch

    return any((Path(torch.hub.get_dir()) / "checkpoints").glob(f"{name}-*.pth"))


class _Projected:
    """A CLIPModel whose ``get_*_features`` return the projected embeddings as tensors, as
    torchmetrics 1.9 expects (transformers 5 returns them inside an output object)."""

    def __init__(self, clip):
        self.clip = clip

    def __getattr__(self, name):
        return getattr(self.clip, name)

    def to(self, *args, **kw):  # torchmetrics moves the model: keep the wrapper
        self.clip = self.clip.to(*args, **kw)
        return self

    @staticmethod
    def _tensor(out):
        return out if hasattr(out, "norm") else out.pooler_output

    def get_image_features(self, *args, **kw):
        return self._tensor(self.clip.get_image_features(*args, **kw))

    def get_text_features(self, *args, **kw):
        return self._tensor(self.clip.get_text_features(*args, **kw))


class Metrics:
    """The metrics that can run here, loaded once; ``missing`` says why each other one cannot.
    ``extractor``: the set-level metrics' feature network (default: torch-fidelity's
    Inception-v3 when its weights are here; tests pass a random one)."""

    def __init__(self, wanted=PER_ITEM + PER_SET, extractor=None, device: str = "cpu"):
        self.device = device
        self.missing: dict[str, str] = {}
        self._clip = None
        self._lpips = self._dists = None
        wanted = set(wanted)
        if wanted & {"clip_i2i", "clip_t2i"}:
            self._clip = self._load_clip()
        if "lpips" in wanted:
            self._lpips = self._torchvision("lpips", "alexnet", "AlexNet")
        if "dists" in wanted:
            self._dists = self._torchvision("dists", "vgg16", "VGG16")
        self._niqe = self._load_niqe() if "niqe" in wanted else None
        self.extractor = extractor
        if self.extractor is None and wanted & set(PER_SET):
            self.extractor = self._inception()
        for name in ("_clip", "_lpips", "_dists", "extractor"):  # to the process's device
            module = getattr(self, name)
            if module is not None and hasattr(module, "to"):
                setattr(self, name, module.to(device))

    def _load_niqe(self):
        try:
            from IQA_Metrics_Toolbox import niqe
        except ImportError as exc:
            self.missing["niqe"] = f"needs IQA_Metrics_Toolbox and libsvm ({exc})"
            return None
        return niqe.score

    def _inception(self):
        """torch-fidelity's Inception-v3 (FID's standard features) through torchmetrics."""
        from importlib.util import find_spec

        here = _torch_cached("pt_inception") or hub.answers("github.com")
        if find_spec("torch_fidelity") is None or not here:
            for name in PER_SET:
                self.missing[name] = (
                    "needs torch-fidelity and its Inception-v3 weights (pt_inception-2015-12-05, "
                    "downloaded from GitHub) in the torch cache"
                )
            return None
        from torchmetrics.image.fid import NoTrainInceptionV3

        return NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"]).eval()

    def features(self, rgb: np.ndarray) -> np.ndarray | None:
        """The set-level metrics' feature vector of one image (None: no extractor here)."""
        import torch

        if self.extractor is None:
            return None
        with torch.inference_mode():
            return (
                self.extractor(_chw(rgb)[None].to(self.device)).reshape(-1).double().cpu().numpy()
            )

    def _load_clip(self):
        folder = hub.local_dir(CLIP)
        if folder is None and hub.cached(CLIP, "config.json", "main") is None:
            why = (
                f"needs {CLIP} (AIGIC_MODEL_DIR or the HF cache; `huggingface-cli download {CLIP}`)"
            )
            self.missing["clip_i2i"] = self.missing["clip_t2i"] = why
            return None
        from torchmetrics.multimodal import CLIPScore
        from transformers import CLIPModel, CLIPProcessor

        where = folder or CLIP

        def model():
            clip = CLIPModel.from_pretrained(where).eval()
            return _Projected(clip), CLIPProcessor.from_pretrained(where)

        return CLIPScore(model)

    def _torchvision(self, name: str, net: str, label: str):
        if not (_torch_cached(net) or hub.answers("download.pytorch.org")):
            self.missing[name] = (
                f"needs torchvision's {label} weights (not in the torch cache, and "
                "download.pytorch.org cannot be reached)"
            )
            return None
        from torchmetrics import image

        if name == "lpips":
            return image.LearnedPerceptualImagePatchSimilarity(net_type="alex", normalize=True)
        return image.DeepImageStructureAndTextureSimilarity()

    def reference(self, original: np.ndarray, prompt: str) -> dict:
        """The no-reference metrics of the original itself (NIQE, text-image CLIPSim): the
        level a decode is read against; NaN elsewhere."""
        out = dict.fromkeys(PER_ITEM, float("nan"))
        if self._niqe is not None:
            out["niqe"] = self._niqe_of(original)
        if self._clip is not None and prompt:
            out["clip_t2i"] = self._clip_score(original, prompt)
        return out

    def score(self, original: np.ndarray, decoded: np.ndarray, prompt: str) -> dict:
        """Every per-item metric of ``decoded`` against ``original`` (RGB uint8, same size);
        NaN where a metric cannot run here."""
        import torch
        from torchmetrics.functional.image import (
            multiscale_structural_similarity_index_measure,
            peak_signal_noise_ratio,
        )

        a, b = _tensor(original).to(self.device), _tensor(decoded).to(self.device)
        out = dict.fromkeys(PER_ITEM, float("nan"))
        with torch.inference_mode():
            out["psnr"] = float(peak_signal_noise_ratio(b, a, data_range=1.0))
            out["ms_ssim"] = float(
                multiscale_structural_similarity_index_measure(b, a, data_range=1.0)
            )
            if self._clip is not None:
                out["clip_i2i"] = self._clip_score(decoded, original)
                if prompt:
                    out["clip_t2i"] = self._clip_score(decoded, prompt)
            if self._lpips is not None:
                out["lpips"] = float(self._lpips(b, a))
                self._lpips.reset()
            if self._dists is not None:
                out["dists"] = float(self._dists(b, a))
                self._dists.reset()
        if self._niqe is not None:
            out["niqe"] = self._niqe_of(decoded)
        return out

    def _niqe_of(self, rgb: np.ndarray) -> float:
        grey = np.asarray(Image.fromarray(np.array(rgb, dtype=np.uint8)).convert("L"))
        return float(self._niqe(grey.astype(np.float64)))

    def _clip_score(self, image: np.ndarray, target) -> float:
        import torch

        source = _chw(image)
        if isinstance(target, np.ndarray):
            target = _chw(target)
        with torch.inference_mode():  # always: the metric's state must not mix tensor kinds
            value = float(self._clip(source, target))
            self._clip.reset()
        return value
