"""``aigic inspect IN.aigic [--json | --link [--link-base URL]]``: the chunks, their sizes and
what each layer holds, or the link that opens the stream in the app."""

from __future__ import annotations

import argparse
import json

from ..format.codes import profile_names
from ..info import StreamInfo, inspect
from .common import read_stream

HELP = "show the chunks, sizes and layers of a stream"


def arguments(i: argparse.ArgumentParser) -> None:
    i.add_argument("input", help="an .aigic file, or a link that carries one")
    i.add_argument("--json", action="store_true")
    i.add_argument(
        "--link",
        action="store_true",
        help="print only the link that opens this stream in the app (base64url in its query)",
    )
    i.add_argument(
        "--link-base",
        metavar="URL",
        help="the app's address the link opens (default: AIGIC_LINK_BASE, else the local app)",
    )


def format_inspect(info: StreamInfo) -> str:
    h, lay = info.header, info.layers
    lines = [
        (
            f"aigic stream v{h.version}: {h.width}x{h.height} "
            f"(coding {h.coding_size[0]}x{h.coding_size[1]}), seed {h.seed}, "
            f"profile {h.profile} ({profile_names().get(h.profile, 'unknown')})"
        ),
        f"{'chunk':<10} {'codec':>5} {'bytes':>6} {'share':>7} {'bpp':>9}",
    ]
    pixels = h.width * h.height
    rows = [(r.chunk, r.codec, r.bytes) for r in info.chunks] + [("overhead", None, info.overhead)]
    for name, code, n in rows:
        code = "" if code is None else code
        share, bpp = n / info.total_bytes, n * 8 / pixels
        lines.append(f"{name:<10} {code:>5} {n:>6} {share:>7.1%} {bpp:>9.5f}")
    lines.append(f"{'total':<10} {'':>5} {info.total_bytes:>6} {1:>7.1%} {info.bpp:>9.5f}")
    if lay.prompt is not None:
        n = _tokens(lay.prompt)
        lines.append(f"prompt: {lay.prompt!r}" + (f" ({n} CLIP tokens)" if n is not None else ""))
    if lay.negative:
        lines.append(f"negative prompt: {lay.negative!r}")
    if lay.structure_grid:
        g = lay.structure_grid
        holds = lay.structure_holds
        lines.append(f"structure: {lay.structure_kind} ({holds}) on a {g[0]}x{g[1]} grid")
    if lay.texture_grid:
        gw, gh = lay.texture_grid
        lines.append(f"texture: {gw}x{gh} colour grid ({gw} columns x {gh} rows)")
    if info.dropped:
        lines.append(f"damaged layers: {', '.join(info.dropped)}")
    d = decoder(info)
    if d:
        size = "x".join(map(str, d["decode_size"]))
        lines.append(
            f"decoder: {d['profile']} generates at {size}; here auto decodes with "
            f"{d['backend']} ({d['profile_here']}): {d['why']}"
        )
    return "\n".join(lines)


def decoder(info: StreamInfo) -> dict | None:
    """What the stream's profile decodes at, and what ``auto`` would decode it with here."""
    from ..backends import choose
    from ..backends.profiles import PROFILES

    h = info.header
    profile = PROFILES.get(h.profile)
    if profile is None:
        return None
    choice = choose(h.profile)
    return {
        "profile": profile.name,
        "decode_size": list(profile.decode_size((h.width, h.height), h.coding_size)),
        "backend": choice.backend,
        "profile_here": profile_names()[choice.profile],
        "why": choice.why,
    }


def _tokens(text: str) -> int | None:
    """The prompt's CLIP token count, or None where tokens cannot be counted here."""
    from ..weights import tokens

    return tokens.count(text) if tokens.available() else None


def run(a) -> None:
    data = read_stream(a.input)
    info = inspect(data)
    if a.link:
        from ..links import to_link

        print(to_link(data, a.link_base))
    elif a.json:
        out = info.to_dict()
        out["prompt_tokens"] = _tokens(info.layers.prompt) if info.layers.prompt else 0
        out["decoder"] = decoder(info)
        print(json.dumps(out, indent=1))
    else:
        print(format_inspect(info))
