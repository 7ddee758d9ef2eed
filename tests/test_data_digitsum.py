"""The digit-sum task builder and the rare-symbol task."""

from __future__ import annotations

import numpy as np
import pytest

from memcomp.data import (
    DigitSumSplit,
    build_digit_sum,
    build_rare_symbol_task,
    load_bundled_mnist,
    nearest_train_distance,
    zipf_probabilities,
)

POOLS = load_bundled_mnist()


def test_zipf_probabilities():
    p = zipf_probabilities(2.0)
    assert p.shape == (10,) and np.isclose(p.sum(), 1.0)
    assert np.allclose(p / p[0], 1.0 / np.arange(1, 11) ** 2)
    assert np.allclose(zipf_probabilities(0.0), 0.1)
    # the paper's counts: digit 0 seen 77,435 times in ~120,000 draws, digit 8 955 times
    assert abs(120_000 * p[0] - 77_435) < 3 * np.sqrt(120_000 * p[0] * (1 - p[0]))
    assert abs(120_000 * p[8] - 955) < 3 * np.sqrt(120_000 * p[8])
    with pytest.raises(ValueError, match=r"exponent must be a finite number in \[0, 20\]; got -1"):
        zipf_probabilities(-1.0)


@pytest.fixture(scope="module")
def task():
    return build_digit_sum(n_train=20_000, n_test=600, seed=11)


def test_shapes_dtypes_and_targets(task):
    for split, n in ((task.train, 20_000), (task.test_in, 600), (task.test_ood, 600)):
        assert len(split) == n
        assert split.images.shape == (n, 3, 28, 28) and split.images.dtype == np.uint8
        assert split.digits.shape == (n, 3) and split.digits.dtype == np.int64
        assert split.target.dtype == np.float32
        assert np.array_equal(split.target, split.digits.sum(axis=1).astype(np.float32))
    images, target = task.test_in.tensors()
    assert tuple(images.shape) == (600, 3, 28, 28) and str(images.dtype) == "torch.float32"
    assert float(images.max()) == 1.0 and float(images.min()) == 0.0
    assert np.array_equal(target.numpy(), task.test_in.target)


def test_images_match_their_labels_and_pools(task):
    train_x, train_y, test_x, test_y = POOLS
    assert np.array_equal(task.train.images, train_x[task.train.image_ids])
    assert np.array_equal(train_y[task.train.image_ids], task.train.digits)
    for split in (task.test_in, task.test_ood):
        assert np.array_equal(split.images, test_x[split.image_ids])
        assert np.array_equal(test_y[split.image_ids], split.digits)


def test_zipf_frequencies(task):
    """Training digit frequencies within 4 binomial standard deviations of the Zipf law."""
    p = zipf_probabilities(2.0)
    draws = 3 * len(task.train)
    freq = task.train_digit_counts / draws
    assert task.train_digit_counts.sum() == draws
    assert np.all(np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / draws))
    assert np.array_equal(task.train_digit_counts, np.bincount(task.train.digits.ravel(), minlength=10))
    assert task.nines_in_train == task.train_digit_counts[9] == task.distinct_nines_in_train
    f_in = np.bincount(task.test_in.digits.ravel(), minlength=10) / (3 * 600)
    assert np.all(np.abs(f_in - p) <= 4 * np.sqrt(p * (1 - p) / 1800) + 1e-3)


def test_ood_rule_and_unseen_nines(task):
    d = task.test_ood.digits
    assert (d == 9).any(axis=1).all()
    assert np.isin(d[d != 9], [0, 1, 2, 3, 4]).all()
    assert set(np.unique(d)) == {0, 1, 2, 3, 4, 9}
    train_nines = {bytes(x) for x in task.train.images[task.train.digits == 9].reshape(-1, 784)}
    test_nines = {bytes(x) for x in task.test_ood.images[d == 9].reshape(-1, 784)}
    assert train_nines and test_nines and not (train_nines & test_nines)


