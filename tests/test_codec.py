"""The public API: encode, decode with layer subsets, inspect, edit, odd inputs."""

import itertools
import json
import math
import runpy
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aigic
from aigic import edit
from aigic.api import changed_layers
from aigic.errors import ImageInputError
from aigic.format.codes import CHUNK_STRUCTURE
from aigic.format.container import Chunk, parse, write
from aigic.format.limits import coding_size
from aigic.imaging.metadata import prompt_from_metadata
from tests.conftest import png_bytes, synthetic


def test_import_does_not_pull_heavy_packages():
    import subprocess
    import sys

    code = "import sys, aigic; aigic.encode; print(sorted(m for m in ('torch','diffusers','gradio') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_encode_reads_the_prompt_from_metadata(sample_stream):
    info = aigic.inspect(sample_stream)
    assert info["prompt"].startswith("beautiful landscape scenery glass bottle")
    assert info["texture_grid"] == (8, 8) and info["structure_grid"]
    assert [r["chunk"] for r in info["chunks"]] == ["semantic", "structure", "texture", "overhead"]
    assert sum(r["bytes"] for r in info["chunks"]) == info["total_bytes"] == len(sample_stream)
    layers = aigic.read_layers(sample_stream, strict=False)  # decoded once, reused by inspect
    assert aigic.inspect(sample_stream, layers) == info


def test_encoding_is_deterministic(sample_path, sample_stream):
    assert aigic.encode(sample_path) == sample_stream


@pytest.mark.parametrize("r", [0, 1, 2, 3])
def test_every_subset_of_layers_decodes(sample_stream, r):
    for subset in itertools.combinations(aigic.LAYERS, r):
        img = aigic.decode(sample_stream, layers=subset, backend="preview")
        assert img.size == (512, 512) and img.mode == "RGB"


def test_decoding_is_deterministic_and_uses_the_stream_seed(sample_stream):
    a = np.asarray(aigic.decode(sample_stream, backend="preview"))
    b = np.asarray(aigic.decode(sample_stream, backend="preview"))
    c = np.asarray(aigic.decode(sample_stream, backend="preview", seed=99))
    assert (a == b).all() and not (a == c).all()


def test_texture_drives_the_colours(sample_stream):
    """Each cell of the decode has its grid cell's colour, and only the texture layer gives it."""
    grid = aigic.read_layers(sample_stream).texture.grid().astype(float)

    def per_cell(layers):
        image = aigic.decode(sample_stream, layers=layers, backend="preview")
        small = image.resize((grid.shape[1], grid.shape[0]), Image.BOX)
        cells = np.asarray(small, float)
        return np.abs(cells - grid).mean(), np.corrcoef(cells.ravel(), grid.ravel())[0, 1]

    flat = np.abs(grid - grid.mean((0, 1))).mean()  # a decode in the image's mean colour
    assert flat > 20  # the sample's grid is far from flat, so the test can tell
    err, corr = per_cell(["texture"])
    assert err < 10 and corr > 0.95  # measured 7.0 and 0.98
    err, corr = per_cell(["structure", "texture"])
    assert err < 14 and corr > 0.9  # the edges darken it a little: 10.1 and 0.955
    err, corr = per_cell(["structure"])
    assert err > flat * 0.8 and corr < 0.5  # without the layer, no colour of the grid


def _payloads(data):
    return {c.type: c.payload for c in parse(data).chunks}


