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


def test_the_compiled_matching_is_as_large_as_scipys():
    """Matched F1 counts a maximum bipartite matching (aigic.imaging.matching); every maximum
    matching has the same size, so it must equal SciPy's Hopcroft-Karp on any graph: random
    ones of every density, and the pixel graphs of random edge maps."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    from aigic.imaging.matching import matching_size
    from aigic.imaging.metrics import matched_f1

    def scipy_size(rows, cols, shape):
        graph = csr_matrix((np.ones(rows.size, np.int8), (rows, cols)), shape=shape)
        return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())

    rng = np.random.default_rng(7)
    for _ in range(200):
        n_left, n_right = (int(n) for n in rng.integers(1, 50, 2))
        rows, cols = np.nonzero(rng.random((n_left, n_right)) < rng.random() * 0.3)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_left))])
        got = matching_size(indptr, cols.astype(np.int64), n_right)
        assert got == scipy_size(rows, cols, (n_left, n_right))
    ys, xs = np.mgrid[-3:4, -3:4]
    near = np.stack([ys.ravel(), xs.ravel()], 1)[(ys**2 + xs**2).ravel() <= 9]
    for _ in range(20):
        d = rng.random((60, 70)) < rng.random() * 0.3
        r = rng.random((60, 70)) < rng.random() * 0.3
        if not d.any() or not r.any():
            continue
        d_at, r_at = np.argwhere(d), {tuple(p): i for i, p in enumerate(np.argwhere(r))}
        pairs = [
            (i, r_at[q]) for i, p in enumerate(d_at) for o in near if (q := tuple(p + o)) in r_at
        ]
        rows, cols = np.array(pairs).T
        matched = scipy_size(rows, cols, (len(d_at), len(r_at)))
        assert matched_f1(d, r)[1] * d.sum() == pytest.approx(matched)
