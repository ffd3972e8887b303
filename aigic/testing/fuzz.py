"""Fuzzing the parser and every layer decoder: ``aigic fuzz --count N``.

    seed streams (encoded here) --mutate: random bytes | bit flips | byte insert/delete |
        chunk swaps | length/size varints at extremes | truncations--> input
    input --parse + read_layers(strict=False) + inspect--> a result or FormatError
    layer payload --mutate, re-framed with valid CRCs--> from_payload --> a result or FormatError

Anything else (another exception, an input over ``limit_s``) is a failure, reported with the
input's hex. Prints inputs tried, failures, the slowest input and peak memory (max RSS).
"""

from __future__ import annotations

import resource
import time
import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import FormatError
from ..format.container import Bitstream, Chunk, parse, write

EXTREMES = (b"\x00", b"\x7f", b"\xff\xff\xff\xff\x0f", b"\x80\x80\x80\x80\x80\x01", b"\x80\x20")


@dataclass
class Report:
    tried: int = 0
    rejected: int = 0  # FormatError: the allowed refusal
    failures: list = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    kinds: dict = field(default_factory=dict)  # how inputs were made -> how many

    def summary(self, kept: str = "decoded", refused: str = "refused with FormatError") -> str:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return (
            f"inputs tried {self.tried}, {kept} {self.tried - self.rejected - len(self.failures)}, "
            f"{refused} {self.rejected}, failures {len(self.failures)}, "
            f"slowest input {self.slowest[0] * 1000:.1f} ms ({self.slowest[1]}), "
            f"peak memory (max RSS) {peak:.0f} MiB"
        )