def test_nines_in_train_is_exact_distinct_and_nested():
    small = build_digit_sum(n_train=3000, n_test=200, nines_in_train=40, seed=4)
    big = build_digit_sum(n_train=3000, n_test=200, nines_in_train=120, seed=4)
    none = build_digit_sum(n_train=3000, n_test=200, nines_in_train=0, seed=4)
    for t, m in ((small, 40), (big, 120), (none, 0)):
        nine = t.train.digits == 9
        assert t.nines_in_train == t.train_digit_counts[9] == nine.sum() == m
        assert np.unique(t.train.image_ids[nine]).size == m == t.distinct_nines_in_train
    nine_small = small.train.digits == 9
    assert (big.train.digits[nine_small] == 9).all()
    assert np.array_equal(big.train.image_ids[nine_small], small.train.image_ids[nine_small])
    unchanged = (big.train.digits != 9)
    assert np.array_equal(big.train.images[unchanged], none.train.images[unchanged])
    for name in ("test_in", "test_ood"):
        assert np.array_equal(getattr(small, name).images, getattr(big, name).images)
    # non-9 digits follow the Zipf law restricted to 0..8
    q = zipf_probabilities(2.0)[:9]
    q = q / q.sum()
    f = none.train_digit_counts[:9] / 9000
    assert np.all(np.abs(f - q) <= 4 * np.sqrt(q * (1 - q) / 9000))


def test_seeded_determinism():
    a = build_digit_sum(n_train=500, n_test=50, seed=3)
    b = build_digit_sum(n_train=500, n_test=50, seed=3)
    c = build_digit_sum(n_train=500, n_test=50, seed=4)
    for name in ("train", "test_in", "test_ood"):
        sa, sb = getattr(a, name), getattr(b, name)
        assert np.array_equal(sa.images, sb.images) and np.array_equal(sa.digits, sb.digits)
    assert not np.array_equal(a.train.digits, c.train.digits)


def test_builder_validates_inputs():
    with pytest.raises(ValueError, match=r"nines_in_train must be an integer in \[0, 2000\]; got 2001"):
        build_digit_sum(n_train=5000, n_test=10, nines_in_train=2001, seed=0)
    with pytest.raises(ValueError, match=r"nines_in_train must be an integer in \[0, 30\]"):
        build_digit_sum(n_train=10, n_test=10, nines_in_train=31, seed=0)
    with pytest.raises(ValueError, match=r"n_train must be an integer in \[1, .*; got 0"):
        build_digit_sum(n_train=0, n_test=10, seed=0)
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, .*; got -1"):
        build_digit_sum(n_train=10, n_test=10, seed=-1)
    with pytest.raises(ValueError, match="source must be one of 'bundled', 'full'; got 'mnist'"):
        build_digit_sum(n_train=10, n_test=10, seed=0, source="mnist")
    with pytest.raises(ValueError, match=r"zipf_exponent must be a finite number in \[0, 20\]; got nan"):
        build_digit_sum(n_train=10, n_test=10, seed=0, zipf_exponent=float("nan"))


def test_split_subset_and_validation():
    t = build_digit_sum(n_train=100, n_test=10, seed=0)
    keep = np.arange(100) != 7
    sub = t.train.subset(keep)
    assert len(sub) == 99 and np.array_equal(sub.digits, t.train.digits[keep])
    with pytest.raises(ValueError, match="target must be float32"):
        DigitSumSplit(t.train.images, t.train.digits, t.train.target.astype(np.float64))


@pytest.fixture(scope="module")
def rare_task():
    return build_rare_symbol_task(n_train=2000, n_test_pairs=90, seed=2, images_per_symbol=2, n_test_in=50)


def test_rare_symbols_each_appear_once_in_training(rare_task):
    t = rare_task
    sym = t.symbol_images.reshape(len(t.symbol_images), -1)
    assert t.train.rare.sum() == 20 and t.train.rare.any(axis=1).sum() == 20  # one per row
    assert np.array_equal(np.flatnonzero(t.train.rare.any(axis=1)), t.rare_rows)
    assert sorted(t.train.image_ids[t.train.rare].tolist()) == list(range(20))  # each image once
    assert np.bincount(t.rare_labels, minlength=10).tolist() == [2] * 10
    # every symbol image occurs exactly once among all training slots, at the recorded place
    flat = t.train.images.reshape(-1, 784)
    for i, s in enumerate(sym):
        assert (flat == s).all(axis=1).sum() == 1
    rows, slots = t.rare_rows, t.rare_slots
    assert np.array_equal(t.train.digits[rows, slots], t.rare_labels)
    assert np.array_equal(t.train.target, t.train.digits.sum(axis=1).astype(np.float32))
    assert t.train_digit_counts.sum() == 3 * 2000 - 20
    # leaving the rare rows out gives an ordinary digit-sum training set
    ordinary = t.train.subset(np.setdiff1d(np.arange(2000), rows))
    assert not ordinary.rare.any() and len(ordinary) == 1980


