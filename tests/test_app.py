"""The Gradio app: handlers in-process, then the HTTP API through gradio_client."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

import aigic
import app
from aigic import parse
from webapp import handlers

from .conftest import png_bytes, synthetic

EXAMPLE = str(app.ROOT / "assets" / "fennec_bottle_sdxlturbo.png")


@pytest.fixture(scope="module")
def encoded():
    return handlers.encode(EXAMPLE, "", "canny", "default", None)


def test_encode_handler_shows_bytes_per_layer_and_previews(encoded):
    data, rows, text, structure, grid, path, origin = encoded
    assert origin == handlers.image_digest(str(EXAMPLE))
    assert parse(data).width == 512
    names = [r[0] for r in rows]
    assert names == ["semantic", "structure", "texture", "overhead", "total"]
    assert sum(r[4] for r in rows[:-1]) == len(data) == rows[-1][4]
    payloads = {c.name: c.payload for c in parse(data).chunks}
    assert [r[2] for r in rows[:3]] == [payloads[n][0] for n in names[:3]]  # codec codes
    assert f"{len(data)} bytes" in text and "bpp" in text and "Structure: **" in text
    assert structure.shape == (512, 512, 3) and grid.shape == (512, 512, 3)
    assert Path(path).read_bytes() == data and path.endswith("fennec_bottle_sdxlturbo.aigic")


def test_prompt_is_read_from_metadata_and_budget_is_respected(tmp_path):
    p = tmp_path / "a.png"
    p.write_bytes(png_bytes(synthetic(), parameters="a lighthouse at dusk\nSteps: 20"))
    prompt, shown, note = handlers.read_prompt(str(p))
    assert prompt == "a lighthouse at dusk" and shown.size == (320, 256) and note == ""
    bare = tmp_path / "bare.png"
    bare.write_bytes(png_bytes(synthetic()))
    assert (
        handlers.read_prompt(str(bare))[0] == ""
        and "no prompt" in handlers.read_prompt(str(bare))[2]
    )
    text = handlers.encode(str(bare), "", "canny", "default", 0)[2]
    assert "no prompt given" in text
    data, _, text, *_ = handlers.encode(str(p), "", "canny", "fine", 200)
    assert len(data) <= 200 and "did not fit" not in text
    data, _, text, *_ = handlers.encode(str(p), "", "canny", "fine", 40)
    assert len(data) <= 40
    assert "structure and texture did not fit the budget of 40 bytes and were left out" in text


def test_inspect_views_and_progressive_decode(encoded):
    data = encoded[0]
    _, header, prompt, structure, grid = handlers.inspect(data)
    assert header["width"] == 512 and header["total_bytes"] == len(data)
    assert prompt and structure is not None and grid is not None
    decode = handlers.make_decode("preview")
    text_only, plus_structure, plus_texture, note = decode(data, ["semantic", "structure"], 3)
    assert text_only is not None and plus_structure is not None and plus_texture is None
    assert "preview" in note
    assert app.progressive_steps(["texture", "semantic"]) == [
        ["semantic"],
        None,
        ["semantic", "texture"],
    ]


def test_edits_change_only_their_layer(encoded):
    data = encoded[0]
    new, rows, _ = handlers.edit_prompt(data, "a red fox")
    assert dict(rows) == {"semantic": "changed", "structure": "identical", "texture": "identical"}
    new, rows, _ = handlers.edit_recolor(new, 1, 2, "#00ff00")
    assert dict(rows)["texture"] == "changed" and dict(rows)["semantic"] == "identical"
    assert handlers.edit_recolor(new, 1, 2, "rgba(0, 255, 0, 1)")[0] == new
    _, rows, _ = handlers.edit_shift(new, 30, 5)
    assert dict(rows)["texture"] == "changed"
    _, rows, _ = handlers.edit_erase(new, 0.2, 0.2, 0.6, 0.6, True)
    assert dict(rows)["structure"] == "changed" and dict(rows)["semantic"] == "identical"
    image = handlers.make_regenerate("preview")(new, None)
    assert image.size == (512, 512)


def test_replace_structure_with_a_sketch(encoded, tmp_path):
    sketch = tmp_path / "s.png"
    synthetic(128, 128).convert("L").point(lambda v: 255 if v > 200 else 0).save(sketch)
    grid = aigic.inspect(encoded[0])["structure_grid"]
    for keep, want in ((True, grid), (False, (512, 512))):
        data, rows, _ = handlers.edit_sketch(encoded[0], str(sketch), keep)
        assert dict(rows)["structure"] == "changed" and dict(rows)["texture"] == "identical"
        assert aigic.inspect(data)["structure_grid"] == want


def test_compare_shows_jpeg_and_webp_beside_the_stream(encoded):
    compare = handlers.make_compare("preview")
    original, decoded, jpeg, webp, table = compare(encoded[0], EXAMPLE, encoded[-1])
    assert original.size == decoded.size == jpeg.size == webp.size
    sizes = {r[0]: r[1] for r in table}
    assert sizes["aigic"] == len(encoded[0]) < sizes["WebP q0"] < sizes["JPEG q1"]
    for row in table:  # PSNR, MS-SSIM, NIQE of each against the original
        psnr, ms_ssim, niqe = row[4:]
        assert 5 < float(psnr) < 60 and 0 < float(ms_ssim) <= 1, row
        assert niqe == "n/a" or float(niqe) > 0, row
    assert float(table[1][4]) > float(table[0][4])  # JPEG at 20x the bytes is closer in PSNR


def _jpeg() -> bytes:
    import io

    buf = io.BytesIO()
    synthetic().save(buf, "JPEG", quality=90)
    return buf.getvalue()


BAD_IMAGES = [
    (b"not an image at all", "not a readable image"),
    (b"", "not a readable image"),
    (png_bytes(synthetic())[:200], "damaged or truncated"),
    (_jpeg()[:300], "damaged or truncated"),
]


@pytest.mark.parametrize("content, message", BAD_IMAGES)
def test_bad_image_uploads_are_plain_errors(tmp_path, content, message):
    p = tmp_path / "bad.png"
    p.write_bytes(content)
    for handler in (
        lambda: handlers.read_prompt(str(p)),
        lambda: handlers.encode(str(p), "", "canny", "default", 0),
    ):
        with pytest.raises(gr.Error, match=message) as err:
            handler()
        assert "\n" not in str(err.value.message)


def test_bad_streams_are_plain_errors(tmp_path, encoded):
    p = tmp_path / "x.aigic"
    p.write_bytes(b"\xa1G garbage")
    with pytest.raises(gr.Error):
        handlers.load_stream(str(p))
    p.write_bytes(encoded[0] + b"\0" * (app.MAX_STREAM + 1 - len(encoded[0])))
    with pytest.raises(gr.Error, match=f"over {app.MAX_STREAM} bytes"):  # the size check's own
        handlers.load_stream(str(p))
    p.write_bytes(b"\0" * app.MAX_STREAM)  # at the limit: parsed, and refused as no stream
    with pytest.raises(gr.Error) as refused:
        handlers.load_stream(str(p))
    assert "bytes:" not in str(refused.value)
    with pytest.raises(gr.Error, match="no stream yet"):
        handlers.inspect(None)
    p.write_bytes(encoded[0])
    assert handlers.load_stream(str(p)) == (encoded[0], None)


def test_upload_names_are_sanitized():
    assert app.safe_name("../../etc/passwd", ".aigic") == "passwd.aigic"
    assert app.safe_name("a b;rm -rf $(x).png", ".aigic") == "a_b_rm_-rf_x.aigic"
    assert app.safe_name("", ".aigic") == "image.aigic"


def test_download_folder_stays_bounded_under_concurrent_saves():
    from concurrent.futures import ThreadPoolExecutor

    from webapp.views import save_stream

    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda i: save_stream(b"x" * i, f"s{i}.aigic"), range(200)))
    assert all(Path(p).parent.parent == app.OUT for p in paths)
    assert Path(paths[-1]).read_bytes() == b"x" * 199
    assert len(list(app.OUT.iterdir())) <= 65


def test_compare_refuses_a_stream_and_an_image_that_do_not_belong_together(encoded, tmp_path):
    compare = handlers.make_compare("preview")
    with pytest.raises(gr.Error, match="loaded from a file"):
        compare(encoded[0], EXAMPLE, None)  # a stream uploaded on Inspect
    other = str(app.ROOT / "assets" / "banana_sushi_sd15.png")
    with pytest.raises(gr.Error, match="not the one this stream was encoded from"):
        compare(encoded[0], other, encoded[-1])


def test_the_decode_tab_shows_what_stable_diffusion_receives(encoded):
    structure, colour, text = handlers.decoder_inputs(encoded[0])
    lay = aigic.read_layers(encoded[0])
    assert (structure == lay.structure.condition(lay.size)).all()
    assert (colour == lay.texture.condition(lay.size)).all()  # the grid, upsampled
    from aigic.backends.profiles import get_profile

    profile = get_profile(lay.profile)  # SDXL's: the fennec image was made by SDXL Turbo
    assert lay.semantic.text in text and profile.adapters["canny"] in text
    assert "img2img" in text and "1024×1024" in text  # SDXL has no colour adapter
    assert "25 steps" in text and "auto** decodes it with" in text
    assert handlers.decoder_inputs(None) == (None, None, "")


def test_the_decoder_line_names_the_one_command_to_get_stable_diffusion(monkeypatch):
    from webapp import models_panel

    monkeypatch.setattr(models_panel, "sd15_available", lambda: (False, "no weights here"))
    note = models_panel.decoder_note("auto")
    assert "**preview**" in note and "because no weights here" in note
    assert "`aigic models download`" in note
    assert models_panel.decoder_note("preview").endswith("as asked.")


@pytest.mark.parametrize("reachable", [False, True])
def test_the_download_button_shows_only_where_the_hub_answers(monkeypatch, reachable):
    from aigic.weights import download
    from webapp import models_panel

    monkeypatch.setattr(models_panel, "sd15_available", lambda: (False, "no weights here"))
    monkeypatch.setattr(download.HubSource, "reachable", lambda self: reachable)
    with gr.Blocks() as demo:
        models_panel.build("auto")
    ids = [getattr(b, "elem_id", None) for b in demo.blocks.values()]
    assert ("download-sd" in ids) == reachable and "decoder-note" in ids


def test_a_failed_download_is_one_plain_line_on_the_page(monkeypatch):
    from aigic.weights import download
    from webapp import models_panel

    def refuse(wanted, source):
        raise download.HubUnreachable("the Hugging Face hub cannot be reached: would fetch x")

    monkeypatch.setattr(download, "make_plan", refuse)
    with pytest.raises(gr.Error, match="cannot be reached"):
        models_panel.fetch(progress=lambda *a, **k: None)


def test_the_encode_summary_says_what_was_cut_skipped_or_carried(tmp_path):
    long = ", ".join(f"detail number {i}" for i in range(80))  # well over 150 tokens
    path = tmp_path / "long.png"
    path.write_bytes(png_bytes(synthetic(256, 256), parameters=f"{long}\nNegative prompt: ugly"))
    text = handlers.encode(str(path), "", "canny", "fine", None)[2]
    assert "ℹ the prompt was cut to the 150 tokens" in text and "--full-prompt" not in text
    junk = tmp_path / "junk.png"
    junk.write_bytes(png_bytes(synthetic(256, 256), parameters="\x00\x01\x02\x03 binary"))
    text = handlers.encode(str(junk), "", "canny", "default", None)[2]
    assert "ℹ image metadata parameters: " in text and ": not used" in text
    path3 = tmp_path / "neg.png"
    path3.write_bytes(png_bytes(synthetic(256, 256), parameters="a fox\nNegative prompt: ugly"))
    text = handlers.encode(str(path3), "", "canny", "lossless", None)[2]
    assert "ℹ carries the image's negative prompt (4 characters)" in text
    # the prompt box as read_prompt filled it: the image's own prompt, negative prompt too
    assert handlers.read_prompt(str(path3))[0] == "a fox"
    text = handlers.encode(str(path3), "a fox", "canny", "lossless", None)[2]
    assert "ℹ carries the image's negative prompt (4 characters)" in text
    text = handlers.encode(str(path3), "a red fox", "canny", "lossless", None)[2]
    assert "negative prompt" not in text  # the user's own prompt: the image's negative no longer


USER_ACTIONS = {  # the app's HTTP API: every user action, by the name a client calls
    "read_prompt", "encode", "load_stream", "inspect", "refresh_inspect", "decode",
    "decoder_inputs", "edit_prompt", "edit_recolor", "edit_shift", "edit_erase", "edit_sketch",
    "undo", "download", "regenerate", "compare",
}  # fmt: skip


def test_every_user_action_is_a_named_api_event_and_the_rest_stay_out_of_the_docs():
    demo = app.build_demo("preview")
    public = {f.api_name for f in demo.fns.values() if f.api_visibility == "public"}
    assert public == USER_ACTIONS
    others = [f for f in demo.fns.values() if f.api_visibility != "public"]
    assert others and all(f.api_visibility == "undocumented" for f in others)  # the page's own


def test_the_summary_states_bpp_at_the_coding_size_and_of_the_original(tmp_path):
    p = tmp_path / "wide.png"
    p.write_bytes(png_bytes(synthetic(1000, 600)))
    data, _, text, *_ = handlers.encode(str(p), "a wide picture", "canny", "default", None)
    cw, ch = aigic.inspect(data).header.coding_size
    coded, original = len(data) * 8 / (cw * ch), len(data) * 8 / (1000 * 600)
    assert f"{coded:.4f} bpp** at the coding size {cw}×{ch}" in text
    assert f"{original:.4f} bpp of the original 1000×600" in text
    assert (cw, ch) != (1000, 600) and f"{coded:.4f}" != f"{original:.4f}"


def test_the_encode_controls_are_the_settings_declarations():
    from aigic.encoder.settings import DEFAULTS, OPTIONS

    demo = app.build_demo("preview")
    controls = {b.label: b for b in demo.blocks.values() if getattr(b, "label", None)}
    for label, name in (
        ("Structure", "structure"),
        ("Preset", "preset"),
        ("Lossy edge style", "style"),
    ):
        control = controls[label]
        assert [c[0] for c in control.choices] == list(OPTIONS[name].choices)
        assert control.value == DEFAULTS[name] and control.info == OPTIONS[name].help


def test_a_refused_upload_says_the_stream_before_is_still_loaded(tmp_path, encoded):
    p = tmp_path / "bad.aigic"
    p.write_bytes(b"\xa1G garbage")
    with pytest.raises(gr.Error) as refused:
        handlers.load_stream(str(p), encoded[0])
    assert f"The stream before ({len(encoded[0])} bytes) is still loaded." in str(refused.value)
    with pytest.raises(gr.Error) as refused:
        handlers.load_stream(str(p), None)  # nothing loaded before: nothing to say about it
    assert "still loaded" not in str(refused.value)


def test_a_stream_without_structure_says_so_and_why():
    _, rows, text, structure, *_ = handlers.encode(EXAMPLE, "", "canny", "tiny", None)
    assert "structure" not in [r[0] for r in rows] and structure is None
    assert "Structure: **" not in text
    assert "No structure layer: the tiny preset keeps the prompt and the colour grid only." in text


def test_the_inspect_legend_names_every_chunk_type_and_structure_codec():
    from aigic.format.codes import CHUNK_NAMES, STRUCTURE_CODECS
    from webapp.views import inspect_legend

    legend = inspect_legend()
    assert all(f"{code} {name}" in legend for code, name in CHUNK_NAMES.items())
    assert all(f"{code} {c.redraw}" in legend for code, c in STRUCTURE_CODECS.items())
    for column in ("**type**", "**codec**", "**offset**", "**bytes**"):
        assert column in legend


def test_a_picture_file_is_written_once_and_never_seen_half_written():
    """gr.Image rewrites <cache>/<hash>/image.webp on every output of the same picture, so one
    output can overwrite the file another is serving (a broken picture in the browser, h11's
    Content-Length error in the log). webapp.pictures writes each picture once, by content."""
    import os
    import threading

    import numpy as np

    from webapp.pictures import Picture, picture_file

    array = np.random.default_rng(0).integers(0, 255, (96, 128, 3)).astype(np.uint8)
    plain = gr.Image()
    first = plain.postprocess(array).path
    written = os.stat(first).st_mtime_ns
    os.utime(first, ns=(written - 10**9, written - 10**9))  # as if served a second ago
    assert plain.postprocess(array).path == first and os.stat(first).st_mtime_ns > written - 10**9

    path = picture_file(array)
    size, inode = os.path.getsize(path), os.stat(path).st_ino
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            with open(path, "rb") as f:
                seen.add(len(f.read()))

    reader = threading.Thread(target=read)
    reader.start()
    writers = [
        threading.Thread(target=lambda: [picture_file(array) for _ in range(50)]) for _ in range(4)
    ]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    reader.join()
    assert seen == {size} and os.stat(path).st_ino == inode  # whole every time, never rewritten
    assert Picture().postprocess(array).path == path


def test_encode_reports_each_stage_by_name():
    from aigic.encoder.settings import STAGES

    heard = []
    handlers.encode(
        EXAMPLE, "a fox", "canny", "default", None, progress=lambda f, desc: heard.append(desc)
    )
    assert heard == [STAGES[0], STAGES[2], STAGES[3], STAGES[4]]  # no caption: a prompt given


def test_examples_say_what_they_need_and_each_starts_with_a_prompt(tmp_path):
    rows, labels = app.example_rows()  # the suite has no PiDiNet or OpenPose weights
    assert len(rows) == len(labels) == len(app.EXAMPLES)
    for (_, kind), label in zip(rows, labels):
        needs = kind in ("sketch", "pose")
        assert ("weights here" in label) == needs, label
    read = handlers.make_read_prompt(app.example_prompts())
    for path, _ in rows:
        assert read(path)[0], f"{path} starts with no prompt"
    other = tmp_path / "x.png"
    other.write_bytes(png_bytes(synthetic(64, 64)))
    assert read(str(other))[0] == ""  # only the examples' own images


def test_a_missing_extractor_is_explained_in_the_pages_words():
    with pytest.raises(gr.Error) as info:
        handlers.encode(EXAMPLE, "a fox", "sketch", "default", None)
    text = str(info.value.message)
    assert "PiDiNet" in text and "Structure: canny" in text and "--" not in text
    line = app.models_panel.extractor_note()
    assert "canny** (Canny) ✓" in line and "sketch** (PiDiNet) ✗" in line and "OpenPose" in line


def test_a_link_opens_its_stream_and_bad_link_data_is_one_line(encoded):
    from types import SimpleNamespace

    data = encoded[0]
    link = handlers.stream_link(data, None)
    assert aigic.from_link(link) == data
    request = SimpleNamespace(query_params={"s": link.split("?s=")[1]}, headers={})
    got, origin, linked, note = handlers.open_link(request)
    assert got == data and origin is None and linked and f"{len(data)} bytes" in note
    nothing = handlers.open_link(SimpleNamespace(query_params={}, headers={}))
    assert nothing[2] is False
    with pytest.raises(gr.Error, match="not base64url"):
        handlers.open_link(SimpleNamespace(query_params={"s": "$$$"}, headers={}))
    page = SimpleNamespace(headers={"referer": "https://space.example/app/?s=old#x"})
    assert handlers.stream_link(data, page).startswith("https://space.example/app/?s=")


def test_a_zerogpu_call_asks_for_the_time_its_profile_needs(encoded):
    data = encoded[0]
    one = handlers.gpu_seconds(data, [["semantic"]])
    three = handlers.gpu_seconds(data, [["semantic"], ["semantic", "structure"], aigic.LAYERS])
    assert 20 <= one < three <= 120
    assert handlers.gpu_seconds(b"junk", [aigic.LAYERS]) >= 20


def test_a_space_loads_its_decoder_at_start_up(monkeypatch):
    import aigic.backends

    built = []

    class Backend:
        def pipeline(self, profile, kinds):
            built.append((profile.name, kinds))

    monkeypatch.setattr(aigic.backends, "get_backend", lambda name: Backend())
    app.preload("auto")
    from aigic.needs import DEFAULT_PROFILE

    assert built == [(DEFAULT_PROFILE, ("sketch", "color"))]
