"""Prompts as the UIs that made them wrote them, turned into Stable Diffusion's text embeddings.

    "a (red:1.3) fox, ((snow)) BREAK [blurry] sky"
        --parse_attention (AUTOMATIC1111's emphasis syntax)--> parts split at BREAK, each a list
          of (text, weight): ("a ", 1) ("red", 1.3) (" fox, ", 1) ("snow", 1.21) | ("blurry", 0.91)
        --compel, per part (weights applied; a part over 75 tokens becomes several 77-token
          chunks, not cut)--> embeddings, the parts' chunks concatenated (BREAK starts a chunk)

The syntax: ``(text)`` multiplies the weight by 1.1, ``[text]`` divides it by 1.1, ``(text:w)``
sets the factor to ``w``; brackets nest and multiply; ``\\(`` ``\\)`` ``\\[`` ``\\]`` are
literal; an unclosed bracket applies to the rest of the text; ``BREAK`` (upper case, a word of
its own) ends a chunk. Weights are applied by compel (damian0815/compel, the library diffusers
points to for prompt weighting), which blends rather than scales embeddings; long text is split
into windows of 75 tokens (plus BOS and EOS), as the encoder counts them.

Three readers, by profile: ``embed_pair`` (SD 1.x, A1111's reading), ``embed_sdxl`` (both SDXL
text encoders and the pooled embedding, A1111's reading) and ``embed_lpw`` (the weighting of
diffusers' ``lpw_stable_diffusion`` community pipeline, which the ``paper`` profile decodes with).
"""

from __future__ import annotations

import re

UP = 1.1  # the factor of one pair of round brackets, as in A1111
_BREAK = re.compile(r"\s*\bBREAK\b\s*")
_TOKEN = re.compile(
    r"\\[\\()\[\]]"  # an escaped bracket or backslash
    r"|\(|\["  # an opening bracket
    r"|:\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*\)"  # ":1.3)" closes a weighted group
    r"|\)|\]"  # a closing bracket
    r"|[^\\()\[\]:]+|:|\\",  # plain text
    re.DOTALL,
)


def _weighted(text: str) -> list[tuple[str, float]]:
    """One BREAK-free part as (text, weight) runs, neighbours of equal weight merged."""
    runs: list[list] = []
    round_, square = [], []

    def scale(start: int, factor: float) -> None:
        for run in runs[start:]:
            run[1] *= factor

    for m in _TOKEN.finditer(text):
        tok, weight = m.group(0), m.group(1)
        if tok.startswith("\\") and len(tok) == 2:
            runs.append([tok[1], 1.0])
        elif tok == "(":
            round_.append(len(runs))
        elif tok == "[":
            square.append(len(runs))
        elif weight is not None and round_:
            scale(round_.pop(), float(weight))
        elif tok == ")" and round_:
            scale(round_.pop(), UP)
        elif tok == "]" and square:
            scale(square.pop(), 1 / UP)
        else:
            runs.append([tok, 1.0])
    for start in round_:
        scale(start, UP)
    for start in square:
        scale(start, 1 / UP)
    merged: list[list] = []
    for text_, weight in runs:
        if merged and abs(merged[-1][1] - weight) < 1e-9:
            merged[-1][0] += text_
        else:
            merged.append([text_, weight])
    return [(t, round(w, 6)) for t, w in merged if t]


def parse_attention(text: str) -> list[list[tuple[str, float]]]:
    """``text`` split at BREAK, each part as (text, weight) runs (an empty part: [])."""
    return [_weighted(part) for part in _BREAK.split(text)]


def embed(compel, text: str):
    """The text embeddings of ``text``: (1, 77 * chunks, hidden) from ``compel`` (a Compel
    with ``truncate_long_prompts=False``), each BREAK part in chunks of its own."""
    import torch
    from compel.prompt_parser import FlattenedPrompt, Fragment

    tensors = []
    for runs in parse_attention(text):
        fragments = [Fragment(t, w) for t, w in runs] or [Fragment("", 1.0)]
        prompt = FlattenedPrompt(fragments)
        (conditioning, _tokens), _options = compel.build_conditioning_tensor_for_prompt_object(
            prompt
        )
        tensors.append(conditioning if conditioning.dim() == 3 else conditioning.unsqueeze(0))
    return torch.cat(tensors, dim=1)


def make_compel(text_encoder, tokenizer, *, sdxl: bool = False, pooled: bool = False):
    """A compel that keeps long prompts whole, in windows of 75 tokens. ``sdxl``: the
    penultimate layer's hidden states, not normalized (what SDXL's UNet was trained on);
    ``pooled``: the encoder's pooled output too (SDXL's second encoder)."""
    from compel import Compel, ReturnedEmbeddingsType
    from compel.embeddings_provider import SplitLongTextMode

    kind = (
        ReturnedEmbeddingsType.PENULTIMATE_HIDDEN_STATES_NON_NORMALIZED
        if sdxl
        else ReturnedEmbeddingsType.LAST_HIDDEN_STATES_NORMALIZED
    )
    return Compel(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        truncate_long_prompts=False,
        returned_embeddings_type=kind,
        requires_pooled=pooled,
        # windows of exactly 75 tokens, as the encoder counts them: a prompt cut to 150 tokens
        # takes 2 windows (split at sentence ends, one of 132 tokens could take 3, the third cut)
        split_long_text_mode=SplitLongTextMode.BRUTAL,
    )


