"""Rate control: choose each layer's settings to fit a byte budget.

    budget --> texture at its quality bound --> for each structure style, the finest grid
               that still fits (lines thinned plainly, lines with repair; cells only when
               asked for), at a factor of the table and at one between it and the next
               finer; for a sketch also a strokes grid refined for rate and distortion
               (aigic.encoder.rdgrid) a little finer than the plain one, at mu = the plain
               grid's (1 - Dice) / bits, then at the mu its bytes predict would meet the
               budget, going on from the grid it left (at most a few times): the one whose
               decoded map has the highest matched edge F1 (Dice for sketches)
           --> (else) no structure --> coarser texture (looser CIEDE2000 bounds)
           --> an explicit budget: no texture, or refuse when the prompt alone is over it;
               a preset: the coarsest texture, even over the rate

The rule, in order of what is kept: the header; the prompt (cut to the tokens the decoder
reads, unless the whole text was asked for); in a preset, the colour grid (coarsened if it
must be, never dropped unless the layer was not asked for); the structure, in what is left;
last, the image's own negative prompt if it still fits (api.py adds it).

A budget counts the whole stream, container included; the result never exceeds it. The
presets and the grid factors tried are tables in presets.py.

What a search costs is mostly the map coder, so it codes little: each factor trial is aimed
where the bytes seen so far would meet the budget (the same finest fitting factor a
bisection finds, in about three trials); a plain-grid trial is first coded by the quick codec
(no learned predictor), which settles most trials (it fits, or it is too long for any codec
to fit); otherwise a trial is coded with one codec (the shortest for the first trial of its
kind and size); the stream kept is coded again with the shortest of them all. Each style
(Canny's plain and repaired lines) searches with a state of its own, side by side when the
process may use two cores: the same streams either way.
"""

from __future__ import annotations

import bisect
import math
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar, copy_context
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from ..errors import AigicError
from ..format.codes import CHUNK_STRUCTURE, CHUNK_TEXTURE
from ..format.container import Bitstream, Chunk, write
from ..layers import StructureLayer
from ..layers.structure import EDGE_MODELS, WRITTEN
from ..layers.texture import MAX_DE, TextureLayer, grid_of
from .presets import BETWEEN, COARSER_DE, FACTORS, PRESETS, candidates, preset_layers
from .rdgrid import Refinement, threads
from .reduce import edge_layer, grid_size, to_grid
from .settings import STAGES, EncodeSettings

REFINE_SPAN = 1.4  # the refined strokes grid is REFINE_GUESS / REFINE_STEPS of this finer
REFINE_STEPS = 12
REFINE_GUESS = 6
REFINE_TRIES = 4  # refinements at most, each going on from the last at another mu
REFINE_SLACK = 0.03  # a refined grid this close under the budget ends the search
BYTES_PER_MU = 0.18  # bytes ~ mu^-0.18 (doubling mu saves ~12%), as measured on the dev set


@dataclass(frozen=True)
class Choice:
    """The stream rate control built, and the edge style it kept (None: no edge map)."""

    stream: Bitstream
    style: str | None = None


def _with_map(bs: Bitstream, kind: str, edges, factor: float, option, budget=None) -> Bitstream:
    """``bs`` with the edge map reduced by ``factor`` in ``option`` = (style, repair); with a
    ``budget``, a map whose quick code already settles whether it fits stays in that code
    (see :func:`_with_structure`)."""
    style, repair = option
    layer = edge_layer(edges, factor, kind, repair=repair, style=style)
    return _with_structure(bs, layer, budget)


_CODED: dict[bytes, StructureLayer] = {}  # payload -> the layer rate control coded it from
_CODED_KEPT = 64


