"""Rendered rare symbols and the MNIST framing recipe."""

from __future__ import annotations

import numpy as np
import pytest

from memcomp.data import load_bundled_mnist, mnist_frame, rare_symbols, render_symbol


@pytest.fixture(scope="module")
def symbols():
    return rare_symbols(images_per_symbol=3, seed=0)


def test_shapes_labels_names(symbols):
    images, labels, names = symbols
    assert images.shape == (30, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [i // 3 for i in range(30)] and labels.dtype == np.int64
    assert len(names) == 10 and len(set(names)) == 10


def test_deterministic(symbols):
    again = rare_symbols(images_per_symbol=3, seed=0)[0]
    assert np.array_equal(again, symbols[0])
    assert np.array_equal(render_symbol(4), symbols[0][12])
    other_seed = rare_symbols(images_per_symbol=3, seed=1)[0]
    assert np.array_equal(other_seed[::3], symbols[0][::3])  # variant 0 does not depend on seed
    assert not np.array_equal(other_seed, symbols[0])


def test_symbols_are_distinct_and_variants_differ(symbols):
    images = symbols[0].reshape(30, -1).astype(np.float64) / 255
    canon = images[::3]
    d = np.sqrt(((canon[:, None] - canon[None]) ** 2).sum(axis=2))
    assert d[np.triu_indices(10, 1)].min() > 5.0  # Euclidean, pixels scaled to [0, 1]
    for i in range(30):
        if i % 3:
            assert 0 < np.abs(images[i] - images[i - i % 3]).sum()


def test_symbols_look_like_mnist_digits(symbols):
    images = symbols[0].astype(np.float64)
    digits = load_bundled_mnist()[0][:2000].astype(np.float64)
    assert images.max() == 255 and all(im.max() == 255 for im in images)
    # similar ink: mean intensity within a factor 1.6 of MNIST's
    ratio = images.mean() / digits.mean()
    assert 0.7 < ratio < 1.6
    # centred by centre of mass, inside a 20x20 box with a 4-pixel margin (like MNIST)
    grid = np.arange(28)
    for im in images:
        com = (im.sum(axis=1) @ grid / im.sum(), im.sum(axis=0) @ grid / im.sum())
        assert np.allclose(com, 13.5, atol=1.0)
        rows, cols = np.flatnonzero(im.any(axis=1)), np.flatnonzero(im.any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 21


def test_mnist_frame_recipe():
    ink = np.zeros((100, 60))
    ink[10:90, 25:35] = 1.0  # a tall bar
    out = mnist_frame(ink)
    assert out.shape == (28, 28) and out.dtype == np.uint8 and out.max() == 255
    rows = np.flatnonzero(out.any(axis=1))
    assert rows[-1] - rows[0] + 1 == 20  # the longer side scaled to 20 pixels
    with pytest.raises(ValueError, match="ink must contain some ink"):
        mnist_frame(np.zeros((5, 5)))


def test_argument_checks():
    with pytest.raises(ValueError, match="kind must be one of 'rendered', 'omniglot'"):
        rare_symbols("emoji")
    with pytest.raises(ValueError, match=r"images_per_symbol must be an integer in \[1, 20\]"):
        rare_symbols(images_per_symbol=0)
    with pytest.raises(ValueError, match=r"label must be an integer in \[0, 9\]"):
        render_symbol(10)
    with pytest.raises(ValueError, match="apply only to kind='omniglot'"):
        rare_symbols(base_url="http://x")
