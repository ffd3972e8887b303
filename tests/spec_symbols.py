"""A second decoder of the symbol-coded payloads (semantic codecs 1 and 4, pose codec 1),
written from docs/FORMAT.md (sections 5, 7, 10.2 and 10.3) alone: it imports nothing of
aigic's coders or models, so where it agrees with aigic on the test vectors, the spec says
enough to decode them. Plain Python: for small test vectors only."""

from __future__ import annotations

from fractions import Fraction

ONE24 = 1 << 24
MASK64 = (1 << 64) - 1


def _pairwise_sum(a: list[float]) -> float:
    """10.2: NumPy's pairwise summation of binary64 values."""
    n = len(a)
    if n < 8:
        total = 0.0
        for x in a:
            total += x
        return total
    if n <= 128:
        r, i = list(a[:8]), 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += a[i + j]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for x in a[i:]:
            total += x
        return total
    m = n // 2
    m -= m % 8
    return _pairwise_sum(a[:m]) + _pairwise_sum(a[m:])


def _cumulative(p: list[float]) -> list[int]:
    """10.2: c_0 .. c_k of probabilities p (already what the caller divided)."""
    k = len(p)
    total = 0.0
    for x in p:
        total += x
    scale = (ONE24 - k) / total
    out, acc = [], 0.0
    for i, x in enumerate(p):
        out.append(int(acc * scale) + i)
        acc += x
    return [*out, ONE24]


def categorical_table(weights) -> list[int]:
    w = [max(float(x), 1e-9) for x in weights]
    s = _pairwise_sum(w)
    return _cumulative([x / s for x in w])


def binary_table(p1: float) -> list[int]:
    p = min(max(p1, 1 / 4096), 1 - 1 / 4096)
    return _cumulative([1 - p, p])


class RangeDecoder:
    """10.2's decoder over 32-bit little-endian words."""

    def __init__(self, body: bytes):
        assert len(body) % 4 == 0, "whole 32-bit words"
        self.words = [int.from_bytes(body[i : i + 4], "little") for i in range(0, len(body), 4)]
        self.next = 2
        w = self.words + [0, 0]
        self.lower, self.range, self.point = 0, MASK64, (w[0] << 32) | w[1]

    def symbol(self, table: list[int]) -> int:
        scale = self.range >> 24
        q = ((self.point - self.lower) & MASK64) // scale
        if q >= ONE24:
            raise ValueError("damaged")
        i = next(i for i in range(len(table) - 1) if table[i] <= q < table[i + 1])
        self.lower = (self.lower + scale * table[i]) & MASK64
        self.range = scale * (table[i + 1] - table[i])
        if self.range < 1 << 32:
            self.lower = (self.lower << 32) & MASK64
            self.range <<= 32
            word = self.words[self.next] if self.next < len(self.words) else 0
            self.next += 1
            self.point = ((self.point << 32) & MASK64) | word
        return i


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        value |= (data[pos] & 0x7F) << shift
        shift += 7
        pos += 1
        if not data[pos - 1] & 0x80:
            return value, pos


# ---- semantic codec 1 (section 5) ----------------------------------------------------------
def _rows(ptr, idx, cnt, row):
    lo, hi = int(ptr[row]), int(ptr[row + 1])
    return [int(i) for i in idx[lo:hi]], [int(c) for c in cnt[lo:hi]]