class _Search:
    """What one rate control search keeps: per (restoration, grid size class), the codec
    the first trial of that kind and size found shortest, which codes the other trials like
    it (one coder run each, not one per codec: which codec wins depends on how fine the grid
    is); and each layer's codes so far, so that no map is coded twice by one codec (the
    kept stream is coded with every codec at the end)."""

    def __init__(self) -> None:
        self.winners: dict[tuple, int] = {}
        self._coded: dict[int, tuple[StructureLayer, dict[int, bytes]]] = {}
        self._share: dict[str, float] = {}  # restoration -> least learned / quick code seen

    def absorb(self, other: _Search) -> None:
        """Keep the codes ``other`` made (an option's own search)."""
        self._coded.update(other._coded)

    def share(self, restore: str) -> float:
        """The least share of the quick code a learned codec may reach for this image: what
        this search has seen, less SHARE_MARGIN, else LEARNED_SHARE."""
        seen = self._share.get(restore)
        return LEARNED_SHARE if seen is None else max(LEARNED_SHARE, seen - SHARE_MARGIN)

    def codes(self, layer: StructureLayer) -> dict[int, bytes]:
        """The codes of ``layer`` made so far (codec -> payload), to add to."""
        return self._coded.setdefault(id(layer), (layer, {}))[1]  # the layer kept: id unique

    def code(self, layer: StructureLayer, codecs) -> dict[int, bytes]:
        """``layer`` coded by each of ``codecs`` (those not coded yet side by side)."""
        done = self.codes(layer)
        todo = [c for c in codecs if c not in done]
        done.update(coded_each(layer, todo))
        quick = [len(p) for c, p in done.items() if not EDGE_MODELS[c]]
        learned = [len(p) for c, p in done.items() if EDGE_MODELS[c]]
        if todo and quick and learned:
            seen = min(learned) / quick[0]
            self._share[layer.restore] = min(self._share.get(layer.restore, seen), seen)
        return {c: done[c] for c in codecs}


_SEARCH: ContextVar[_Search | None] = ContextVar("aigic_search", default=None)
# the learned codecs' code is at least this share of the quick codec's (0.79 at the least on
# the tune images, both kinds and presets): a quick code longer than the room over this
# share cannot fit whichever codec codes it. Within one image the share varies far less
# (within 1.5% from grid to grid on the tune images): once a search has seen it, the bound
# is the least share seen less SHARE_MARGIN.
LEARNED_SHARE = 0.72
SHARE_MARGIN = 0.04


def _with_structure(bs: Bitstream, layer: StructureLayer, budget=None) -> Bitstream:
    """``bs`` carrying ``layer``, which :func:`_layer` then reads back without decoding it
    (the map coder is lossless, so the decoded layer is the layer)."""
    search = _SEARCH.get()
    payload = layer.to_payload() if search is None else _search_code(search, bs, layer, budget)
    if len(_CODED) >= _CODED_KEPT:
        _CODED.clear()
    _CODED[payload] = layer
    return bs.with_chunk(Chunk(layer.chunk_type, payload))


def _search_code(search: _Search, bs: Bitstream, layer: StructureLayer, budget) -> bytes:
    """``layer`` coded for a trial of the search: with the codec the first trial of its kind
    and size found shortest (all of its restoration's codecs for that first trial, side by
    side on the cores). With a ``budget`` (a plain-grid trial, which only needs to know
    whether it fits), the map is first coded by its restoration's quick codec (no learned
    predictor, several times faster): when that fits, or is too long for any codec to fit,
    the trial keeps that code."""
    quick = [c for c in WRITTEN[layer.restore] if not EDGE_MODELS[c]]
    if budget is not None and quick:
        payload = search.code(layer, quick[:1])[quick[0]]
        size = len(write(bs.with_chunk(Chunk(layer.chunk_type, payload))))
        room = budget - (size - len(payload))
        if size <= budget or search.share(layer.restore) * len(payload) > room:
            return payload
    kind = (layer.restore, round(2 * math.log2(max(1, layer.grid.size))))  # classes of 2^0.5
    if kind not in search.winners:
        each = search.code(layer, WRITTEN[layer.restore])
        search.winners[kind] = min(each, key=lambda c: (len(each[c]), c))
    return search.code(layer, [search.winners[kind]])[search.winners[kind]]


def coded_each(layer: StructureLayer, codecs) -> dict[int, bytes]:
    """``layer`` coded by each of ``codecs``, side by side on the cores this process may use
    (the map coder releases the GIL)."""
    codecs = list(codecs)
    return dict(zip(codecs, side_by_side([partial(layer.to_payload, c) for c in codecs])))


def _style(option: tuple[str, bool], factor: float) -> str:
    """What the result calls the map ``option`` makes at ``factor`` (1: the whole map)."""
    return "lossless" if factor == 1 else option[0]


def _fidelity(layer: StructureLayer, edges: np.ndarray) -> float:
    """How close a decoded structure layer is to the extracted map: Dice for a sketch
    (strokes have area), else the one-to-one matched edge F1 (3 px), which drawing more
    pixels cannot raise."""
    from ..imaging.metrics import dice, matched_f1

    decoded = layer.edges(edges.shape[::-1])
    return dice(decoded, edges) if layer.kind == "sketch" else matched_f1(decoded, edges)[0]


