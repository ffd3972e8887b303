"""The encoder's output and the decoder's arrays are pinned (tests/golden_corpus.py)."""

import json

import pytest

from tests import golden_corpus as golden

PINNED = json.loads(golden.CORPUS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("image", golden.IMAGES)
def test_streams_unchanged(image):
    import aigic

    for preset in golden.PRESETS:
        for style in golden.STYLES:
            key = f"{image}/{preset}/{style}"
            path = golden.ROOT / "assets" / image
            data = aigic.encode(path, preset=preset, style=style, **golden.KIND)
            assert golden.sha(data) == PINNED["streams"][key], (
                f"{key}: the stream changed; if on purpose, rerun python -m tests.golden_corpus"
            )


def test_decoded_layers_unchanged():
    assert golden.decoded() == PINNED["decoded"]


def test_corpus_covers_every_preset_and_style():
    from aigic.encoder.presets import PRESETS
    from aigic.encoder.reduce import STYLES

    assert set(golden.PRESETS) == set(PRESETS)
    assert set(golden.STYLES) == {"auto", *STYLES}
    assert len(PINNED["streams"]) == len(golden.IMAGES) * len(PRESETS) * len(golden.STYLES)


@pytest.mark.slow
@pytest.mark.parametrize("image", golden.IMAGES)
def test_sketch_streams_unchanged(image):
    """The sketch encoder (rate control, grid refinement, stroke coders) from committed maps."""
    import aigic

    cases = [s for name, s in golden.SKETCH_CASES if name == image]
    with golden.sketch_from({image: golden.committed_map(image)}):
        for setting in cases:
            key = f"{image}/{setting}"
            data = aigic.encode(golden.ROOT / "assets" / image, **golden.sketch_options(setting))
            assert golden.sha(data) == PINNED["sketch"][key], (
                f"{key}: the sketch stream changed; if on purpose, rerun python -m tests.golden_corpus"
            )


def test_the_readmes_sketch_example_is_a_pinned_stream():
    """The README's sample encode (fennec, default preset, sketch) is among the pinned ones."""
    assert "fennec_bottle_sdxlturbo.png/default" in PINNED["sketch"]
    assert set(PINNED["sketch"]) == {f"{n}/{s}" for n, s in golden.SKETCH_CASES}


@pytest.mark.skipif(not golden.PIDINET.is_file(), reason=f"needs {golden.PIDINET} (../shared)")
@pytest.mark.parametrize("image", golden.IMAGES)
def test_pidinet_still_draws_the_committed_maps(image):
    """The committed maps are what the real PiDiNet extracts (a pixel may flip between CPUs)."""
    live, pinned = golden.pidinet_map(image), golden.committed_map(image)
    assert live.shape == pinned.shape
    differ = int((live != pinned).sum())
    assert differ <= 0.0005 * live.size, f"{differ} pixels differ from tests/golden/sketch/"


def test_entropy_coders_exact_output():
    assert golden.coders() == PINNED["coders"]
