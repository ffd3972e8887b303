"""A trained prompt model for the semantic layer: word trigram/bigram + a byte-level escape.

    text --tokenize--> [" a", " cute", " fennec", ",", ...] --model--> probabilities
         --coding.symbols.Encoder.categorical--> bytes

Tokens are GPT-2-like (a word with its leading space, a number, a punctuation run, a space
run), so ``"".join(tokenize(t)) == t`` for every string. Each token is coded with an
interpolated Witten-Bell trigram over a fixed vocabulary, plus an end symbol; a token outside
the vocabulary is coded as ESC followed by its UTF-8 bytes under a byte-bigram model, so any
Unicode text round-trips exactly. Probabilities are computed in integers, so encoder and
decoder agree on every machine. The model file is pinned by its SHA-256 (registry code
SEM_PROMPT_MODEL_V1); ``scripts/train_prompt_model.py`` makes it from the prompts listed in
``assets/README.md``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..coding.symbols import Decoder, Encoder
from ..errors import FormatError
from ..format.limits import MAX_ESC_BYTES, MAX_PROMPT_TOKENS
from .pinned import read_npz

MODEL_PATH = Path(__file__).parent / "assets" / "prompt_model_v1.npz"
MODEL_SHA256 = "51b33356f929fb5e6d96108b05f417691e24e49a1c14cfb77aaa68dfd1bdfe95"
TOKEN_RE = re.compile(r" ?[^\W\d_]+| ?\d+| ?_+| ?[^\w\s]+|\s+(?!\S)|\s+")
EOS, ESC = 0, 1
SCALE = 1 << 16  # integer probability scale of the unigram


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


class PromptModel:
    """Vocabulary, unigram, bigram and trigram counts, byte-bigram escape counts."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.vocab = arrays["vocab"].tobytes().decode("utf-8").split("\0")
        self.index = {t: i for i, t in enumerate(self.vocab)}
        uni = arrays["unigram"].astype(np.int64)
        self.uni = uni * SCALE // uni.sum() + 1  # integer unigram, never zero
        self.bi = (arrays["bi_ptr"], arrays["bi_idx"], arrays["bi_cnt"])
        self.tri_keys = arrays["tri_keys"]  # sorted (h2 * V + h1)
        self.tri = (arrays["tri_ptr"], arrays["tri_idx"], arrays["tri_cnt"])
        self.byte_counts = arrays["byte_counts"].astype(np.int64) + 1  # (257 prev, 257 next)

    def _interp(self, lower: np.ndarray, ptr, idx, cnt, row: int) -> np.ndarray:
        lo, hi = int(ptr[row]), int(ptr[row + 1])
        if lo == hi:
            return lower
        ids, counts = idx[lo:hi], cnt[lo:hi].astype(np.int64)
        total, types = int(counts.sum()), hi - lo
        out = lower * types  # Witten-Bell: (c(h,t) * S + T(h) * P_lower(t)) / (c(h) + T(h))
        out[ids] += counts * int(lower.sum())
        return out // max(1, (total + types) // 64 + 1) + 1

    def probs(self, h2: int, h1: int) -> np.ndarray:
        """Integer (unnormalized) probabilities of the next token after ``h2, h1``."""
        p = self._interp(self.uni.copy(), *self.bi, row=h1)
        key = h2 * len(self.vocab) + h1
        pos = int(np.searchsorted(self.tri_keys, key))
        if pos < len(self.tri_keys) and self.tri_keys[pos] == key:
            p = self._interp(p, *self.tri, row=pos)
        return p.astype(np.float64)

    def encode(self, text: str) -> bytes:
        enc, h2, h1 = Encoder(), EOS, EOS
        for tok in tokenize(text):
            tid = self.index.get(tok, ESC) if tok not in ("", "\0") else ESC
            enc.categorical(tid, self.probs(h2, h1))
            if tid == ESC:
                prev = 256
                for b in [*tok.encode("utf-8"), 256]:
                    enc.categorical(b, self.byte_counts[prev])
                    prev = b
            h2, h1 = h1, tid
        enc.categorical(EOS, self.probs(h2, h1))
        return enc.to_bytes()

    def decode(self, data: bytes) -> str:
        dec, h2, h1, out = Decoder(data, "semantic payload"), EOS, EOS, []
        for _ in range(MAX_PROMPT_TOKENS):
            tid = dec.categorical(self.probs(h2, h1))
            if tid == EOS:
                try:
                    return "".join(out)
                except UnicodeDecodeError:
                    break
            if tid == ESC:
                raw, prev = bytearray(), 256
                for _ in range(MAX_ESC_BYTES + 1):
                    prev = dec.categorical(self.byte_counts[prev])
                    if prev == 256:
                        break
                    raw.append(prev)
                try:
                    out.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    raise FormatError("semantic payload: escaped word is not UTF-8") from None
            else:
                out.append(self.vocab[tid])
            h2, h1 = h1, tid
        raise FormatError("semantic payload: no end symbol within the token limit")


@lru_cache(maxsize=1)
def load_model(path: str = str(MODEL_PATH)) -> PromptModel:
    return PromptModel(read_npz(Path(path), MODEL_SHA256, "prompt model"))