def byte_limit(settings: EncodeSettings, shape) -> int | None:
    """The bytes the whole stream may take: the explicit budget, else the preset's rate at
    the coding size (``shape`` = rows, columns), else None (a fixed grid factor: no limit)."""
    preset = PRESETS[settings.preset or "default"]
    if settings.budget is not None:
        return settings.budget
    if settings.factor is None and "bpp" in preset:
        return int(preset["bpp"] * shape[0] * shape[1] / 8)
    return None


def choose(base: Bitstream, rgb: np.ndarray, settings: EncodeSettings, stage=None) -> Choice:
    """The stream for ``rgb`` (``base`` holds the header and the prompt) with the settings'
    rate: an explicit ``factor`` wins over a preset; an explicit ``budget`` over both.
    ``stage(text)`` hears "extracting the structure" and "fitting the rate" as they start."""
    search = _Search()
    token = _SEARCH.set(search)
    try:
        choice = _choose(base, rgb, settings, stage)
        chunk = choice.stream.chunk(CHUNK_STRUCTURE)
        layer = _CODED.get(chunk.payload) if chunk is not None else None
        if layer is None:  # no edge map, or one as found (a pose)
            return choice
        coded = search.code(layer, WRITTEN[layer.restore])
    finally:
        _SEARCH.reset(token)
    # the shortest, the lower code on a tie
    shortest = min(coded.values(), key=lambda payload: (len(payload), payload[0]))
    return replace(choice, stream=choice.stream.with_chunk(Chunk(CHUNK_STRUCTURE, shortest)))


def _choose(base: Bitstream, rgb: np.ndarray, settings: EncodeSettings, stage) -> Choice:
    from .extractors import extract

    s = settings
    options = candidates(s.style, s.structure)
    preset = PRESETS[s.preset or "default"]
    layers = preset_layers(s.preset, s.layers)
    strict = s.budget is not None
    budget = byte_limit(s, rgb.shape)
    factor = s.factor if s.factor is not None else preset.get("factor")
    bs, tex = base, None
    if "texture" in layers:
        tex = TextureLayer.from_image(rgb, max_de=MAX_DE if s.max_de is None else s.max_de)
        bs = bs.with_layer(tex)
    kind = s.structure
    say = stage or (lambda _text: None)
    if "structure" in layers:
        say(STAGES[2])
    edges = extract(rgb, kind) if "structure" in layers else None
    say(STAGES[3])
    if edges is not None and not isinstance(edges, np.ndarray):  # no rate knob: as found
        with_layer = bs.with_layer(edges)  # ... or dropped if over budget
        bs = with_layer if budget is None or len(write(with_layer)) <= budget else bs
        edges = None
    if budget is None and edges is not None:  # a fixed grid (factor 1: every style is lossless)
        options = options if factor != 1 else options[:1]
        trials = [(_style(o, factor), _with_map(bs, kind, edges, factor, o)) for o in options]
        return _best(trials, edges)
    if budget is None:
        return Choice(bs)
    return _fit(bs, rgb, kind, edges, tex, budget, strict, options)


def _layer(stream: Bitstream) -> StructureLayer:
    """The structure layer of ``stream`` as a reader decodes it (the layer it was coded from,
    when rate control coded it)."""
    payload = stream.chunk(CHUNK_STRUCTURE).payload
    layer = _CODED.get(payload)
    return layer if layer is not None else StructureLayer.from_payload(payload)


def _drawn_both_ways(
    trials: list[tuple[str, Bitstream]],
) -> list[tuple[str, Bitstream, StructureLayer, bool]]:
    """(style, stream, the structure layer to draw, whether the stream holds it) for each
    trial, and after a Canny grid drawn by the learned line table the same grid drawn as
    links (same bytes but the codec byte, give or take codec 4's model): the table wins on
    coarse grids, links on some fine ones. The links one's stream is the trial's until
    :func:`_best` keeps it and codes it."""
    out = []
    for style, bs in trials:  # every trial carries an edge map (rate control made it)
        layer = _layer(bs)
        out.append((style, bs, layer, True))
        if layer.restore == "learned lines":
            out.append((style, bs, replace(layer, restore="links"), False))
    return out


