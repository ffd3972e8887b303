"""Fidelity measures: the one-to-one matched edge F1 (and what it is for), Dice."""

import numpy as np
import pytest

from aigic.layers.edgemap import restore


def test_matched_f1_counts_each_reference_pixel_once():
    from aigic.imaging.metrics import edge_f1, matched_f1

    ref = np.zeros((64, 64), bool)
    ref[32, 8:56] = True  # one line of 48 px
    assert matched_f1(ref, ref) == (1.0, 1.0, 1.0)
    shifted = np.roll(ref, 2, axis=0)  # within 3 px: every pixel still matches
    assert matched_f1(shifted, ref)[0] == 1.0
    thick = np.zeros_like(ref)
    thick[30:35, 8:56] = True  # the same line drawn 5 px thick
    f1, precision, recall = matched_f1(thick, ref)
    assert recall == 1.0 and precision == pytest.approx(1 / 5) and f1 < 0.4
    assert edge_f1(thick, ref) == 1.0  # the tolerant F1 rewards the overdraw
    far = np.roll(ref, 5, axis=0)
    assert matched_f1(far, ref)[0] == 0.0
    assert matched_f1(np.zeros_like(ref), ref) == (0.0, 1.0, 0.0)


@pytest.mark.parametrize("gap", [5, 8])
def test_a_lattice_that_overdraws_scores_lower_than_the_thin_lines_it_replaces(gap):
    """Hatching (parallel lines ``gap`` px apart) on a grid 3x coarser: the cells style fills
    it with a lattice of links that overdraws; the tolerant F1 rewards that, the matched one
    must not."""
    from aigic.encoder.reduce import reduce
    from aigic.imaging.metrics import edge_f1, matched_f1

    ref = np.zeros((256, 256), bool)
    ref[20:236:gap, 20:236] = True
    lines = restore(reduce(ref, 3, style="lines"), (256, 256))
    cells = restore(reduce(ref, 3, style="cells"), (256, 256))
    assert cells.sum() > 1.5 * ref.sum() and lines.sum() < 1.2 * ref.sum()
    assert edge_f1(cells, ref) >= edge_f1(lines, ref)  # the many-to-one tolerance is fooled
    assert matched_f1(cells, ref)[0] < matched_f1(lines, ref)[0] - 0.2


def test_dice():
    from aigic.imaging.metrics import dice

    a = np.zeros((8, 8), bool)
    a[2:4, 2:6] = True
    assert dice(a, a) == 1.0 and dice(a, ~a) == 0.0
    b = a.copy()
    b[2:4, 2:4] = False
    assert dice(b, a) == pytest.approx(2 * 4 / 12)
    assert dice(np.zeros_like(a), np.zeros_like(a)) == 1.0