def test_edits_leave_other_payloads_byte_identical(sample_stream):
    before = _payloads(sample_stream)
    cases = {
        1: edit.set_prompt(sample_stream, "a red fox in the snow"),
        3: edit.recolor(sample_stream, [(0, 0), (7, 7)], (255, 0, 0)),
    }
    for changed, data in cases.items():
        after = _payloads(data)
        assert after[changed] != before[changed]
        assert all(after[t] == before[t] for t in before if t != changed)
    dropped = _payloads(edit.drop(sample_stream, "structure"))
    assert 2 not in dropped and dropped[1] == before[1] and dropped[3] == before[3]
    assert aigic.read_layers(cases[1]).semantic.text == "a red fox in the snow"
    erased = edit.erase_rect(sample_stream, (0.25, 0.25, 0.75, 0.75))
    assert _payloads(erased)[1] == before[1] and _payloads(erased)[3] == before[3]
    both = edit.erase_rect(sample_stream, (0.25, 0.25, 0.75, 0.75), texture=True)
    assert changed_layers(sample_stream, both) == {
        "semantic": "identical",
        "structure": "changed",
        "texture": "changed",
    }
    g = aigic.read_layers(erased).structure.grid
    h, w = g.shape
    assert not g[h // 4 + 1 : 3 * h // 4 - 1, w // 4 + 1 : 3 * w // 4 - 1].any()


def test_replace_structure_and_shift_colors(sample_stream):
    sketch = np.zeros((64, 64), bool)
    sketch[10:50, 32] = True
    data = edit.replace_structure(sample_stream, sketch)
    lay = aigic.read_layers(data)
    assert lay.structure.kind == "sketch" and (lay.structure.grid == sketch).all()
    shifted = edit.shift_colors(sample_stream, hue=120, brightness=10)
    assert changed_layers(sample_stream, shifted)["texture"] == "changed"
    assert _payloads(shifted)[2] == _payloads(sample_stream)[2]


def test_a_drawing_replaces_the_structure_on_its_grid_or_losslessly(sample_stream):
    from PIL import ImageDraw

    drawing = Image.new("L", (2048, 2048))  # 4x the coding size, 1-px lines
    ImageDraw.Draw(drawing).line((0, 1000, 2047, 1000), fill=255)
    ImageDraw.Draw(drawing).ellipse((400, 400, 1600, 1600), outline=255)
    before = aigic.read_layers(sample_stream).structure
    kept = edit.draw_structure(sample_stream, drawing)
    whole = edit.draw_structure(sample_stream, drawing, keep_grid=False)
    for data in (kept, whole):
        assert changed_layers(sample_stream, data) == {
            "semantic": "identical",
            "structure": "changed",
            "texture": "identical",
        }
    kept_st, whole_st = aigic.read_layers(kept).structure, aigic.read_layers(whole).structure
    assert kept_st.kind == whole_st.kind == "sketch"
    assert kept_st.grid.shape == before.grid.shape and whole_st.grid.shape == (512, 512)
    assert whole_st.grid[250].all()  # the 1-px line survived the 4x reduction, every pixel of it
    assert kept_st.edges((512, 512))[248:253].any(axis=0).mean() > 0.95
    assert len(kept) < len(sample_stream)
    bs = parse(sample_stream)  # a damaged edge map (codec 99) is replaced whole
    damaged = write(
        bs.with_chunk(Chunk(CHUNK_STRUCTURE, b"\x63" + bs.chunk(CHUNK_STRUCTURE).payload[1:]))
    )
    assert aigic.read_layers(edit.draw_structure(damaged, drawing)).structure.grid.shape == (
        512,
        512,
    )


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "LA", "I;16", "CMYK", "1", "I", "F"])
def test_odd_image_modes(mode):
    img = synthetic(200, 150, "RGB")
    img = img.convert("I;16") if mode == "I;16" else img.convert(mode)
    data = aigic.encode(img, prompt="odd")
    info = aigic.inspect(data)
    assert (info["width"], info["height"]) == (200, 150)
    assert aigic.decode(data, backend="preview").size == (200, 150)


@pytest.mark.parametrize("size", [(1, 1), (3, 700), (1000, 64), (64, 64), (513, 511)])
def test_odd_image_sizes(size):
    data = aigic.encode(synthetic(*size), prompt="x")
    w, h = coding_size(*size)
    assert w % 64 == 0 and h % 64 == 0 and min(w, h) >= 64
    assert aigic.decode(data, backend="preview").size == size


def test_sixteen_bit_png_and_palette_with_transparency():
    arr = np.arange(128 * 96, dtype=np.uint16).reshape(96, 128) * 5
    img16 = Image.fromarray(arr)
    assert img16.mode.startswith("I;16")
    assert aigic.inspect(aigic.encode(png_bytes(img16), prompt="g"))["width"] == 128
    pal = synthetic(96, 96).convert("P")
    pal.info["transparency"] = 0
    assert aigic.inspect(aigic.encode(png_bytes(pal), prompt="p"))["height"] == 96