def _best(trials: list[tuple[str, Bitstream]], edges: np.ndarray, budget=None) -> Choice:
    """Of (style, stream) pairs, the stream whose structure decodes to the highest matched
    edge F1 (the first on a tie), with its style; Canny line grids are tried drawn both ways
    (a grid drawn as links is coded only when it would be kept, and kept only within
    ``budget``)."""
    drawn = _drawn_both_ways(trials)
    if len(drawn) > 1:
        drawn.sort(key=lambda trial: -_fidelity(trial[2], edges))  # stable: first on a tie
    for style, stream, layer, held in drawn:
        if not held:  # drawn as links: code it that way
            stream = _with_structure(stream, layer)
            if budget is not None and len(write(stream)) > budget:
                continue
        return Choice(stream, style)
    return Choice(drawn[0][1], drawn[0][0])  # not reached: each trial itself fits


def _first_fitting(options, make, budget: int) -> tuple[object, Bitstream] | None:
    """The first of ``options`` (numbers, finest first; bytes fall along them) whose stream
    ``make(option)`` fits the budget: (that option, its stream), or None. A search between
    the options known to fit and known not to: each trial is the option where the
    structure's bytes seen so far, falling as a power of the option, would meet the room the
    rest of the stream leaves; a plain bisection step when two trials have not halved the
    options left, so it never takes much longer than a bisection. The first trial is the
    middle option."""
    lo, hi, best, seen, widths = 0, len(options) - 1, None, [], []
    i = (lo + hi) // 2
    while lo <= hi:
        widths.append(hi - lo + 1)
        trial = make(options[i])
        size = len(write(trial))
        chunk = trial.chunk(CHUNK_STRUCTURE)
        part = len(chunk.payload) if chunk is not None else size
        seen.append((options[i], part, budget - (size - part)))
        if size <= budget:
            best, hi = (options[i], trial), i - 1
        else:
            lo = i + 1
        if lo > hi:
            break
        if len(widths) > 1 and hi - lo + 1 > widths[-2] // 2:  # slow: bisect
            i = (lo + hi) // 2
        else:
            i = min(max(bisect.bisect_left(options, _aim(seen)), lo), hi)
    return best


def _aim(seen: list[tuple]) -> float:
    """The option at which the bytes would meet the room if they fall as option^-p through
    the last two (option, bytes, room) seen (p = 1 from one, or when they do not fall)."""
    f1, b1, room = seen[-1]
    p = 1.0
    if len(seen) > 1:
        f0, b0, _ = seen[-2]
        if f0 != f1 and b0 != b1 and (b1 - b0) * (f1 - f0) < 0:
            p = min(4.0, max(0.25, -math.log(b1 / b0) / math.log(f1 / f0)))
    return f1 * (b1 / max(1, room)) ** (1 / p)


def _fitting(make, budget: int) -> list[tuple[float, Bitstream]]:
    """The finest grid factor of FACTORS whose stream ``make(factor)`` fits, and the finest
    fitting one of BETWEEN factors spaced evenly (geometrically) between it and the next finer
    (which does not fit); none, one or both. A finer grid is not always drawn closer to the
    map (the cell tables were trained at some factors), so the caller keeps the better."""
    found = _first_fitting(FACTORS, make, budget)
    if found is None or found[0] == FACTORS[0]:
        return [found] if found else []
    coarse = found[0]
    fine = FACTORS[FACTORS.index(coarse) - 1]
    steps = [round(fine * (coarse / fine) ** (k / (BETWEEN + 1)), 3) for k in range(1, BETWEEN + 1)]
    between = _first_fitting(steps, make, budget)
    return [found, between] if between else [found]