def embed_pair(text_encoder, tokenizer, prompt: str, negative: str | None, chunks: int = 2):
    """(prompt embeddings, negative embeddings or None), padded to the same length, each at
    most ``chunks`` 77-token windows (the profile's reach; the encoder sends no more)."""
    compel = make_compel(text_encoder, tokenizer)
    reach = 77 * chunks
    pos = embed(compel, prompt)[:, :reach]
    if negative is None:
        return pos, None
    neg = embed(compel, negative)[:, :reach]
    pos, neg = compel.pad_conditioning_tensors_to_same_length([pos, neg])
    return pos, neg


def embed_lpw(text_encoder, tokenizer, prompt: str, negative: str | None, chunks: int = 3):
    """(prompt embeddings, negative embeddings or None) as diffusers' community pipeline
    ``lpw_stable_diffusion`` computes them, which Chen et al.'s decoder uses.

    The A1111 emphasis syntax (without BREAK, which that parser reads as a word) gives each
    token a weight; both texts are cut at ``chunks`` x 75 tokens and padded to the same
    number of 75-token windows (``[bos] tokens pads [eos]``, pads with the tokenizer's pad
    token); each window of 77 positions (its first and last set to bos and eos) is encoded
    alone and the outputs concatenated; the embeddings are multiplied by their tokens'
    weights (1 at bos, eos) and then rescaled to the mean they had before weighting."""
    import torch

    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos

    def weighted_tokens(text: str) -> tuple[list[int], list[float]]:
        ids, weights = [], []
        for run, weight in _weighted(text) or [("", 1.0)]:
            got = tokenizer(run, add_special_tokens=False).input_ids
            ids += got
            weights += [weight] * len(got)
        return ids[: 75 * chunks], weights[: 75 * chunks]

    texts = [prompt] + ([negative] if negative is not None else [])
    tokens = [weighted_tokens(t) for t in texts]
    windows = max(1, min(chunks, (max(len(i) for i, _ in tokens) - 1) // 75 + 1))
    length = 75 * windows + 2
    device = text_encoder.device
    out = []
    for ids, weights in tokens:
        row = torch.tensor([[bos, *ids] + [pad] * (length - 2 - len(ids)) + [eos]], device=device)
        per_token = [1.0] * (75 * windows)
        per_token[: len(weights)] = weights
        parts, scale = [], []
        for k in range(windows):
            window = row[:, 75 * k : 75 * (k + 1) + 2].clone()
            window[:, 0], window[:, -1] = bos, eos
            parts.append(text_encoder(window)[0])
            scale += [1.0, *per_token[75 * k : 75 * (k + 1)], 1.0]
        emb = torch.cat(parts, dim=1)
        before = emb.float().mean(dim=(-2, -1))
        emb = emb * torch.tensor(scale, device=device, dtype=emb.dtype)[None, :, None]
        after = emb.float().mean(dim=(-2, -1))
        out.append(emb * (before / after).to(emb.dtype)[:, None, None])
    return out[0], (out[1] if negative is not None else None)


def plain_text(text: str) -> str:
    """``text`` without the emphasis syntax and BREAKs: what a pooled embedding reads."""
    return " ".join("".join(t for t, _ in runs) for runs in parse_attention(text)).strip()


def embed_sdxl(encoders, tokenizers, prompt: str, negative: str | None, chunks: int = 2):
    """SDXL's text conditioning, as A1111 reads the prompt: ((prompt embeddings, pooled),
    (negative embeddings, pooled) or None). Each of the two encoders reads the prompt in
    75-token windows (BREAK starts one) with the weights applied by compel; their penultimate
    hidden states are concatenated per token (768 + 1280 = 2048 wide), shorter ones padded
    with the empty prompt's windows; the pooled embedding is the second encoder's of the text
    without syntax, cut at 77 tokens, as A1111 does."""
    import torch

    compels = (
        make_compel(encoders[0], tokenizers[0], sdxl=True),
        make_compel(encoders[1], tokenizers[1], sdxl=True, pooled=True),
    )
    texts = [prompt] + ([negative] if negative is not None else [])
    reach = 77 * chunks
    halves = [[embed(c, t)[:, :reach] for t in texts] for c in compels]
    n = max(x.shape[1] for half in halves for x in half)
    padded = []
    for c, half in zip(compels, halves, strict=True):
        longest = half[0].new_zeros(1, n, half[0].shape[-1])  # only sets the length
        padded.append(c.pad_conditioning_tensors_to_same_length([*half, longest])[:-1])
    provider = compels[1].conditioning_provider
    out = [
        (torch.cat([left, right], dim=-1), provider.get_pooled_embeddings([plain_text(t)]))
        for left, right, t in zip(*padded, texts, strict=True)
    ]
    return out[0], (out[1] if negative is not None else None)