def seeds() -> list[bytes]:
    """Valid streams covering every codec: edge maps at several grids, pose, raw/model prompts."""
    from ..api import encode
    from ..encoder.extractors import canny
    from ..encoder.reduce import edge_layer
    from ..format.codes import CHUNK_SEMANTIC, CHUNK_STRUCTURE, STRUCTURE_CODECS
    from ..layers import PoseLayer

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:192, 0:256]
    img = np.stack([x % 256, y * 255 // 192, (x * y) % 256], -1).astype(np.uint8)
    img[60:130, 80:180] = rng.integers(0, 255, 3)
    from PIL import Image

    img = Image.fromarray(img)
    out = [
        encode(img, prompt="a lighthouse on a cliff at dusk, oil painting", seed=3),
        encode(img, prompt="Ünïcode ✓ 日本", preset="fine", seed=2**32 - 1),
        encode(img, prompt="", preset="tiny"),
        encode(img, prompt="x", factor=1, layers=("structure",)),
    ]
    people = [[(0.5, 0.2), (0.5, 0.3)] + [None] * 3 + [(0.6, 0.3)] + [None] * 12]
    out.append(write(parse(out[0]).with_layer(PoseLayer.from_keypoints(people))))
    import brotli

    from ..models.prompt import load_model, load_model_v2

    text = "ünïcode ✓ prompt, ".encode() * 4
    words = "(masterpiece:1.2), a zqxv fox BREAK zqxv, [[snow]]"
    for code, body in (
        (1, load_model().encode(words)),
        (2, brotli.compress(text)),
        (3, zlib.compress(text, 9)[2:-4]),
        (4, load_model_v2().encode(words)),
    ):
        semantic = Chunk(CHUNK_SEMANTIC, bytes([code]) + body)  # every semantic codec
        out.append(write(parse(out[0]).with_chunk(semantic)))
    layer = edge_layer(canny(np.asarray(img)), factor=2)
    for code, codec in STRUCTURE_CODECS.items():  # every edge-map codec (pose: above)
        if codec.predictor is None:
            continue
        shaped = replace(layer, restore=codec.redraw)
        edges = Chunk(CHUNK_STRUCTURE, shaped.to_payload(code))
        out.append(write(parse(out[0]).with_chunk(edges)))
    return out


def mutate(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    b = bytearray(data)
    op = int(rng.integers(0, 7))
    if op == 0 and b:  # bit flips
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(0, len(b)))
            b[i] ^= 1 << int(rng.integers(0, 8))
        return bytes(b), "bit flips"
    if op == 1:  # byte insertions
        i = int(rng.integers(0, len(b) + 1))
        return bytes(b[:i] + rng.bytes(int(rng.integers(1, 9))) + b[i:]), "insertion"
    if op == 2 and b:  # deletions
        i = int(rng.integers(0, len(b)))
        return bytes(b[:i] + b[i + int(rng.integers(1, 9)) :]), "deletion"
    if op == 3:  # an extreme varint spliced in (length fields, sizes)
        i = int(rng.integers(0, len(b) + 1))
        j = i + int(rng.integers(0, 3))
        return bytes(b[:i] + EXTREMES[int(rng.integers(0, len(EXTREMES)))] + b[j:]), "extreme"
    if op == 4:  # truncation
        return bytes(b[: int(rng.integers(0, len(b) + 1))]), "truncation"
    if op == 5:  # random stream with a valid magic
        return data[:3] + rng.bytes(int(rng.integers(0, 200))), "random"
    return bytes(rng.bytes(int(rng.integers(0, 64)))), "noise"


def _reframe(bs: Bitstream, rng: np.random.Generator) -> tuple[bytes, str]:
    """Mutate one layer payload (or swap chunks) and write with valid CRCs: reaches decoders."""
    chunks = list(bs.chunks)
    if len(chunks) > 1 and rng.random() < 0.15:
        i, j = rng.choice(len(chunks), 2, replace=False)
        chunks[i], chunks[j] = (
            Chunk(chunks[i].type, chunks[j].payload),
            Chunk(chunks[j].type, chunks[i].payload),
        )
        how = "payload swap"
    else:
        k = int(rng.integers(0, len(chunks)))
        payload, how = mutate(chunks[k].payload, rng)
        chunks[k] = Chunk(chunks[k].type, payload)
        how = f"{chunks[k].name} payload {how}"
    return write(Bitstream(bs.width, bs.height, bs.seed, bs.profile, tuple(chunks))), how


def check(data: bytes) -> bool:
    """Run every reader on ``data``. True: decoded; False: refused (FormatError)."""
    from ..api import read_layers
    from ..info import inspect

    try:
        lay = read_layers(data, strict=False)
        inspect(data, lay)  # inspect's own decoding is read_layers(strict=False): once is enough
        if lay.structure is not None:
            lay.structure.edges((64, 64))
        if lay.texture is not None:
            lay.texture.grid()
    except FormatError as exc:
        if not str(exc):
            raise AssertionError("FormatError without a message") from exc
        return False
    return True


def drive(count: int, make, check_one, show, limit_s: float, progress: bool) -> Report:
    """Try ``count`` inputs ``make() -> (input, how)``; ``check_one(input)`` is True for a
    result, False for the allowed refusal, and raises on a failure; ``show(input)`` is how a
    failing input is reported. Any exception, or an input over ``limit_s``, is a failure."""
    report, bar = Report(), None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=count, unit="input")
    while report.tried < count:
        data, how = make()
        report.kinds[how] = report.kinds.get(how, 0) + 1
        start = time.perf_counter()
        try:
            report.rejected += not check_one(data)
        except Exception as exc:  # noqa: BLE001 (the point: catch whatever escapes)
            report.failures.append((how, f"{type(exc).__name__}: {exc}"[:200], show(data)))
        spent = time.perf_counter() - start
        if spent > report.slowest[0]:
            report.slowest = (spent, how)
        if spent > limit_s:
            report.failures.append((how, f"took {spent:.2f} s", show(data)))
        report.tried += 1
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return report


TRUNCATED = 0.25  # the share of inputs that are a seed's truncation, while any are left


def run(count: int, seed: int = 0, limit_s: float = 1.0, progress: bool = False) -> Report:
    rng = np.random.default_rng(seed)
    base = seeds()
    # every truncation of every seed, in a random order, as one input in TRUNCATED until they
    # are spent: a short run samples all of them, a long one tries each
    cases = [(s[:n], "truncation") for s in base for n in range(len(s))]
    order = list(rng.permutation(len(cases)))

    def make():
        if order and rng.random() < TRUNCATED:
            return cases[order.pop()]
        s = base[int(rng.integers(0, len(base)))]
        return _reframe(parse(s), rng) if rng.random() < 0.6 else mutate(s, rng)

    return drive(count, make, check, bytes.hex, limit_s, progress)
