"""What the browser tests (test_browser.py) drive the page with: the paths they use, and
helpers that switch tabs, wait for text, read the page's pictures, dismiss toasts, upload
images and take screenshots."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SHOTS = Path(os.environ.get("AIGIC_SCREENSHOTS", ROOT / "out" / "screenshots"))
EXAMPLE = ROOT / "assets" / "fennec_bottle_sdxlturbo.png"
ASTRONAUT = ROOT / "assets" / "astronaut_horse_sd15.png"  # no prompt in its metadata
PIDINET = ROOT.parent / "shared" / "models" / "pidinet" / "table5_pidinet.pth"


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def wait_text(page, selector: str, pattern: str) -> None:
    """Wait until the element's visible text matches the JavaScript regex ``pattern``."""
    page.wait_for_function(
        "([s, p]) => { const e = document.querySelector(s);"
        " return e !== null && new RegExp(p).test(e.innerText); }",
        arg=[selector, pattern],
    )


def shot(page, name: str) -> None:
    """A full-page screenshot once no event is still processing (a chained event can start
    after the outputs a test waited for)."""
    page.wait_for_function("!/processing \\|/.test(document.body.innerText)", timeout=60_000)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def picture(page, selector: str):
    """The image an <img> in ``selector`` shows, fetched from the app, as an RGB array."""
    import io

    import numpy as np
    from PIL import Image

    src = page.locator(f"{selector} img").first.get_attribute("src")
    body = page.request.get(src).body() if not src.startswith("data:") else None
    if body is None:
        import base64

        body = base64.b64decode(src.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGB"))


def changed_cells(before, after, s: int) -> set:
    """The (row, column) cells whose colour differs between two grid pictures."""
    rows, cols = before.shape[0] // s, before.shape[1] // s
    return {
        (r, c)
        for r in range(rows)
        for c in range(cols)
        if (before[r * s + s - 4, c * s + s - 4] != after[r * s + s - 4, c * s + s - 4]).any()
    }


def toast(page, text: str) -> None:
    page.get_by_text(text, exact=False).first.wait_for()
    page.wait_for_timeout(300)
    for close in page.locator(".toast-close").all():  # one at a time
        with contextlib.suppress(Exception):  # it may have gone by itself
            close.click(timeout=1000)


def jpeg_bytes() -> bytes:
    import io

    from tests.conftest import synthetic

    buf = io.BytesIO()
    synthetic().save(buf, "JPEG", quality=90)
    return buf.getvalue()


def upload_image(page, path: Path) -> None:
    """Put ``path`` in the Encode tab's image box (emptying it first)."""
    clear = page.locator("#image button[aria-label='Clear']")
    if clear.count():
        clear.first.click()
    page.locator("#image input[type=file]").set_input_files(str(path))