def test_bad_images_fail_with_one_clear_line(tmp_path):
    good = png_bytes(synthetic(64, 64))
    for junk in (b"", b"not an image at all", good[: len(good) // 2]):
        with pytest.raises(ImageInputError) as err:
            aigic.encode(junk)
        assert "\n" not in str(err.value)
    with pytest.raises(ImageInputError, match="limit"):
        from aigic.imaging.images import load_image

        load_image(png_bytes(synthetic(300, 300)), max_pixels=10_000)


def test_metadata_sources():
    a1111 = "a castle on a hill\nNegative prompt: ugly\nSteps: 20, Sampler: Euler"
    assert prompt_from_metadata({"parameters": a1111}) == ("a castle on a hill", "parameters")
    comfy = {
        "3": {"class_type": "KSampler", "inputs": {"positive": ["6", 0], "negative": ["7", 0]}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry"}},
    }
    assert prompt_from_metadata({"prompt": json.dumps(comfy)})[0] == "a fox"
    assert (
        prompt_from_metadata({"invokeai_metadata": json.dumps({"positive_prompt": "owl"})})[0]
        == "owl"
    )
    sd = {"image": {"prompt": [{"prompt": "blue cube", "weight": 1.0}]}}
    assert prompt_from_metadata({"sd-metadata": json.dumps(sd)})[0] == "blue cube"
    assert prompt_from_metadata({"Dream": '"mountain man" -s 20 -S 1'})[0] == "mountain man"
    uc = b"UNICODE\0" + "a lake at dawn".encode("utf-16-be")
    assert prompt_from_metadata({"exif_user_comment": uc})[0] == "a lake at dawn"
    xmp = '<x:xmpmeta><dc:description><rdf:Alt><rdf:li xml:lang="x-default">red kite</rdf:li></rdf:Alt></dc:description></x:xmpmeta>'
    assert prompt_from_metadata({"XML:com.adobe.xmp": xmp})[0] == "red kite"
    assert prompt_from_metadata({"prompt": "{not json"}) == ("", None)


def test_png_text_chunk_prompt_is_used_and_user_prompt_wins():
    data = png_bytes(synthetic(128, 128), parameters="a tiny robot\nSteps: 4")
    assert aigic.inspect(aigic.encode(data))["prompt"] == "a tiny robot"
    assert aigic.inspect(aigic.encode(data, prompt="mine"))["prompt"] == "mine"


def test_non_strict_decode_drops_damaged_layers(sample_stream):
    from aigic.format.container import Chunk, write

    bs = parse(sample_stream)
    broken = write(bs.with_chunk(Chunk(3, b"\x00\x08\x08\x63garbage!")))
    with pytest.raises(aigic.FormatError):
        aigic.decode(broken, backend="preview")
    lay = aigic.read_layers(broken, strict=False)
    assert lay.dropped == ("texture",) and lay.semantic is not None
    assert aigic.decode(broken, backend="preview", strict=False).size == (512, 512)


def test_readme_python_example_runs_as_written(monkeypatch, tmp_path):
    root = Path(__file__).parents[1]
    monkeypatch.chdir(root)  # the example names assets/ relative to the repository
    readme = (root / "README.md").read_text()
    snippet = next(b for b in readme.split("```python")[1:] if "import aigic" in b)
    example = tmp_path / "readme_example.py"
    example.write_text(snippet.split("```")[0])
    scope = runpy.run_path(str(example))
    assert scope["img"].size == (512, 512)
    changed = changed_layers(scope["data"], scope["data2"])
    assert changed == {"semantic": "changed", "structure": "identical", "texture": "changed"}


def test_rate_control_also_tries_a_factor_between_the_fitting_one_and_the_next_finer():
    from aigic.encoder import ratecontrol
    from aigic.encoder.presets import FACTORS

    make = lambda f: _sized(round(4000 / f**2))  # bytes fall as the grid coarsens
    found = ratecontrol._fitting(make, budget=300)
    table, between = found
    assert table[0] in FACTORS and len(write(table[1])) <= 300 < len(
        write(make(FACTORS[FACTORS.index(table[0]) - 1]))
    )
    assert FACTORS[FACTORS.index(table[0]) - 1] < between[0] < table[0]
    assert len(write(between[1])) <= 300
    assert len(write(between[1])) > len(write(table[1]))  # uses more of the budget
    assert ratecontrol._fitting(make, budget=5000) == [(1, make(1))]  # lossless fits: only that
    assert ratecontrol._fitting(make, budget=1) == []


def _sized(n: int):
    """A stream whose structure chunk is ``n`` bytes."""
    from aigic.format.container import Bitstream

    return Bitstream(512, 512).with_chunk(Chunk(CHUNK_STRUCTURE, b"x" * n))


@pytest.mark.parametrize("budget", [1, 60, 300, 301, 1000, 5000])
@pytest.mark.parametrize("power", [0.7, 1.0, 2.0, 3.5])
def test_the_aimed_factor_search_finds_what_bisection_finds(budget, power):
    """The factor search aims each trial where the bytes seen would meet the budget: it
    keeps the finest fitting factor, as a bisection does, whatever the power the bytes fall
    by, in no more trials than a bisection takes."""
    from aigic.encoder import ratecontrol
    from aigic.encoder.presets import FACTORS

    tried = []
    make = lambda f: tried.append(f) or _sized(round(4000 / f**power))
    found = ratecontrol._first_fitting(FACTORS, make, budget)
    fitting = [f for f in FACTORS if len(write(_sized(round(4000 / f**power)))) <= budget]
    assert (found[0] if found else None) == (fitting[0] if fitting else None)
    assert len(tried) <= math.ceil(math.log2(len(FACTORS) + 1)) + 1


def test_a_plain_trial_keeps_its_quick_code_when_that_settles_the_fit():
    """A plain-grid trial is first coded by the quick codec (no learned predictor): it keeps
    that code when it fits or is too long for any learned codec to fit, and is coded by the
    learned codecs only in between; the kept stream still ends in its shortest code."""
    from aigic.encoder import ratecontrol
    from aigic.encoder.reduce import edge_layer
    from aigic.format.container import Bitstream
    from aigic.layers.structure import EDGE_MODELS, WRITTEN
    from tests.test_rdgrid import _random_sketch

    sketch = _random_sketch(3, 256)
    base = Bitstream(256, 256)
    layer = edge_layer(sketch, 2.0, "sketch", style="strokes")
    codes = {c: layer.to_payload(c) for c in WRITTEN[layer.restore]}
    quick = next(c for c in codes if not EDGE_MODELS[c])
    shortest = min(codes, key=lambda c: (len(codes[c]), c))
    assert shortest != quick  # the learned codecs win on this map

    def trial(budget):
        token = ratecontrol._SEARCH.set(ratecontrol._Search())
        try:
            stream = ratecontrol._with_structure(base, layer, budget)
        finally:
            ratecontrol._SEARCH.reset(token)
        return stream.chunk(CHUNK_STRUCTURE).payload[0], len(write(stream))

    overhead = len(write(base.with_chunk(Chunk(CHUNK_STRUCTURE, codes[quick]))))
    overhead -= len(codes[quick])
    assert trial(overhead + len(codes[quick])) == (quick, overhead + len(codes[quick]))  # fits
    assert trial(overhead + len(codes[quick]) // 2)[0] == quick  # far over: settled
    between = overhead + (len(codes[quick]) + len(codes[shortest])) // 2
    assert trial(between) == (shortest, overhead + len(codes[shortest]))  # learned, and fits


@pytest.mark.parametrize("preset", ["default", "fine"])
def test_a_canny_encode_is_the_same_on_one_core_or_two(monkeypatch, preset):
    """Canny's two line styles search side by side when the process may use two cores, each
    with a state of its own, and the codecs of a new grid size run side by side: the stream
    must be the same byte for byte as when everything runs one after another."""
    from aigic.encoder import ratecontrol

    image = png_bytes(synthetic(512, 384, seed=5))
    streams = []
    for cores in (1, 2):
        monkeypatch.setattr(ratecontrol, "threads", lambda cores=cores: cores)
        streams.append(aigic.encode(image, structure="canny", preset=preset, prompt="a test"))
    assert streams[0] == streams[1]
