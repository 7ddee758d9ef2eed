"""Seen and unseen digit combinations (the control of Figure 2)."""

from __future__ import annotations

import numpy as np
import pytest

from memcomp.data import DigitSumSplit, build_digit_sum, load_bundled_mnist
from memcomp.data.combinations import seen_combination_mask, seen_nines_split


def _split(digits):
    digits = np.asarray(digits, np.int64)
    n = len(digits)
    return DigitSumSplit(np.zeros((n, 3, 2, 2), np.uint8), digits, digits.sum(1).astype(np.float32))


def test_a_combination_is_the_ordered_triple_of_classes():
    train = _split([[0, 1, 2], [9, 0, 0]])
    test = _split([[0, 1, 2], [2, 1, 0], [9, 0, 0], [0, 0, 9], [0, 1, 3]])
    # (2, 1, 0) holds the same digits as a training row, in other positions: unseen
    assert seen_combination_mask(test, train).tolist() == [True, False, True, False, False]


def test_seen_nines_rows_repeat_training_combinations_with_held_out_images():
    task = build_digit_sum(n_train=200, n_test=50, nines_in_train=12, seed=3)
    split = seen_nines_split(task, replicas=3, seed=3)
    nine_rows = np.flatnonzero((task.train.digits == 9).any(axis=1))
    assert len(split) == 3 * len(nine_rows) > 0
    assert np.array_equal(split.digits, np.repeat(task.train.digits[nine_rows], 3, axis=0))
    assert seen_combination_mask(split, task.train).all()
    assert np.array_equal(split.target, split.digits.sum(1).astype(np.float32))
    # every image is the MNIST *test* image its id names, of the right class
    _, _, test_images, test_labels = load_bundled_mnist()
    assert np.array_equal(split.images, test_images[split.image_ids])
    assert np.array_equal(test_labels[split.image_ids], split.digits)
    # deterministic in the seed, and another seed draws other images
    assert np.array_equal(seen_nines_split(task, replicas=3, seed=3).image_ids, split.image_ids)
    assert not np.array_equal(seen_nines_split(task, replicas=3, seed=4).image_ids, split.image_ids)


def test_no_nines_in_training_gives_an_empty_control():
    task = build_digit_sum(n_train=50, n_test=10, nines_in_train=0, seed=0)
    assert len(seen_nines_split(task)) == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [({"replicas": 0}, r"replicas must be an integer in \[1, 1000\]"), ({"seed": -1}, "seed")],
)
def test_bad_arguments_name_the_parameter(kwargs, match):
    task = build_digit_sum(n_train=50, n_test=10, nines_in_train=2, seed=0)
    with pytest.raises(ValueError, match=match):
        seen_nines_split(task, **kwargs)
    with pytest.raises(TypeError, match="task must be a DigitSumTask"):
        seen_nines_split(task.train)
    with pytest.raises(TypeError, match="split must be a DigitSumSplit"):
        seen_combination_mask(task, task.train)
