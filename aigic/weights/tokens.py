"""Counting a prompt's tokens as SD 1.5's text encoder reads them, without the SD weights.

    text --CLIP BPE (SD 1.5's tokenizer: openai/clip-vit-large-patch14's vocabulary)--> ids
         --count / cut at a token window (77 per chunk: BOS + 75 + EOS)

The vocabulary comes from the SD weights' ``tokenizer/`` folder when one is at hand
(``AIGIC_MODEL_DIR/<SD 1.5 id>/tokenizer``), else from the ``open_clip_torch`` wheel, which
ships the same CLIP BPE file (``bpe_simple_vocab_16e6.txt.gz``); tests check that both give
the same ids on every dev prompt. Imports transformers (not torch) when first used.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from .repos import BASE as SD15

WINDOW = 77  # CLIP's context: BOS, 75 prompt tokens, EOS
PER_CHUNK = WINDOW - 2


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table, which CLIP's BPE is built on."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    keep += list(range(ord("®"), ord("ÿ") + 1))
    out, n = {b: chr(b) for b in keep}, 0  # in this order: the printable bytes first
    for b in range(256):
        if b not in out:
            out[b] = chr(256 + n)
            n += 1
    return out


def _open_clip_bpe() -> Path:
    spec = find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("open_clip_torch is not installed (pip install open_clip_torch)")
    return Path(next(iter(spec.submodule_search_locations))) / "bpe_simple_vocab_16e6.txt.gz"


def _from_bpe(path: Path):
    """transformers' CLIPTokenizer with the vocabulary and merges of CLIP's BPE file (built
    as CLIP's own tokenizer builds them: bytes, bytes + '</w>', the 48,894 merges, specials)."""
    from transformers import CLIPTokenizer

    with gzip.open(path) as f:
        lines = f.read().decode("utf-8").split("\n")
    merges = [tuple(m.split()) for m in lines[1 : 49152 - 256 - 2 + 1]]
    chars = list(_bytes_to_unicode().values())
    vocab = [*chars, *(c + "</w>" for c in chars), *("".join(m) for m in merges)]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    return CLIPTokenizer(
        vocab={t: i for i, t in enumerate(vocab)},
        merges=merges,
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )


def _local_folder() -> str | None:
    """The ``tokenizer/`` folder of SD 1.5's weights in AIGIC_MODEL_DIR, when it is there."""
    from ..weights.hub import local_dir

    base = local_dir(SD15)
    local = Path(base) / "tokenizer" if base else None
    return str(local) if local is not None and (local / "vocab.json").exists() else None


@lru_cache(maxsize=2)
def tokenizer(folder: str | None = None):
    """SD 1.5's tokenizer from ``folder`` (a ``tokenizer/`` directory; default: the SD weights'
    own, when at hand) or, without one, the same BPE vocabulary from the open_clip_torch wheel."""
    folder = folder or _local_folder()
    if folder is not None:
        from transformers import CLIPTokenizer

        tok = CLIPTokenizer.from_pretrained(folder)
    else:
        tok = _from_bpe(_open_clip_bpe())
    tok.model_max_length = 1 << 30  # we count long prompts on purpose: no length warning
    return tok


def ids(text: str, folder: str | None = None) -> list[int]:
    """The prompt's token ids, without BOS and EOS."""
    return tokenizer(folder)(text, add_special_tokens=False)["input_ids"]


def count(text: str, folder: str | None = None) -> int:
    return len(ids(text, folder))


def available() -> bool:
    """Whether tokens can be counted here: transformers, and a vocabulary (the SD weights'
    tokenizer folder, or the open_clip_torch wheel)."""
    return find_spec("transformers") is not None and (
        find_spec("open_clip") is not None or _local_folder() is not None
    )


def cut(text: str, limit: int, folder: str | None = None) -> tuple[str, str]:
    """``text`` split into (the longest prefix, ending at a word, of at most ``limit``
    tokens; the rest). The whole text and '' when it fits."""
    if len(text.encode("utf-8")) <= limit or count(text, folder) <= limit:
        return text, ""  # (each token stands for at least one byte)
    ends = [i for i, ch in enumerate(text) if ch.isspace() or ch in ",.;|"]
    lo, hi, best = 0, len(ends) - 1, 0
    while lo <= hi:  # the last word end whose prefix fits
        mid = (lo + hi) // 2
        if count(text[: ends[mid]], folder) <= limit:
            best, lo = ends[mid], mid + 1
        else:
            hi = mid - 1
    return text[:best].rstrip(" ,.;|"), text[best:].lstrip(" ,.;|")
