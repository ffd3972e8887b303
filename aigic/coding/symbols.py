"""Thin wrappers over constriction's range coder, with an explicit byte order.

    symbols + probabilities --Encoder--> uint32 words --little-endian--> bytes
    bytes --Decoder--> the same symbols, given the same probabilities (the caller's model)

constriction has no adaptive models: callers compute probabilities (from counts, contexts,
predictions) and pass them per symbol. Encoding and decoding must call the same methods in
the same order with the same probabilities. Any failure while decoding damaged bytes becomes
a :class:`FormatError`.
"""

from __future__ import annotations

import numpy as np

from ..errors import FormatError

P_MIN = 1.0 / 4096  # probabilities are clipped to [P_MIN, 1 - P_MIN] on both sides


def _constriction():
    import constriction

    return constriction


def _bernoulli():
    return _constriction().stream.model.Bernoulli(perfect=False)


def _clip(p) -> np.ndarray:
    return np.clip(np.asarray(p, dtype=np.float64), P_MIN, 1.0 - P_MIN)


def _normalize(probs) -> np.ndarray:
    p = np.maximum(np.asarray(probs, dtype=np.float64), 1e-9)
    return p / p.sum(axis=-1, keepdims=True)


class Encoder:
    """Collects symbols; :meth:`to_bytes` seals the range coder."""

    def __init__(self) -> None:
        self._enc = _constriction().stream.queue.RangeEncoder()

    def bits(self, bits, p1) -> None:
        """Binary symbols with P(1) given per symbol."""
        bits = np.asarray(bits, dtype=np.int32).ravel()
        if bits.size:
            self._enc.encode(bits, _bernoulli(), _clip(p1).ravel())

    def categorical(self, symbol: int, probs) -> None:
        """One symbol in ``0..len(probs)-1``."""
        model = _constriction().stream.model.Categorical(_normalize(probs), perfect=False)
        self._enc.encode(int(symbol), model)

    def uniform(self, value: int, size: int) -> None:
        """One integer in ``0..size-1``, all equally likely."""
        self.categorical(value, np.ones(size))

    def to_bytes(self) -> bytes:
        return self._enc.get_compressed().astype("<u4").tobytes()


class Decoder:
    """Reads what an :class:`Encoder` wrote, given the same model calls."""

    def __init__(self, data: bytes, what: str = "payload") -> None:
        if len(data) % 4:
            raise FormatError(f"{what}: coded data of {len(data)} bytes is not whole 32-bit words")
        self.what = what
        words = np.frombuffer(data, dtype="<u4").astype(np.uint32)
        self._dec = _constriction().stream.queue.RangeDecoder(words)

    def _fail(self, exc: Exception) -> FormatError:
        return FormatError(f"{self.what}: coded data is damaged ({exc})")

    def bits(self, p1) -> np.ndarray:
        p = _clip(p1).ravel()
        if not p.size:
            return np.zeros(0, dtype=np.int32)
        try:
            return np.asarray(self._dec.decode(_bernoulli(), p), dtype=np.int32)
        except Exception as exc:  # noqa: BLE001 (constriction raises plain errors on bad data)
            raise self._fail(exc) from None

    def bit(self, p1: float) -> int:
        return int(self.bits([p1])[0])

    def categorical(self, probs) -> int:
        model = _constriction().stream.model.Categorical(_normalize(probs), perfect=False)
        try:
            return int(self._dec.decode(model))
        except Exception as exc:  # noqa: BLE001 (constriction raises anything on bad data)
            raise self._fail(exc) from None

    def uniform(self, size: int) -> int:
        return self.categorical(np.ones(size))
