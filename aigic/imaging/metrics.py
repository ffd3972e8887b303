"""Fidelity measures used by the encoder's rate control and by ``aigic bench``."""

from __future__ import annotations

import numpy as np


def edge_f1(decoded: np.ndarray, reference: np.ndarray, tolerance: float = 3.0) -> float:
    """F1 of two boolean edge maps, a pixel matching if the other map has one within ``tolerance``."""
    import cv2

    d, r = np.asarray(decoded, bool), np.asarray(reference, bool)
    if not d.any() and not r.any():
        return 1.0
    if not d.any() or not r.any():
        return 0.0
    dist_r = cv2.distanceTransform((~r).astype(np.uint8), cv2.DIST_L2, 5)
    dist_d = cv2.distanceTransform((~d).astype(np.uint8), cv2.DIST_L2, 5)
    precision = float((dist_r[d] <= tolerance).mean())
    recall = float((dist_d[r] <= tolerance).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference of two CIELAB arrays (..., 3)."""
    from skimage.color import deltaE_ciede2000

    return deltaE_ciede2000(lab1, lab2)
