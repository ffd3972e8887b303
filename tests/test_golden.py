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
