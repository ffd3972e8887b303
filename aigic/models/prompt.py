"""The trained prompt models of the semantic layer: word trigrams + a byte-level escape.

    text --tokenize--> [" a", " cute", " fennec", ",", ...] --model--> probabilities
         --v1: coding.symbols.Encoder.categorical (range coder)--> bytes
         --v2 (CachedPromptModel: Kneser-Ney, a cache of the prompt so far):
           coding.exact.ExactEncoder--> bytes

Tokens are GPT-2-like (a word with its leading space, a number, a punctuation run, a space
run), so ``"".join(tokenize(t)) == t`` for every string. Each token is coded with an
interpolated Witten-Bell trigram over a fixed vocabulary, plus an end symbol; a token outside
the vocabulary is coded as ESC followed by its UTF-8 bytes under a byte-bigram model, so any
Unicode text round-trips exactly. Probabilities are computed in integers, so encoder and
decoder agree on every machine. The model file is pinned by its SHA-256 (registry code
SEM_PROMPT_MODEL_V1; v2's, SEM_PROMPT_MODEL_V2); ``scripts/train_prompt_model.py`` makes
both from the prompts listed in ``assets/README.md``.
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
MODEL_V2_PATH = Path(__file__).parent / "assets" / "prompt_model_v2.npz"
MODEL_V2_SHA256 = "80d67745c4a143cf4558739d0757969222798babe777e288e20063fce26a3935"
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

    def counts(self, h2: int, h1: int) -> np.ndarray:
        """Integer (unnormalized, all >= 1) probabilities of the next token after ``h2, h1``."""
        p = self._interp(self.uni.copy(), *self.bi, row=h1)
        key = h2 * len(self.vocab) + h1
        pos = int(np.searchsorted(self.tri_keys, key))
        if pos < len(self.tri_keys) and self.tri_keys[pos] == key:
            p = self._interp(p, *self.tri, row=pos)
        return p

    def probs(self, h2: int, h1: int) -> np.ndarray:
        return self.counts(h2, h1).astype(np.float64)

    def _spell(self, write, word: str) -> None:
        """An escaped word's UTF-8 bytes and an end, each by ``write(symbol, counts)``."""
        prev = 256
        for b in [*word.encode("utf-8"), 256]:
            write(b, self.byte_counts[prev])
            prev = b

    def _spelled(self, read) -> str:
        """The word :meth:`_spell` wrote, each symbol by ``read(counts)``."""
        raw, prev = bytearray(), 256
        for _ in range(MAX_ESC_BYTES + 1):
            prev = read(self.byte_counts[prev])
            if prev == 256:
                break
            raw.append(prev)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("semantic payload: escaped word is not UTF-8") from None

    def encode(self, text: str) -> bytes:
        enc, h2, h1 = Encoder(), EOS, EOS
        for tok in tokenize(text):
            tid = self.index.get(tok, ESC) if tok not in ("", "\0") else ESC
            enc.categorical(tid, self.probs(h2, h1))
            if tid == ESC:
                self._spell(enc.categorical, tok)
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
                out.append(self._spelled(dec.categorical))
            else:
                out.append(self.vocab[tid])
            h2, h1 = h1, tid
        raise FormatError("semantic payload: no end symbol within the token limit")


