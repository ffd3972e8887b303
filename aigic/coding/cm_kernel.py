"""The compiled kernel of the binary-map coder: contexts, mixer, arithmetic coder, predictor.

    map (H, W) of {0,1}, raster order; for each pixel:
        5 causal contexts (templates of 6, 10, 16, 28 neighbours; run and nearest-edge offsets)
        --adaptive counters--> 5 predictions --stretch--> mixer (weights chosen by the 6-pixel
        context, trained online) --squash--> P(1) --averaged with an APM on the 10-pixel
        context--> 12-bit probability --carry-less 32-bit binary arithmetic coder--> bytes
        (optionally a sixth mixer input: the log-odds of a trained integer network over a
        7-row causal window, whose weights the caller passes in)

Everything is integer arithmetic (no floating point, no libm), so an encoder and a decoder on
different machines compute the same probabilities bit for bit. All compiled code of the coder,
the network's inference too, is in this one file: numba's on-disk cache follows a function's
own file, not what it calls, so splitting it would risk stale machine code. The Python entry
points are in binary_maps.py; the bit-level specification is docs/FORMAT.md ("Edge maps").
"""

from __future__ import annotations

import numpy as np
from numba import njit

PAD = 16  # zero rows above and columns each side that the contexts may read
LIMIT = 255  # counters adapt at rate 1/(n + 1.5), n capped here
N_CTX = 5
N_IN = N_CTX + 2  # mixer inputs: one per context, a bias, the learned predictor (codecs 3, 4)
LR = 14  # mixer learning rate (weights are 16.16 fixed point)
LR3 = 6  # the same for codecs 3 and 4
FAR = 16  # nearest-edge offsets are looked for within FAR - 1 pixels

_SQ = np.array(
    [1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047, 2549, 2994,
     3348, 3607, 3785, 3901, 3975, 4022, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094],
    dtype=np.int64,
)  # fmt: skip


@njit(cache=True)
def _squash(d):
    """Logistic function in integers: stretch domain (-2047..2047) -> 12-bit probability."""
    if d > 2047:
        return 4095
    if d < -2047:
        return 1
    w = d & 127
    i = (d >> 7) + 16
    return (_SQ[i] * (128 - w) + _SQ[i + 1] * w + 64) >> 7


@njit(cache=True)
def _stretch_table():
    """Inverse of :func:`_squash` for every 12-bit probability."""
    t = np.full(4096, 2047, dtype=np.int64)
    pi = 0
    for x in range(-2047, 2048):
        v = _squash(x)
        for j in range(pi, v + 1):
            t[j] = x
        pi = max(pi, v + 1)
    return t


@njit(cache=True)
def _hash_bits(h, w):
    """Size (log2) of the hashed tables: grows with the map, 12..22 bits."""
    n = 12
    while n < 22 and (1 << (n - 2)) < h * w:
        n += 1
    return n


@njit(cache=True)
def _nearest(img, yy, w, out):
    """For each column of padded row ``yy``: offset code of its nearest 1 (0 = none in reach)."""
    left = np.full(w + 2 * PAD, FAR, dtype=np.int64)
    right = np.full(w + 2 * PAD, FAR, dtype=np.int64)
    for x in range(1, w + 2 * PAD):
        left[x] = 0 if img[yy, x] else min(left[x - 1] + 1, FAR)
    for x in range(w + 2 * PAD - 2, -1, -1):
        right[x] = 0 if img[yy, x] else min(right[x + 1] + 1, FAR)
    for x in range(w + 2 * PAD):
        if min(left[x], right[x]) >= FAR:
            out[x] = 0
        elif left[x] <= right[x]:
            out[x] = FAR - left[x]
        else:
            out[x] = FAR + right[x]


@njit(cache=True)
def _contexts(img, yy, xx, run0, near1, near2, hmask):
    """The five contexts of the pixel at padded position (yy, xx)."""
    r0, r1, r2, r3 = img[yy], img[yy - 1], img[yy - 2], img[yy - 3]
    a = r0[xx - 1] | r0[xx - 2] << 1 | r1[xx - 1] << 2 | r1[xx] << 3 | r1[xx + 1] << 4
    a |= r2[xx] << 5
    b = a | r1[xx - 2] << 6 | r1[xx + 2] << 7 | r2[xx - 1] << 8 | r2[xx + 1] << 9
    c = b | r0[xx - 3] << 10 | r0[xx - 4] << 11 | r1[xx - 3] << 12 | r1[xx + 3] << 13
    c |= r2[xx - 2] << 14 | r2[xx + 2] << 15
    d = c | r3[xx - 1] << 16 | r3[xx] << 17 | r3[xx + 1] << 18 | r2[xx - 3] << 19
    d |= r2[xx + 3] << 20 | r1[xx - 4] << 21 | r1[xx + 4] << 22 | r3[xx - 2] << 23
    d |= r3[xx + 2] << 24 | r0[xx - 5] << 25 | r1[xx - 5] << 26 | r1[xx + 5] << 27
    e = run0 | near1[xx] << 4 | near2[xx] << 9 | r0[xx - 1] << 14
    return a, b, c, ((d * 2654435761) >> 7) & hmask, ((e * 2654435761 + 12345) >> 7) & hmask