def _refined(bs: Bitstream, edges, plain: list[tuple[float, Bitstream]], budget: int):
    """Refined strokes grids (aigic.encoder.rdgrid) that fit, as (style, stream). The grid is
    pooled once, REFINE_GUESS steps finer than the best plain grid's factor, and refined at
    that grid's own slope mu = (1 - Dice) / bits; then, at most REFINE_TRIES - 1 times, mu
    moves to where the bytes would meet the budget if they fall as a power of mu (the
    power the last two tries show, else BYTES_PER_MU) and the refinement goes on from the
    grid it left: making bits dearer or cheaper trades the cells it flipped, while pooling
    and refining again at each factor would start from scratch. It stops at a grid that
    fits within REFINE_SLACK of the budget."""
    scored = [(_fidelity(_layer(s), edges), f, s) for f, s in plain]
    score, factor, stream = max(scored, key=lambda t: t[:2])
    payload = _structure_bytes(stream)
    if not EDGE_MODELS[payload[0]]:  # a quick code (see _search_code): its learned one
        payload = _structure_bytes(_with_structure(bs, _layer(stream)))
    mu = (1 - score) / (8 * len(payload))
    fine = factor / REFINE_SPAN ** (REFINE_GUESS / REFINE_STEPS)
    start = to_grid(edges, grid_size(edges.shape, fine), style="strokes")
    refinement = Refinement(start, edges)
    if refinement.large:  # too many cells to refine: the plain grids stand
        return []
    fits, tried = [], []  # tried: (mu, bytes of the stream)
    for _ in range(REFINE_TRIES):
        grid = refinement.run(mu)
        trial = _with_structure(bs, StructureLayer(grid, "sketch", "learned strokes"))
        size = len(write(trial))
        tried.append((mu, size))
        if size <= budget:
            fits.append(("strokes", trial))
            if size >= (1 - REFINE_SLACK) * budget:
                break
        power = _power(tried[-2:])
        mu *= (size / ((1 - REFINE_SLACK / 2) * budget)) ** (1 / power)
    return fits


def _power(points: list[tuple[float, int]]) -> float:
    """p in bytes ~ mu^-p through two (mu, bytes) points, clamped to 0.05 .. 0.5;
    BYTES_PER_MU without two distinct points."""
    if len(points) < 2:
        return BYTES_PER_MU
    (m1, b1), (m2, b2) = points
    if m1 == m2 or b1 == b2:
        return BYTES_PER_MU
    return min(0.5, max(0.05, -math.log(b2 / b1) / math.log(m2 / m1)))


def _structure_bytes(stream: Bitstream) -> bytes:
    return stream.chunk(CHUNK_STRUCTURE).payload


def _option(bs: Bitstream, kind: str, edges, option, budget: int):
    """The fitting streams of one (style, repair) ``option`` as (style, stream): its finest
    fitting grids and, for a sketch's strokes, the refined ones; and the search state it
    used. Each option searches with a state of its own, so options searched side by side
    give the streams they give one after another."""
    search = _Search()
    token = _SEARCH.set(search)
    try:
        plain = _fitting(lambda f: _with_map(bs, kind, edges, f, option, budget), budget)
        fits = [(_style(option, f), stream) for f, stream in plain]
        if kind == "sketch" and option[0] == "strokes" and plain and plain[0][0] != 1:
            fits += _refined(bs, edges, plain, budget)
    finally:
        _SEARCH.reset(token)
    return fits, search


def side_by_side(jobs: list) -> list:
    """The results of ``jobs`` (callables), run on the cores this process may use, each in
    a copy of the caller's context."""
    if len(jobs) < 2 or threads() < 2:
        return [job() for job in jobs]
    with ThreadPoolExecutor(min(threads(), len(jobs))) as pool:
        runs = [pool.submit(copy_context().run, job) for job in jobs]
        return [run.result() for run in runs]


def _fit(bs: Bitstream, rgb, kind, edges, tex, budget: int, strict: bool, options) -> Choice:
    if edges is not None:  # the finest fitting grid of each option: the best F1 of them
        fits, search = [], _SEARCH.get()
        searched = side_by_side([lambda o=o: _option(bs, kind, edges, o, budget) for o in options])
        for option_fits, option_search in searched:
            fits += option_fits
            search.absorb(option_search)
        if fits:
            return _best(fits, edges, budget)
    if tex is not None and len(write(bs)) > budget:
        grid = grid_of(rgb)
        coarser = lambda de: bs.with_layer(TextureLayer.from_grid(grid, max_de=de))
        found = _first_fitting(COARSER_DE, coarser, budget)
        if found is not None:
            bs = found[1]
        else:  # a preset keeps the colour grid at its coarsest; a byte budget is a hard limit
            bs = bs.without(CHUNK_TEXTURE) if strict else coarser(COARSER_DE[-1])
    need = len(write(bs))
    if need > budget and strict:
        raise AigicError(
            f"budget of {budget} bytes is too small: the header and prompt alone need {need} "
            "bytes (shorten the prompt, or raise the budget)"
        )
    return Choice(bs)
