"""The app in a real browser: Debian's Chromium driven by Playwright against 127.0.0.1.

Screenshots of every tab go to $AIGIC_SCREENSHOTS (default out/screenshots); the README's come
from here. The tests run in order on one page (a later tab reads the stream an earlier one
made); the server, the page and the helpers are in browser_kit.py. Without Chromium they are
skipped with the reason, except on a Debian machine where `make test` could have installed it
(then they fail: CI must run them).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest

from aigic import parse
from tests.browser_kit import (
    ASTRONAUT,
    CHROMIUM,
    EXAMPLE,
    FLAGS,
    PIDINET,
    ROOT,
    SHOTS,
    changed_cells,
    jpeg_bytes,
    picture,
    shot,
    tab,
    toast,
    upload_image,
    wait_text,
)
from tests.conftest import wait_for_port

pytestmark = pytest.mark.browser
SERVER_LOG = SHOTS.parent / "browser-server.log"


def _need_chromium():
    if os.path.exists(CHROMIUM):
        return
    why = f"{CHROMIUM} not found (install Debian's chromium: apt-get install chromium)"
    if shutil.which("apt-get") and os.geteuid() == 0:
        pytest.fail(f"{why}; `make test` installs it on this machine")
    pytest.skip(why)


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    _need_chromium()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, AIGIC_PORT=str(port), AIGIC_BACKEND="preview")
    if PIDINET.exists():  # the app then encodes sketches by default, as with the weights cached
        models = tmp_path_factory.mktemp("models")
        (models / "lllyasviel" / "Annotators").mkdir(parents=True)
        (models / "lllyasviel" / "Annotators" / PIDINET.name).symlink_to(PIDINET)
        env["AIGIC_MODEL_DIR"] = str(models)
    else:
        print(f"browser tests encode Canny maps: {PIDINET} not found")
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    log = open(SERVER_LOG, "w", encoding="utf-8")  # noqa: SIM115 (open while the server runs)
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    address = f"http://127.0.0.1:{port}/"
    if not wait_for_port(port):
        proc.kill()
        pytest.fail(f"the app did not start within 90 s: {SERVER_LOG.read_text()[-2000:]}")
    yield address
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


def server_errors() -> list[str]:
    """Lines of the server's log that tell of an exception (none may appear: bad input is a
    one-line message in the page, never a traceback in the log)."""
    text = SERVER_LOG.read_text(encoding="utf-8", errors="replace")
    marks = ("Traceback", "Exception in ASGI", "LocalProtocolError", "ERROR:")
    return [line for line in text.splitlines() if any(m in line for m in marks)]


WATCH_STAGES = """stages => {
    window.seenStages = [];
    new MutationObserver(() => {
        const text = document.body.innerText;
        for (const s of stages)
            if (text.includes(s) && !window.seenStages.includes(s)) window.seenStages.push(s);
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""  # records, in order, which of ``stages`` the page has shown


@pytest.fixture(scope="module")
def page(url, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            accept_downloads=True,
            viewport={"width": 1400, "height": 1000},
        )
        pg = ctx.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(url)
        pg.wait_for_selector("#encode")
        yield pg
        ctx.close()


def test_encode_tab_and_download(page, tmp_path):
    page.locator("#image input[type=file]").set_input_files(str(EXAMPLE))
    page.wait_for_function(
        "document.querySelector('#prompt textarea').value.length > 0", timeout=30_000
    )
    page.locator("#encode").click()
    table = page.locator("#enc-table")
    table.get_by_text("overhead").wait_for()
    text = table.inner_text()
    for name in ("semantic", "structure", "texture", "overhead", "total"):
        assert name in text
    assert "bpp" in page.locator("#enc-summary").inner_text()
    rows = page.eval_on_selector_all(
        "#enc-table [role=row]",
        "rows => rows.map(r => [...r.querySelectorAll('.cell-wrap')].map(c => c.innerText.trim()))",
    )
    cells = [r for r in rows if r and r[0] in ("semantic", "structure", "texture")]
    assert len(cells) == 3, cells
    offsets, sizes = [int(r[3]) for r in cells], [int(r[4]) for r in cells]
    for i in range(len(offsets) - 1):  # each chunk starts after the one before it ends
        assert offsets[i] + sizes[i] < offsets[i + 1] <= offsets[i] + sizes[i] + 4
    link = page.locator("#enc-file a").first
    link.wait_for()
    with page.expect_download() as info:
        link.click()
    path = tmp_path / "dl.aigic"
    info.value.save_as(path)
    bs = parse(path.read_bytes())
    assert (bs.width, bs.height) == (512, 512)
    types = [c.type for c in bs.chunks]  # + the image's negative prompt (128) where it fits
    assert types in ([1, 2, 3], [1, 2, 3, 128]), types
    assert path.stat().st_size * 8 / (512 * 512) <= 0.010  # the default preset's rate
    shot(page, "encode")


def test_inspect_tab(page):
    tab(page, "Inspect")
    page.locator("#inspect").click()
    page.locator("#ins-table").get_by_text("texture").first.wait_for()
    assert "fennec" in page.locator("#ins-prompt textarea").input_value().lower()
    shot(page, "inspect")


def test_a_link_opens_the_stream_and_decodes_it(page, url):
    link = page.locator("#stream-link textarea").input_value()
    assert link.startswith(url) and "?s=" in link
    other = page.context.new_page()
    try:
        other.goto(link)
        wait_text(other, "#link-note", "Opened the stream in the link")
        other.get_by_role("tab", name="Progressive decode").click()
        for view in ("#dec-text", "#dec-structure", "#dec-texture"):
            other.wait_for_function(
                f"(() => {{ const i = document.querySelector('{view} img');"
                " return i !== null && i.complete && i.naturalWidth > 0; })()"
            )
        wait_text(other, "#dec-note", "decoded with")
        assert other.locator("#stream-link textarea").input_value() == link
        for bad, says in (
            ("?s=%25%25not-base64", "not base64url"),
            ("?s=AAAAAAAA", "not an aigic stream"),
            ("?s=" + "A" * 20000, "not an aigic link"),
        ):
            other.goto(url + bad)
            toast(other, says)
            other.wait_for_selector("#encode")  # the page still works
    finally:
        other.close()


def test_progressive_decode_tab(page):
    tab(page, "Progressive decode")
    page.locator("#layers").get_by_label("texture").uncheck()
    page.locator("#decode").click()
    page.locator("#dec-note").get_by_text("decoded with").wait_for()
    assert page.locator("#dec-text img").count() == 1
    assert page.locator("#dec-structure img").count() == 1
    assert page.locator("#dec-texture img").count() == 0
    page.locator("#layers").get_by_label("texture").check()
    steps = ["decoding semantic", "decoding semantic + structure + texture"]
    page.evaluate(WATCH_STAGES, steps)
    page.locator("#decode").click()
    page.locator("#dec-texture img").wait_for()
    seen = page.evaluate("() => window.seenStages")
    assert seen and seen == [s for s in steps if s in seen], seen  # the decodes, named, in order
    page.locator("#cond-structure img").wait_for()  # what the adapters receive
    page.locator("#cond-colour img").wait_for()
    # the sample was made by SDXL Turbo: an SDXL stream (no colour adapter; the grid by img2img)
    wait_text(page, "#cond-text", "t2i-adapter-(canny|sketch)-sdxl[\\s\\S]*img2img")
    shot(page, "decode")


def test_edit_tab(page):
    from webapp.editing import cell_size

    tab(page, "Edit")
    page.wait_for_function(
        "document.querySelector('#new-prompt textarea').value.startsWith('beautiful')"
    )  # the box starts from the current prompt
    page.locator("#new-prompt textarea").fill("a red fox with a glass bottle")
    page.locator("#set-prompt").click()
    page.wait_for_function(
        "(() => { const t = document.querySelector('#edit-table').innerText;"
        " return /semantic\\s+changed/.test(t) && /texture\\s+identical/.test(t); })()"
    )
    grid = page.locator("#edit-grid img").first
    grid.wait_for()
    s = cell_size((8, 8))
    box = grid.bounding_box()
    natural = picture(page, "#edit-grid").shape
    zoom = box["width"] / natural[1]
    grid.click(position={"x": (5 * s + s / 2) * zoom, "y": (2 * s + s / 2) * zoom})
    page.wait_for_function(
        "document.querySelector('#cell-row input').value === '2' &&"
        " document.querySelector('#cell-col input').value === '5'"
    )
    before = picture(page, "#edit-grid")
    page.locator("#recolor").click()
    page.wait_for_function(
        "(() => { const t = document.querySelector('#edit-history').innerText;"
        " return /recolour cell/.test(t); })()"
    )
    page.wait_for_timeout(1500)  # the picture follows the stream
    after = picture(page, "#edit-grid")
    changed = changed_cells(before, after, s)
    assert changed == {(2, 5)}, changed  # the cell picked by clicking is the one recoloured
    assert after[2 * s + s - 4, 5 * s + s - 4][0] > 200  # red
    page.locator("#regenerate").click()
    page.locator("#edit-image img").wait_for()
    shot(page, "edit")
    page.locator("#undo").click()
    page.wait_for_function(
        "!/recolour cell/.test(document.querySelector('#edit-history').innerText)"
    )
    tab(page, "Inspect")
    page.locator("#inspect").click()
    page.wait_for_function(
        "document.querySelector('#ins-prompt textarea').value.startsWith('a red fox')"
    )


def test_compare_tab(page):
    tab(page, "Compare")
    page.locator("#compare").click()
    wait_text(page, "#cmp-table", r"JPEG q1[\s\S]*WebP q0")
    text = page.locator("#cmp-table").inner_text()
    for column in ("PSNR", "MS-SSIM", "NIQE"):
        assert column in text, text
    rows = page.eval_on_selector_all(
        "#cmp-table [role=row]",
        "rows => rows.map(r => [...r.querySelectorAll('.cell-wrap')].map(c => c.innerText.trim()))",
    )
    named = {r[0]: r for r in rows if r and r[0] in ("aigic", "JPEG q1", "WebP q0")}
    assert len(named) == 3, rows
    for name, row in named.items():  # PSNR and MS-SSIM measured for each (512x512 here)
        psnr, ms_ssim = float(row[-3]), float(row[-2])
        assert 5 < psnr < 60 and 0 < ms_ssim <= 1, (name, row)
        assert row[-1] == "n/a" or float(row[-1]) > 0, (name, row)
    shot(page, "compare")


def test_bad_upload_shows_an_error_and_the_app_keeps_working(page, tmp_path):
    tab(page, "Inspect")
    bad = tmp_path / "broken.aigic"
    bad.write_bytes(b"\xa1G\x01 this is not a stream")
    page.locator("#upload-stream input[type=file]").set_input_files(str(bad))
    page.get_by_text("bitstream", exact=False).first.wait_for()
    page.locator("#inspect").click()  # the previous stream is still there
    page.locator("#ins-table").get_by_text("semantic").first.wait_for()

    assert page.locator("#upload-stream").get_by_text("broken.aigic").count() == 0  # cleared


def test_every_bad_image_upload_is_one_readable_line_and_the_next_works(page, tmp_path):
    from tests.conftest import png_bytes, synthetic

    page.reload()  # a fresh session: an empty upload box
    page.wait_for_selector("#encode")
    cases = [
        ("text.png", b"this is a text file, not a picture", "not a readable image"),
        ("empty.png", b"", "not a readable image"),
        ("cut.png", png_bytes(synthetic())[:200], "damaged or truncated"),
        ("cut.jpg", jpeg_bytes()[:300], "damaged or truncated"),
        ("huge.png", b"\x89PNG" + b"\0" * (21 << 20), "too large|exceeds|maximum"),
    ]
    for name, content, message in cases:
        bad = tmp_path / name
        bad.write_bytes(content)
        page.locator("#image input[type=file]").set_input_files(str(bad))
        page.get_by_text(__import__("re").compile(message)).first.wait_for()
        if name == "text.png":
            page.wait_for_timeout(1000)  # the message has faded in
            shot(page, "bad-upload")
        page.wait_for_function(  # the box is free: no file held, the drop area shown again
            "name => !document.querySelector('#image').innerText.includes(name) && "
            "document.querySelector('#image [aria-label=\"Click to upload or drop files\"]')",
            arg=name,
        )
    bare = tmp_path / "bare.png"  # no generation metadata (the examples' prompts are known)
    bare.write_bytes(png_bytes(synthetic(256, 256)))
    page.locator("#image input[type=file]").set_input_files(str(bare))
    page.locator("#image-view img").wait_for()  # a good upload right after works
    wait_text(page, "#image-note", "no prompt")  # and this image carries none
    page.locator("#encode").click()
    wait_text(page, "#enc-summary", "no prompt given")


def test_compare_refuses_an_image_that_is_not_the_streams(page):
    tab(page, "Encode")
    upload_image(page, EXAMPLE)
    page.wait_for_function(
        "document.querySelector('#prompt textarea').value.startsWith('beautiful')"
    )  # the fennec is read
    page.locator("#encode").click()
    wait_text(page, "#enc-file", "fennec_bottle_sdxlturbo")
    upload_image(page, ASTRONAUT)  # not encoded
    page.wait_for_function(
        "document.querySelector('#prompt textarea').value.startsWith('a high quality photo')"
    )  # its prompt is known (an example), though its metadata has none
    tab(page, "Compare")
    page.locator("#compare").click()
    page.get_by_text("not the one this stream was encoded from", exact=False).first.wait_for()


ALL_PICTURES_LOADED = """() => [...document.querySelectorAll('img')]
    .filter(i => i.src && i.offsetParent !== null)
    .every(i => i.complete && i.naturalWidth > 0)"""


def test_ten_encodes_of_mixed_sizes_show_every_picture_and_disable_the_button(page, tmp_path):
    """Outputs showing the same picture at once (Encode, Inspect, the decoder's inputs) must
    never serve a half-written file: after each encode every visible picture has loaded.
    The encode's named stages show while it works; the time from click to result, as the
    page's user waits it, goes to encode-times.txt beside the screenshots."""
    import time

    from aigic.encoder.settings import STAGES
    from tests.conftest import png_bytes, synthetic

    page.reload()
    page.wait_for_selector("#encode")
    page.evaluate(WATCH_STAGES, list(STAGES))
    sizes = [(512, 512), (1024, 1024), (768, 512), (512, 768), (640, 640)] * 2
    seen, times = [], []
    for n, (w, h) in enumerate(sizes):
        path = tmp_path / f"mixed-{n}-{w}x{h}.png"
        path.write_bytes(png_bytes(synthetic(w, h, seed=n), parameters=f"a test card {n}"))
        upload_image(page, path)
        wait_text(page, "#prompt textarea", "")  # the upload is read
        page.wait_for_function(
            f"document.querySelector('#prompt textarea').value.includes('card {n}')"
        )
        page.evaluate("() => { window.seenStages = []; }")
        started = time.monotonic()
        page.locator("#encode").click()
        page.wait_for_function("document.querySelector('#encode').disabled")  # while it works
        wait_text(page, "#enc-file", f"mixed-{n}-{w}x{h}")
        times.append((f"{w}x{h}", time.monotonic() - started))
        seen.append(page.evaluate("() => window.seenStages"))
        page.wait_for_function("!document.querySelector('#encode').disabled")
        page.wait_for_timeout(500)  # the other tabs' views follow the new stream
        page.wait_for_function(ALL_PICTURES_LOADED)
    assert server_errors() == []
    # the slow stages are seen every time; a fast one may come and go between two paints
    slow = {"extracting the structure", "fitting the rate"}
    assert all(slow <= set(stages) for stages in seen), seen
    assert all(list(stages) == [s for s in STAGES if s in stages] for stages in seen), seen
    lines = [f"{size}: {seconds:.2f} s from click to result" for size, seconds in times]
    middle = sorted(s for _, s in times)[len(times) // 2]
    (SHOTS.parent / "encode-times.txt").write_text("\n".join([*lines, f"median {middle:.2f} s"]))


def test_examples_say_what_they_need_and_start_with_a_prompt(page):
    tab(page, "Encode")
    wait_text(page, "#extractor-note", "canny\\W+\\(Canny\\) ✓[\\s\\S]*OpenPose")
    astronaut = page.get_by_text("astronaut horse: pose", exact=False).first
    assert "no OpenPose weights here" in astronaut.inner_text()  # none in the tests
    astronaut.click()
    page.wait_for_function(
        "document.querySelector('#prompt textarea').value.startsWith('a high quality photo')"
    )
    page.locator("#encode").click()  # what it needs is missing: said in the page's words
    toast(page, "OpenPose's weights are not on this server")


def test_the_server_log_has_no_exception(url):
    """Runs last: everything the tests above did left no traceback in the server's log."""
    assert server_errors() == []