@njit(cache=True)
def _tables(h, w):
    hb = _hash_bits(h, w)
    sizes = (64, 1024, 65536, 1 << hb, 1 << hb)
    probs = [np.full(s, 32768, dtype=np.int32) for s in sizes]
    counts = [np.zeros(s, dtype=np.uint8) for s in sizes]
    apm = np.zeros((1024, 33), dtype=np.int64)
    for j in range(33):
        apm[:, j] = _squash((j - 16) * 128) * 16
    rec = np.array([(65536 * 2) // (2 * n + 3) for n in range(LIMIT + 1)], dtype=np.int64)
    return probs, counts, apm, rec, (1 << hb) - 1


@njit(cache=True, inline="always")
def _predict(model, idx, ins, s2):
    """P(1) of the next pixel (12 bits), and what learning needs: mixer output, APM bucket.
    ``s2`` >= 0 (codecs 3, 4): the weights are the mean of two sets, chosen by ``idx[0]`` and s2."""
    st, probs, _, weights, apm, _, weights2 = model
    a, b = idx[0], idx[1]
    for k in range(N_CTX):
        ins[k] = st[probs[k][idx[k]] >> 4]
    dot = 0
    if s2 >= 0:
        for k in range(N_IN):
            dot += ((weights[a, k] + weights2[s2, k]) >> 1) * ins[k]
    else:
        for k in range(N_IN):
            dot += weights[a, k] * ins[k]
    pm = _squash(dot >> 16)
    s = min(max(st[pm] + 2048, 0), 4095)  # APM: interpolate 2 of 33 buckets
    lo, wt = s >> 7, s & 127
    pa = (apm[b, lo] * (128 - wt) + apm[b, lo + 1] * wt) >> 11
    return min(max((pm + pa) >> 1, 1), 4095), pm, lo, wt


@njit(cache=True, inline="always")
def _learn(model, idx, ins, s2, bit, pm, lo, wt):
    """Update the counters, the mixer weights and the APM buckets with the coded ``bit``."""
    _, probs, counts, weights, apm, rec, weights2 = model
    a, b = idx[0], idx[1]
    for k in range(N_CTX):
        n, pk = counts[k][idx[k]], probs[k][idx[k]]
        probs[k][idx[k]] = pk + ((((bit << 16) - pk) * rec[n]) >> 16)
        counts[k][idx[k]] = min(n + 1, LIMIT)
    err = ((bit << 12) - pm) * (LR if s2 < 0 else LR3)
    for k in range(N_IN):
        weights[a, k] += (ins[k] * err) >> 16
    if s2 >= 0:
        for k in range(N_IN):
            weights2[s2, k] += (ins[k] * err) >> 16
    apm[b, lo] += ((bit * 65535 - apm[b, lo]) * (128 - wt)) >> 13
    apm[b, lo + 1] += ((bit * 65535 - apm[b, lo + 1]) * wt) >> 13


@njit(cache=True, inline="always")
def _code_bit(x1, x2, x, pos, n_out, bit, p, data, out, decoding):
    """One bit with P(1) = p / 4096 through the carry-less coder: interval [x1, x2], code value
    ``x`` and read position ``pos`` (decoding), bytes written ``n_out`` (encoding). Returns the
    new state and the bit (the decoded one when ``decoding``)."""
    xmid = x1 + ((x2 - x1) >> 12) * p + ((((x2 - x1) & 0xFFF) * p) >> 12)
    if decoding:
        bit = 1 if x <= xmid else 0
    if bit:
        x2 = xmid
    else:
        x1 = xmid + 1
    while ((x1 ^ x2) & 0xFF000000) == 0:
        if decoding:
            x = ((x << 8) & 0xFFFFFFFF) | (data[pos] if pos < data.size else 0)
            pos += 1
        else:
            out[n_out] = x2 >> 24
            n_out += 1
        x1 = (x1 << 8) & 0xFFFFFFFF
        x2 = ((x2 << 8) & 0xFFFFFFFF) | 255
    return x1, x2, x, pos, n_out, bit


# ---- the learned predictor (weights and window from edgenet.py) ------------------------------
@njit(cache=True)
def net_predict(img, yy, xx, net, h1, h2, scale):
    """(log-odds in stretch units that padded pixel (yy, xx) is an edge, work done), from the
    pixels already coded. An empty window gives (-32768, 0): the caller has its constant.
    Work counts weight additions, for the caller's budget."""
    dy, dx, w1, b1, w2, b2, w3, b3 = net
    h1[:] = b1
    active = 0
    for i in range(dy.size):
        if img[yy + dy[i], xx + dx[i]]:
            active += 1
            for j in range(h1.size):
                h1[j] += w1[i, j]
    if active == 0:
        return -32768, 0
    out = _net_head(h1, h2, w2, b2, w3, b3, scale)
    return out, (active + 1) * h1.size + h2.size * (h1.size + 1)


@njit(cache=True)
def net_empty(net, h1, h2, scale):
    """The prediction for an empty window (no edge in reach), computed once per map."""
    h1[:] = net[3]
    return _net_head(h1, h2, net[4], net[5], net[6], net[7], scale)


@njit(cache=True)
def _net_head(h1, h2, w2, b2, w3, b3, scale):
    """ReLU, the optional second layer, the output: log-odds from fixed point 2^(2 scale) to
    stretch units (2^8 per nat), clipped."""
    for j in range(h1.size):
        h1[j] = max(h1[j], 0)
    z = b3[0]
    if w2.size:
        for k in range(h2.size):
            acc = b2[k]
            for j in range(h1.size):
                acc += h1[j] * w2[j, k]
            h2[k] = max(acc, 0) >> scale
            z += h2[k] * w3[k]
    else:
        for j in range(h1.size):
            z += h1[j] * w3[j]
    return min(max(z >> (2 * scale - 8), -2047), 2047)


@njit(cache=True, nogil=True)
def run(bits, h, w, data, decoding, net, learned, scale, work_limit):
    """Code ``bits`` (h, w) into bytes, or decode ``data``; returns (map, coded bytes).
    ``learned``: the edge predictor ``net`` is a mixer input (else that input stays 0)."""
    probs, counts, apm, rec, hmask = _tables(h, w)
    weights = np.full((64, N_IN), 1 << 14, dtype=np.int64)
    h1, h2 = np.zeros(net[3].size, dtype=np.int32), np.zeros(net[5].size, dtype=np.int64)
    empty, work = 0, 0
    if learned:  # the predictor starts trusted, the contexts at 1/16 until they have learnt
        weights[:, :N_CTX] = 1 << 12
        weights[:, N_CTX + 1] = 1 << 16
        empty = net_empty(net, h1, h2, scale)
    weights2 = weights[:16].copy()
    model = (_stretch_table(), probs, counts, weights, apm, rec, weights2)
    img = np.zeros((h + PAD, w + 2 * PAD), dtype=np.int64)
    near1 = np.zeros(w + 2 * PAD, dtype=np.int64)
    near2 = np.zeros(w + 2 * PAD, dtype=np.int64)
    out = np.zeros(h * w * 2 + 16, dtype=np.uint8)
    x1, x2, x, pos, n_out = 0, 0xFFFFFFFF, 0, 4, 0
    for i in range(4 if decoding else 0):
        x = (x << 8) | (data[i] if i < data.size else 0)
    ins = np.zeros(N_IN, dtype=np.int64)
    ins[N_CTX] = 256  # the bias
    idx = np.zeros(N_CTX, dtype=np.int64)
    for y in range(h):
        yy, run0 = y + PAD, FAR - 1
        near2[:] = near1
        _nearest(img, yy - 1, w, near1)
        for xp in range(w):
            idx[:] = _contexts(img, yy, xp + PAD, run0, near1, near2, hmask)
            if learned and work < work_limit:
                e, done = net_predict(img, yy, xp + PAD, net, h1, h2, scale)
                ins[N_CTX + 1] = empty if e == -32768 else e
                work += done
            elif learned:
                ins[N_CTX + 1] = 0
            s2 = min(max(ins[N_CTX + 1] + 2048, 0), 4095) >> 8 if learned else -1
            p, pm, lo, wt = _predict(model, idx, ins, s2)
            bit = 0 if decoding else np.int64(bits[y, xp])
            x1, x2, x, pos, n_out, bit = _code_bit(
                x1, x2, x, pos, n_out, bit, p, data, out, decoding
            )
            img[yy, xp + PAD] = bit
            run0 = 0 if bit else min(run0 + 1, FAR - 1)
            _learn(model, idx, ins, s2, bit, pm, lo, wt)
    if not decoding and x1 != 0:  # one byte inside (x1, x2] ends the interval
        out[n_out] = (x1 >> 24) + 1
        n_out += 1
    while n_out and out[n_out - 1] == 0:
        n_out -= 1
    return img[PAD:, PAD : PAD + w].astype(np.uint8), out[:n_out].copy()
