"""The app's lines on what runs here: which structure extractors and which decoder, and why,
and how to get Stable Diffusion.

    extractors.available(kind) --> "Structure extractors: Canny ✓ · PiDiNet ✓/✗ (why) · ..."
    sd15_available() --> "Decoder: sd15 ... (why)" | "Decoder: preview, because ... ; the one
        command to get SD" (+ a Download button where the hub answers, with a progress bar)

On a Hugging Face Space the weights come down on first use (backends.sd15 fetches them), so
no button is needed there.
"""

from __future__ import annotations

import gradio as gr

from aigic.backends import profile_available, sd15_available
from aigic.errors import AigicError
from aigic.format.codes import PROFILE_SDXL_DPM25_A1111
from aigic.needs import DEFAULT_KINDS, DEFAULT_PROFILE, profile_codes, wanted
from aigic.weights import download

COMMAND = "aigic models download"


def extractor_note() -> str:
    """One line: each structure kind's extractor, whether it runs here and why."""
    from aigic.encoder.extractors import NAMES, available

    parts = []
    for kind in ("canny", "sketch", "pose"):
        ok, why = available(kind)
        name = "Canny" if kind == "canny" else NAMES[kind]
        parts.append(f"**{kind}** ({name}) {'✓' if ok else '✗'}: {why}")
    return "Structure extractors: " + " · ".join(parts) + "."


def decoder_note(backend_name: str) -> str:
    ok, why = sd15_available()
    if backend_name == "preview":
        return "Decoder: **preview** (weight-free), as asked."
    if backend_name == "sd15":
        return f"Decoder: **sd15** (Stable Diffusion 1.5 + T2I-Adapters), as asked. {why}."
    if backend_name == "sdxl":
        return "Decoder: **sdxl** (SDXL base 1.0 + T2I-Adapter-SDXL at ~1 MP), as asked."
    xl_ok, xl_why = profile_available(PROFILE_SDXL_DPM25_A1111)
    sdxl = (
        f" SDXL streams (images of 0.75 MP or more, or made by SDXL-class models): **sdxl** "
        f"at about 1 MP, {xl_why}."
        if xl_ok
        else f" SDXL streams decode with their SD 1.5 twin profile: {xl_why}."
    )
    if ok:
        return f"Decoder: **sd15** (Stable Diffusion 1.5 + T2I-Adapters): {why}." + sdxl
    return (
        f"Decoder: **preview** (weight-free: colour grid + edges + prompt caption), because "
        f"{why}. To decode with Stable Diffusion, run `{COMMAND}` on this machine (about 2.6 GB; "
        "the next decode then uses it)."
    )


def _need():
    return wanted(profile_codes([DEFAULT_PROFILE]), DEFAULT_KINDS)


def fetch(progress=gr.Progress()) -> str:  # noqa: B008 (how gradio injects its progress bar)
    """The Download button: what `aigic models download` does, with the page's progress bar."""
    source = download.HubSource()
    try:
        plan = download.make_plan(_need(), source)

        def step(done: int, total: int, task) -> None:
            progress(done / max(1, total), desc=f"{task.repo}/{task.name}")

        download.run(plan, source, None, say=lambda _line: None, progress=step)
    except AigicError as exc:
        raise gr.Error(str(exc)) from None
    return "Stable Diffusion is here: the next decode uses it. " + decoder_note("auto")


def build(backend_name: str) -> None:
    """The extractor and decoder lines, and the Download button when SD is missing and the
    hub answers."""
    gr.Markdown(extractor_note(), elem_id="extractor-note")
    gr.Markdown(decoder_note(backend_name), elem_id="decoder-note")
    if backend_name == "preview" or sd15_available()[0] or not download.HubSource().reachable():
        return
    with gr.Row():
        button = gr.Button("Download Stable Diffusion (about 2.6 GB)", elem_id="download-sd")
        status = gr.Markdown(elem_id="download-status")
    button.click(fetch, None, status, api_name="download_weights")
