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


def make_compel(text_encoder, tokenizer):
    """A compel for SD 1.5 that keeps long prompts whole, in windows of 75 tokens."""
    from compel import Compel
    from compel.embeddings_provider import SplitLongTextMode

    return Compel(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        truncate_long_prompts=False,
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
