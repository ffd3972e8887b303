import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
SHARED = ROOT.parent / "shared" / "data"


def _hermetic() -> Path:
    """Make the run the same on every machine: the hub offline, and every cache a model could
    be found in (Hugging Face, torch hub, XDG, aigic's own state and model folder) a fresh,
    empty folder of this session's. A test that wants a model links it from ../shared itself.
    Set here, before any test module imports huggingface_hub (which reads these at import)."""
    root = Path(tempfile.mkdtemp(prefix="aigic-tests-"))
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_ENDPOINT"):
        os.environ.pop(name, None)
    os.environ.update(
        AIGIC_OFFLINE="1",  # no download from GitHub or PyTorch's servers either
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HOME=str(root / "hf"),
        TORCH_HOME=str(root / "torch"),
        XDG_CACHE_HOME=str(root / "xdg"),
        AIGIC_STATE_DIR=str(root / "state"),
        AIGIC_MODEL_DIR=str(root / "models"),  # empty: no PiDiNet, no SD weights
        # The tests' models have random weights: let them load although SD 1.5's file names
        # carry pins (the tests of the pins unset this).
        AIGIC_UNPINNED_WEIGHTS="1",
    )
    for sub in ("hf", "torch", "xdg", "state", "models"):
        (root / sub).mkdir()
    return root


HERMETIC = _hermetic()


def pytest_sessionfinish(session, exitstatus):
    """The session's caches go with it (prepared weights of full-size models are GBs)."""
    import shutil

    shutil.rmtree(HERMETIC, ignore_errors=True)


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return ASSETS / "fennec_bottle_sdxlturbo.png"


@pytest.fixture(scope="session")
def sample_stream(sample_path) -> bytes:
    import aigic

    return aigic.encode(sample_path, structure="canny")  # what every machine can make


def synthetic(w: int = 320, h: int = 256, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """A small image with shapes and gradients (edges and colours to code)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // max(1, w), y * 255 // max(1, h), (x + y) * 127 // max(1, w + h)], -1)
    rgb[(x - w // 2) ** 2 + (y - h // 2) ** 2 < (min(w, h) // 4) ** 2] = rng.integers(0, 255, 3)
    img = Image.fromarray(rgb.astype(np.uint8))
    return img.convert(mode) if mode != "RGB" else img


def png_bytes(img: Image.Image, **info) -> bytes:
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    for k, v in info.items():
        meta.add_text(k, v)
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=meta)
    return buf.getvalue()


def wait_for_port(port: int, seconds: float = 90) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port`` within ``seconds``."""
    import socket
    import time

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.5)
    return False


# the diffusers decoder's tests (test_sd15*.py): built once per module that asks
@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    """Tiny random-weight SD 1.5, adapters, LCM-LoRA and TAESD (aigic.testing.models)."""
    from aigic.testing.models import tiny

    root = tmp_path_factory.mktemp("tiny-models")
    tiny(root)
    return root


@pytest.fixture(scope="module")
def backend(tiny_dir):
    from aigic.backends.sd15 import SD15Backend
    from aigic.testing.models import sources

    return SD15Backend(sources=sources(tiny_dir), device="cpu")


@pytest.fixture(scope="module")
def layers():
    from dataclasses import replace

    from aigic import encode, read_layers

    data = encode(synthetic(64, 64), prompt="a red square on a field", seed=5)
    return replace(read_layers(data), size=(64, 64))  # generate at 64x64: fast on a CPU


def subset(lay, names):
    """``lay`` with only the visual layers in ``names`` (the prompt always)."""
    from dataclasses import replace

    structure = lay.structure if "structure" in names else None
    return replace(lay, structure=structure, texture=lay.texture if "texture" in names else None)


# ---- tiers: `make test` runs everything; `make test-fast` (-m "not slow") leaves these out ----
SLOW_MODULES = {  # whole modules: full-size models, a browser, servers, multi-process runs
    "test_fullsize",
    "test_browser",
    "test_eval",
    "test_app_api",
    "test_bench_decode",
    "test_hermetic",
}


SLOW_MODULES |= {"test_sd15", "test_fullsize_sdxl"}  # tiny-model diffusion decodes, full size
# test_sdxl.py's tiny SDXL decodes stay in the fast tier (~12 s), all but the paper profile's
SLOW_TESTS = (  # node ids (or their start) of single tests over ~5 s on this 2-core machine
    "test_golden.py::test_streams_unchanged[banana_sushi_sd15.png]",
    "test_golden.py::test_streams_unchanged[astronaut_horse_sd15.png]",
    "test_golden.py::test_pidinet_still_draws_the_committed_maps",
    "test_sketch.py::test_default_structure_is_a_pidinet_sketch",
    "test_sketch.py::test_the_folded_pidinet_draws_the_reference",
    "test_sketch.py::test_on_a_real_sketch",
    "test_reliability.py::test_short_load_test_through_the_http_api",
    "test_reliability.py::test_odd_but_valid_images_encode",
    "test_codec.py::test_odd_image_sizes",
    "test_frontends.py::test_sketch_extractor_runs_pidinet",
    "test_cli.py::test_fuzz_commands_run_and_report_no_failure",
    "test_cli.py::test_round_trip_through_the_cli",
    "test_reliability.py::test_short_fuzz_run_has_no_failures",
    "test_reliability.py::test_encode_parse_write_is_byte_identical_and_deterministic",
    "test_app.py::test_prompt_is_read_from_metadata_and_budget_is_respected",
    "test_app.py::test_the_encode_summary_says_what_was_cut_skipped_or_carried",
    "test_tokens.py::test_a_long_prompt_is_cut_with_a_note",
    "test_docs.py::test_the_readme_command_line_tour_runs_as_written",
    "test_links.py::test_inspect_prints_the_link_and_reads_one",
    "test_app.py::test_compare_shows_jpeg_and_webp_beside_the_stream",
    "test_semantic.py::test_the_training_script_makes_both_prompt_models_byte_for_byte",
    "test_reliability.py::test_editing_one_layer_never_changes_another",
    "test_sdxl.py::test_the_paper_profile_decodes_with_sd14_at_512_and_seed_9999",
    "test_prepared.py::test_a_prepared_load_decodes_the_same_pixels",
    "test_prepared.py::test_a_damaged_or_outdated_prepared_file_is_replaced",
    "test_prepared.py::test_models_list_says_how_much_is_prepared",
    "test_prepared.py::test_where_nothing_can_be_written_the_decode_goes_on",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        name = item.nodeid.split("/")[-1]
        if module in SLOW_MODULES or name.startswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