def test_rare_test_pairs(rare_task):
    t = rare_task
    assert np.bincount(t.rare_slots, minlength=3).tolist() == [7, 7, 6]  # 20 symbols, balanced slots
    trained_slot = dict(zip(t.train.image_ids[t.rare_rows, t.rare_slots].tolist(), t.rare_slots.tolist()))
    for split in (t.test, t.test_moved):
        assert (split.rare.sum(axis=1) == 2).all()
        labels = np.stack([np.sort(split.digits[i][split.rare[i]]) for i in range(len(split))])
        assert (labels[:, 0] != labels[:, 1]).all()
        assert np.array_equal(split.target, split.digits.sum(axis=1).astype(np.float32))
        sym = t.symbol_images
        assert np.array_equal(split.images[split.rare], sym[split.image_ids[split.rare]])
        digit_ids = split.image_ids[~split.rare]
        assert np.array_equal(split.images[~split.rare], POOLS[2][digit_ids])
        assert np.array_equal(split.digits[~split.rare], POOLS[3][digit_ids])
    # test: each symbol in the slot where it was seen; test_moved: never there
    rows, slots = np.nonzero(t.test.rare)
    assert all(trained_slot[i] == s for i, s in zip(t.test.image_ids[rows, slots].tolist(), slots.tolist()))
    rows, slots = np.nonzero(t.test_moved.rare)
    assert all(trained_slot[i] != s for i, s in zip(t.test_moved.image_ids[rows, slots].tolist(), slots.tolist()))
    # the moved rows hold the same images and targets, in other places
    assert np.array_equal(np.sort(t.test.image_ids, axis=1), np.sort(t.test_moved.image_ids, axis=1))
    assert np.array_equal(t.test.target, t.test_moved.target)
    # no symbol-image pair repeats before every fitting pair has been used
    pairs = [tuple(np.sort(t.test.image_ids[i][t.test.rare[i]])) for i in range(len(t.test))]
    assert len(set(pairs)) == len(pairs)
    assert len(t.test_in) == 50 and not t.test_in.rare.any()


def test_one_image_per_symbol_uses_the_33_pairs_that_fit():
    t = build_rare_symbol_task(n_train=300, n_test_pairs=66, seed=4)
    assert sorted(np.bincount(t.rare_slots, minlength=3).tolist()) == [3, 3, 4]
    labels = [tuple(np.sort(t.test.digits[i][t.test.rare[i]])) for i in range(66)]
    assert len(set(labels)) == 33 and all(labels.count(x) == 2 for x in set(labels))


def test_rare_task_deterministic():
    a = build_rare_symbol_task(n_train=300, n_test_pairs=20, seed=9)
    b = build_rare_symbol_task(n_train=300, n_test_pairs=20, seed=9)
    assert np.array_equal(a.train.images, b.train.images) and np.array_equal(a.test.images, b.test.images)
    assert np.array_equal(a.rare_rows, b.rare_rows)
    with pytest.raises(ValueError, match=r"n_train must be an integer in \[30,"):
        build_rare_symbol_task(n_train=29, n_test_pairs=5, seed=0, images_per_symbol=3)


def test_nearest_train_distance_matches_brute_force(rare_task):
    d, idx = nearest_train_distance(rare_task, chunk=300)
    r = rare_task.train.images.reshape(len(rare_task.train), -1).astype(np.float64) / 255
    for i in range(0, len(rare_task.test), 9):  # brute force on every 9th test row
        q = rare_task.test.images[i].reshape(-1).astype(np.float64) / 255
        full = np.sqrt(((r - q) ** 2).sum(axis=1))
        assert np.isclose(d[i], full.min(), atol=1e-3) and np.isclose(full[idx[i]], d[i], atol=1e-3)
    # test pairs are farther from training than ordinary in-distribution test samples
    d_in, _ = nearest_train_distance(rare_task, "test_in")
    assert np.median(d) > np.median(d_in)


def test_digit_images_per_class_limits_the_training_pool():
    t = build_rare_symbol_task(n_train=400, n_test_pairs=10, seed=3, digit_images_per_class=20)
    ids, digits = t.train.image_ids[~t.train.rare], t.train.digits[~t.train.rare]
    for c in range(9):  # 9 is too rare here to be sure it occurs
        used = np.unique(ids[digits == c])
        assert 0 < len(used) <= 20 and (POOLS[1][used] == c).all()  # ids index the full pool
    assert np.array_equal(t.train.images[~t.train.rare], POOLS[0][ids])
    zeros = (digits == 0).sum()
    assert zeros > 300 and len(np.unique(ids[digits == 0])) == 20  # each 0 image recurs
    with pytest.raises(ValueError, match="digit_images_per_class"):
        build_rare_symbol_task(n_train=400, n_test_pairs=10, seed=3, digit_images_per_class=0)
