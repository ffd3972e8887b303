"""The compiled inner loop of the texture layer's rate-distortion search (texture.py).

    cells in raster order --each: the MED prediction from the cells chosen so far, the 27
    candidates moved toward it by 0..2 steps per channel--> the candidate of least
    lam * CIEDE2000 + residual bits (the first on a tie)

Each candidate's cost is summed in a fixed order (the colour error times lam, then the
three channels' residual bits), in float64 without fast-math, so the layer it chooses is
the same on every machine.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def med(q, y, x, c, mid):
    """The prediction of cell (y, x), channel c, from the cells before it in raster order:
    MED inside the grid, the left or upper neighbour on the first row or column, ``mid`` at
    the origin. The coder's walk (texture.py) calls it as it is; the search below, compiled."""
    if y == 0 and x == 0:
        return mid
    if y == 0 or x == 0:
        return int(q[y, x - 1, c] if y == 0 else q[y - 1, x, c])
    a, b, d = int(q[y, x - 1, c]), int(q[y - 1, x, c]), int(q[y - 1, x - 1, c])
    return min(a, b) if d >= max(a, b) else max(a, b) if d <= min(a, b) else a + b - d


_med = njit(cache=True)(med)


@njit(cache=True)
def rdo_walk(q0, de, lam, bits, mid, top, cands):
    """The chosen grid: ``q0`` the plain quantization (gh, gw, 3); ``de`` each cell's
    CIEDE2000 for every value within two steps of q0 (gh, gw, 125); ``bits[first, c, m]`` the
    residual bits of magnitude m in channel c (first: the origin cell's model); ``cands`` the
    27 step patterns (0..2 per channel)."""
    gh, gw = q0.shape[0], q0.shape[1]
    q = np.zeros_like(q0)
    n = cands.shape[0]
    value = np.empty((n, 3), np.int64)
    cost = np.empty(n)
    preds = np.empty(3, np.int64)
    for y in range(gh):
        for x in range(gw):
            first = 1 if y == 0 and x == 0 else 0
            for c in range(3):
                preds[c] = _med(q, y, x, c, mid[c])
            for i in range(n):
                for c in range(3):
                    v = q0[y, x, c] + cands[i, c] * np.sign(preds[c] - q0[y, x, c])
                    value[i, c] = min(max(v, 0), top[c])
                d0 = value[i, 0] - q0[y, x, 0] + 2
                d1 = value[i, 1] - q0[y, x, 1] + 2
                d2 = value[i, 2] - q0[y, x, 2] + 2
                cost[i] = lam * de[y, x, d0 * 25 + d1 * 5 + d2]
                for c in range(3):
                    cost[i] += bits[first, c, abs(value[i, c] - preds[c])]
            q[y, x] = value[np.argmin(cost)]
    return q
