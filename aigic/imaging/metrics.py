"""Fidelity measures used by the encoder's rate control and by ``aigic bench``.

edge maps:  matched_f1 (one to one, BSDS-style; the primary measure), edge_f1 (tolerant),
            dice (pixel overlap, for sketch strokes)
colours:    ciede2000
"""

from __future__ import annotations

import numpy as np


def edge_f1(decoded: np.ndarray, reference: np.ndarray, tolerance: float = 3.0) -> float:
    """Tolerant F1 of two boolean edge maps: a pixel counts if the other map has one within
    ``tolerance`` (many-to-one, so drawing more pixels can only raise it; a secondary measure,
    see :func:`matched_f1`)."""
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


def matched_f1(decoded, reference, tolerance: float = 3.0) -> tuple[float, float, float]:
    """One-to-one boundary F1 as the BSDS benchmark scores it: each reference edge pixel is
    matched to at most one decoded pixel within ``tolerance`` px (a maximum bipartite
    matching, aigic.imaging.matching), so drawing more pixels cannot raise the score.
    Returns (F1, precision, recall)."""
    from .matching import matching_size, pixel_graph

    d, r = np.ascontiguousarray(decoded, bool), np.ascontiguousarray(reference, bool)
    nd, nr = int(d.sum()), int(r.sum())
    if not nd and not nr:
        return 1.0, 1.0, 1.0
    if not nd or not nr:
        return 0.0, float(not nd), float(not nr)
    reach = int(tolerance)
    ys, xs = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    near = (ys**2 + xs**2 <= tolerance * tolerance).ravel()
    offsets = np.stack([ys.ravel()[near], xs.ravel()[near]], 1).astype(np.int64)
    indptr, indices, n_right = pixel_graph(d, r, offsets)
    matched = int(matching_size(indptr, indices, n_right))
    precision, recall = matched / nd, matched / nr
    f1 = 0.0 if not matched else 2 * precision * recall / (precision + recall)
    return f1, precision, recall


def dice(decoded: np.ndarray, reference: np.ndarray) -> float:
    """Dice overlap 2|A and B| / (|A| + |B|) of two boolean maps (1.0 when both are empty)."""
    d, r = np.asarray(decoded, bool), np.asarray(reference, bool)
    total = int(d.sum()) + int(r.sum())
    return 1.0 if not total else 2 * int((d & r).sum()) / total


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference of two CIELAB arrays (..., 3)."""
    from skimage.color import deltaE_ciede2000

    return deltaE_ciede2000(lab1, lab2)