class CachedPromptModel(PromptModel):
    """Prompt model v2 (SEM_PROMPT_MODEL_V2): v1's tokens under a Kneser-Ney trigram
    (retrained, see scripts/train_prompt_model.py --v2) mixed with a cache of the prompt so
    far, coded exactly (coding.exact) instead of in 32-bit words.

    P(t) = (1 - wu - wb) · trigram(t | h2, h1) + wu · unigram cache(t) + wb · bigram cache(t | h1),
    in integers over ONE; wu applies once a symbol has been coded, wb grows with how often h1
    has been followed so far (wb = WB · n / (n + WB_HALF)). A word
    coded once by escape joins the symbol set (id V, V+1, ... in order of first use), so it is
    spelled only once however often a prompt repeats it; phrases repeated across the regions
    of a regional prompt become cheap through the bigram cache. For the trigram's context an
    escaped word is ESC, as in v1.
    """

    ONE = 1 << 24
    Q = 1 << 30  # the scale of the smoothed trigram
    D_BI, D_TRI = 13, 15  # absolute discounts in 1/16, chosen on a validation split
    WU, WB, WB_HALF = 1 << 18, 1 << 22, 2  # cache weights (in ONE), chosen the same way

    def __init__(self, arrays: dict[str, np.ndarray]):
        super().__init__(arrays)
        cont = arrays["uni_cont"].astype(np.int64)
        self.base = cont * self.Q // int(cont.sum())
        self.bi_cont = arrays["bi_cont"]

    @staticmethod
    def _discounted(lower: np.ndarray, ids, counts: np.ndarray, d: int) -> np.ndarray:
        """Interpolated absolute discounting: (max(c - d/16, 0) + d/16 · types · lower / Q) / total."""
        total, types = int(counts.sum()), len(counts)
        out = lower * (d * types) // (16 * total)
        out[ids] += (16 * counts - d) * CachedPromptModel.Q // (16 * total)
        return out

    def counts(self, h2: int, h1: int) -> np.ndarray:
        """Interpolated Kneser-Ney: the trigram over the bigram's continuation counts over the
        unigram's, or, where the trigram has no such context, the bigram's raw counts."""
        lo, hi = int(self.bi[0][h1]), int(self.bi[0][h1 + 1])
        ids = self.bi[1][lo:hi]
        key = h2 * len(self.vocab) + h1
        pos = int(np.searchsorted(self.tri_keys, key))
        if pos < len(self.tri_keys) and self.tri_keys[pos] == key:
            p = self.base.copy()
            if hi > lo:
                p = self._discounted(p, ids, self.bi_cont[lo:hi].astype(np.int64), self.D_BI)
            t0, t1 = int(self.tri[0][pos]), int(self.tri[0][pos + 1])
            tri = self.tri[2][t0:t1].astype(np.int64)
            return self._discounted(p, self.tri[1][t0:t1], tri, self.D_TRI) + 1
        if hi == lo:
            return self.base + 1
        return (
            self._discounted(self.base.copy(), ids, self.bi[2][lo:hi].astype(np.int64), self.D_TRI)
            + 1
        )

    def _mixed(self, h2: int, h1: int, state: _Cache) -> np.ndarray:
        """The integer table of the next symbol: vocabulary, then the words escaped so far."""
        static = self.counts(state.ctx(h2), state.ctx(h1))
        wu = self.WU if state.total else 0
        follow = state.bigram.get(h1)
        n = sum(follow.values()) if follow else 0
        wb = self.WB * n // (n + self.WB_HALF)
        p = np.ones(len(self.vocab) + len(state.words), dtype=np.int64)
        p[: len(self.vocab)] += static * (self.ONE - wu - wb) // int(static.sum())
        for t, c in state.unigram.items():
            p[t] += wu * c // state.total
        if follow:
            for t, c in follow.items():
                p[t] += wb * c // n
        return p

    def encode(self, text: str) -> bytes:
        from ..coding.exact import ExactEncoder

        enc, state, h2, h1 = ExactEncoder(), _Cache(len(self.vocab)), EOS, EOS
        for tok in tokenize(text):
            tid = self.index.get(tok, ESC) if tok not in ("", "\0") else ESC
            if tid == ESC and tok in state.ids:
                tid = state.ids[tok]
            enc.encode(tid, self._mixed(h2, h1, state))
            if tid == ESC:
                self._spell(enc.encode, tok)
                tid = state.add(tok)
            h2, h1 = h1, state.seen(h1, tid)
        enc.encode(EOS, self._mixed(h2, h1, state))
        return enc.to_bytes()

    def decode(self, data: bytes) -> str:
        from ..coding.exact import ExactDecoder

        dec, state = ExactDecoder(data, "semantic payload"), _Cache(len(self.vocab))
        h2, h1, out = EOS, EOS, []
        for _ in range(MAX_PROMPT_TOKENS):
            tid = dec.decode(self._mixed(h2, h1, state))
            if tid == EOS:
                return "".join(out)
            if tid == ESC:
                word = self._spelled(dec.decode)
                if not word or word in state.ids or word in self.index:
                    raise FormatError("semantic payload: escaped word that no encoder escapes")
                tid = state.add(word)
            out.append(state.word(tid) if tid >= len(self.vocab) else self.vocab[tid])
            h2, h1 = h1, state.seen(h1, tid)
        raise FormatError("semantic payload: no end symbol within the token limit")


class _Cache:
    """What a prompt has said so far: escaped words, unigram and bigram counts of symbol ids."""

    def __init__(self, vocab_size: int) -> None:
        self.vocab_size, self.words, self.ids = vocab_size, [], {}
        self.unigram, self.bigram, self.total = {}, {}, 0

    def add(self, word: str) -> int:
        self.ids[word] = self.vocab_size + len(self.words)
        self.words.append(word)
        return self.ids[word]

    def word(self, tid: int) -> str:
        return self.words[tid - self.vocab_size]

    def ctx(self, tid: int) -> int:
        """The trigram model's id for a symbol: an escaped word is ESC."""
        return ESC if tid >= self.vocab_size else tid

    def seen(self, h1: int, tid: int) -> int:
        self.unigram[tid] = self.unigram.get(tid, 0) + 1
        self.total += 1
        follow = self.bigram.setdefault(h1, {})
        follow[tid] = follow.get(tid, 0) + 1
        return tid


@lru_cache(maxsize=1)
def load_model(path: str = str(MODEL_PATH)) -> PromptModel:
    return PromptModel(read_npz(Path(path), MODEL_SHA256, "prompt model"))


@lru_cache(maxsize=1)
def load_model_v2(path: str = str(MODEL_V2_PATH)) -> CachedPromptModel:
    return CachedPromptModel(read_npz(Path(path), MODEL_V2_SHA256, "prompt model v2"))