def _witten_bell(lower: list[int], ids: list[int], counts: list[int]) -> list[int]:
    if not ids:
        return lower
    total, types, mass = sum(counts), len(ids), sum(lower)
    out = [x * types for x in lower]
    for i, c in zip(ids, counts):
        out[i] += c * mass
    div = max(1, (total + types) // 64 + 1)
    return [x // div + 1 for x in out]


class PromptV1:
    def __init__(self, model: dict):
        self.m = model
        self.vocab = bytes(model["vocab"]).decode("utf-8").split("\0")
        uni = [int(x) for x in model["unigram"]]
        s = sum(uni)
        self.u = [x * (1 << 16) // s + 1 for x in uni]
        self.keys = {int(k): i for i, k in enumerate(model["tri_keys"])}

    def table(self, h2: int, h1: int) -> list[int]:
        m, v = self.m, len(self.vocab)
        t = _witten_bell(self.u, *_rows(m["bi_ptr"], m["bi_idx"], m["bi_cnt"], h1))
        row = self.keys.get(h2 * v + h1)
        if row is not None:
            t = _witten_bell(t, *_rows(m["tri_ptr"], m["tri_idx"], m["tri_cnt"], row))
        return t

    def spelled(self, read) -> str:
        raw, prev = bytearray(), 256
        for _ in range(257):
            prev = read([int(x) + 1 for x in self.m["byte_counts"][prev]])
            if prev == 256:
                return raw.decode("utf-8")
            raw.append(prev)
        raise ValueError("escaped word too long")

    def decode(self, body: bytes) -> str:
        dec = RangeDecoder(body)
        read = lambda weights: dec.symbol(categorical_table(weights))
        h2 = h1 = 0
        out = []
        for _ in range(4096):
            s = read(self.table(h2, h1))
            if s == 0:
                return "".join(out)
            out.append(self.spelled(read) if s == 1 else self.vocab[s])
            h2, h1 = h1, s
        raise ValueError("no end symbol")


# ---- semantic codec 4 (sections 5 and 10.3) ------------------------------------------------
class ExactDecoder:
    """10.3: decode from the body's exact value int(b) / 256^len(b), in fractions."""

    def __init__(self, body: bytes):
        self.value = Fraction(int.from_bytes(body, "big"), 256 ** len(body))
        self.low, self.width = Fraction(0), Fraction(1)

    def symbol(self, f: list[int]) -> int:
        total = sum(f)
        target = (self.value - self.low) / self.width * total
        cum = 0
        for s, fs in enumerate(f):
            if cum <= target < cum + fs:
                self.low += self.width * Fraction(cum, total)
                self.width *= Fraction(fs, total)
                return s
            cum += fs
        raise ValueError("value past the interval")


class PromptV2(PromptV1):
    Q, ONE = 1 << 30, 1 << 24

    def __init__(self, model: dict):
        super().__init__(model)
        cont = [int(x) for x in model["uni_cont"]]
        s = sum(cont)
        self.u0 = [c * self.Q // s for c in cont]

    def _level(self, lower: list[int], ids: list[int], counts: list[int], d: int) -> list[int]:
        total, types = sum(counts), len(counts)
        out = [x * (d * types) // (16 * total) for x in lower]
        for i, c in zip(ids, counts):
            out[i] += (16 * c - d) * self.Q // (16 * total)
        return out

    def trigram(self, h2: int, h1: int) -> list[int]:
        m, v = self.m, len(self.vocab)
        ids, raw = _rows(m["bi_ptr"], m["bi_idx"], m["bi_cnt"], h1)
        _, cont = _rows(m["bi_ptr"], m["bi_idx"], m["bi_cont"], h1)
        row = self.keys.get(h2 * v + h1)
        if row is not None:
            t = self._level(self.u0, ids, cont, 13) if ids else self.u0
            t = self._level(t, *_rows(m["tri_ptr"], m["tri_idx"], m["tri_cnt"], row), 15)
        elif ids:
            t = self._level(self.u0, ids, raw, 15)
        else:
            t = self.u0
        return [x + 1 for x in t]

    def decode(self, body: bytes) -> str:
        dec, v = ExactDecoder(body), len(self.vocab)
        words: list[str] = []
        uni: dict[int, int] = {}
        follow: dict[int, dict[int, int]] = {}
        ctx = lambda s: 1 if s >= v else s
        h2 = h1 = 0
        out = []
        for _ in range(4096):
            t = self.trigram(ctx(h2), ctx(h1))
            n_coded = sum(uni.values())
            wu = 1 << 18 if n_coded else 0
            after = follow.get(h1, {})
            n = sum(after.values())
            wb = (1 << 22) * n // (n + 2)
            st = sum(t)
            table = [1 + x * (self.ONE - wu - wb) // st for x in t] + [1] * len(words)
            for s, c in uni.items():
                table[s] += wu * c // n_coded
            for s, c in after.items():
                table[s] += wb * c // n
            s = dec.symbol(table)
            if s == 0:
                return "".join(out)
            if s == 1:
                word = self.spelled(dec.symbol)
                assert word and word not in words and word not in self.vocab
                words.append(word)
                s = v + len(words) - 1
            out.append(words[s - v] if s >= v else self.vocab[s])
            uni[s] = uni.get(s, 0) + 1
            follow.setdefault(h1, {})
            follow[h1][s] = follow[h1].get(s, 0) + 1
            h2, h1 = h1, s
        raise ValueError("no end symbol")


def decode_semantic(payload: bytes, v1: dict, v2: dict) -> str:
    codec, body = payload[0], payload[1:]
    if codec == 1:
        return PromptV1(v1).decode(body)
    if codec == 4:
        return PromptV2(v2).decode(body)
    raise ValueError(f"codec {codec} is not symbol coded")


# ---- pose codec 1 (section 7) --------------------------------------------------------------
PARENT = {0: 1, 2: 1, 3: 2, 4: 3, 5: 1, 6: 5, 7: 6, 8: 1, 9: 8, 10: 9, 11: 1, 12: 11, 13: 12,
          14: 0, 15: 0, 16: 14, 17: 15}  # fmt: skip


def decode_pose(payload: bytes) -> list[list[list[int] | None]]:
    """The keypoints per person: 18 entries, [x, y] on the lattice or None."""
    codec, kind, bits = payload[0], payload[1], payload[2]
    assert (codec, kind) == (1, 2)
    people, pos = _varint(payload, 3)
    dec, n = RangeDecoder(payload[pos:]), 1 << bits
    g = 0.85 ** (2.0 ** (7 - bits))
    out = []
    for _ in range(people):
        present = [dec.symbol(binary_table(0.8)) == 1 for _ in range(18)]
        points: list[list[int] | None] = [None] * 18
        for k in [1, 0, *range(2, 18)]:
            if not present[k]:
                continue
            a = PARENT.get(k)
            while a is not None and not present[a]:
                a = PARENT.get(a)
            xy = []
            for c in range(2):
                if a is None:
                    weights = [1.0] * n
                else:
                    weights = [max(g ** abs(v - points[a][c]), 1e-9) for v in range(n)]
                xy.append(dec.symbol(categorical_table(weights)))
            points[k] = xy
        out.append(points)
    return out
