"""Train the semantic layer's prompt model (assets/prompt_model_v1.npz).

    python scripts/train_prompt_model.py ../shared/data/prompts/prompts.tsv \
        --exclude ../shared/data/aigi_dev/manifest.csv

Every 10th prompt (line index % 10 == 0) is held out and never trained on; so are the
prompts of the ``--exclude`` manifests, which the benchmark reports separately.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aigic.models.prompt import EOS, ESC, MODEL_PATH, tokenize
from aigic.tools.bench_prompts import held_out, read_prompts


def split(prompts: list[str], exclude: set[str]) -> tuple[list[str], list[str]]:
    """(training prompts, held-out prompts): the held-out lines (aigic bench-prompts measures
    them) and ``exclude`` are never trained on, nor is any copy of them."""
    held = [p for i, p in enumerate(prompts) if held_out(i)]
    unseen = exclude | set(held)
    train = [p for i, p in enumerate(prompts) if not held_out(i) and p not in unseen]
    return train, held


def csr(pairs: Counter, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    items = sorted(pairs.items())
    ptr = np.zeros(rows + 1, dtype=np.int32)
    for (r, _), _ in items:
        ptr[r + 1] += 1
    idx = np.array([t for (_, t), _ in items], dtype=np.uint16)
    cnt = np.array([min(c, 65535) for _, c in items], dtype=np.uint16)
    return np.cumsum(ptr).astype(np.int32), idx, cnt


def train(prompts: list[str], min_count: int, max_vocab: int) -> dict[str, np.ndarray]:
    token_lists = [tokenize(p) for p in prompts]
    counts = Counter(t for toks in token_lists for t in toks)
    words = [t for t, c in counts.most_common(max_vocab) if c >= min_count and "\0" not in t]
    vocab = ["<eos>", "<esc>", *words]
    index = {t: i for i, t in enumerate(vocab)}
    uni, bi, tri, byte = Counter(), Counter(), Counter(), np.zeros((257, 257), np.int64)
    for toks in token_lists:
        ids = [index.get(t, ESC) for t in toks] + [EOS]
        h2 = h1 = EOS
        for tok, tid in zip([*toks, ""], ids):
            uni[tid] += 1
            bi[h1, tid] += 1
            tri[h2 * len(vocab) + h1, tid] += 1
            if tid == ESC:
                seq = [256, *tok.encode("utf-8"), 256]
                for a, b in itertools.pairwise(seq):
                    byte[a, b] += 1
            h2, h1 = h1, tid
    tri = Counter({k: c for k, c in tri.items() if c >= 2})
    keys = sorted({k for k, _ in tri})
    row = {k: i for i, k in enumerate(keys)}
    unigram = np.array([uni[i] + 1 for i in range(len(vocab))], dtype=np.int32)
    bi_ptr, bi_idx, bi_cnt = csr(bi, len(vocab))
    tri_ptr, tri_idx, tri_cnt = csr(
        Counter({(row[k], t): c for (k, t), c in tri.items()}), len(keys)
    )
    return {
        "vocab": np.frombuffer("\0".join(vocab).encode("utf-8"), dtype=np.uint8),
        "unigram": unigram,
        "bi_ptr": bi_ptr,
        "bi_idx": bi_idx,
        "bi_cnt": bi_cnt,
        "tri_keys": np.array(keys, dtype=np.int64),
        "tri_ptr": tri_ptr,
        "tri_idx": tri_idx,
        "tri_cnt": tri_cnt,
        "byte_counts": np.minimum(byte, 2**31 - 1).astype(np.int32),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tsv", type=Path)
    ap.add_argument("--exclude", type=Path, action="append", default=[])
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--max-vocab", type=int, default=16000)
    ap.add_argument("-o", "--output", type=Path, default=MODEL_PATH)
    args = ap.parse_args()
    exclude = {r["prompt"] for m in args.exclude for r in csv.DictReader(m.open(encoding="utf-8"))}
    train_set, held = split(read_prompts(args.tsv), exclude)
    arrays = train(train_set, args.min_count, args.max_vocab)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    args.output.write_bytes(buf.getvalue())
    print(
        f"trained on {len(train_set)} prompts ({len(held)} held out); "
        f"vocabulary {len(arrays['unigram'])}; {len(buf.getvalue()) / 1e6:.2f} MB -> {args.output}"
    )


if __name__ == "__main__":
    main()
