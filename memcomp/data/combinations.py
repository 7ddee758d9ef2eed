"""Seen and unseen digit combinations: the control that separates composition from capacity.

A *combination* is a row's ordered triple of digit classes (d_1, d_2, d_3): which class sits
in which position. A test row's combination is *seen* when some training row has the same
triple (with other images: test images come from the MNIST test pool), and *unseen*
otherwise. A network that composes per-digit values predicts an unseen combination as well
as a seen one, so its loss ratio unseen / seen stays near 1; a network that memorizes whole
inputs does well only on combinations it has met.

- :func:`seen_combination_mask`: which rows of a split repeat a training combination.
- :func:`seen_nines_split`: held-out 9 images placed in the combinations of the training rows
  that hold a 9 (every row is a seen combination that holds a 9; the OOD test set, by
  contrast, is mostly combinations never seen).
"""

from __future__ import annotations

import numpy as np

from memcomp.checks import ParameterTypeError, check_choice, check_int, check_seed
from memcomp.data.digitsum import DigitSumSplit, DigitSumTask, _assign_images, _load_pools, _make_split

__all__ = ["seen_combination_mask", "seen_nines_split"]


def _check_split(name: str, split: object) -> DigitSumSplit:
    if not isinstance(split, DigitSumSplit):
        raise ParameterTypeError(name, f"{name} must be a DigitSumSplit; got {type(split).__name__}")
    return split


def seen_combination_mask(split: DigitSumSplit, train: DigitSumSplit) -> np.ndarray:
    """Boolean (N,): row i of ``split`` has an ordered digit triple that some row of ``train`` has."""
    split, train = _check_split("split", split), _check_split("train", train)
    code = np.array([100, 10, 1])
    return np.isin(split.digits @ code, np.unique(train.digits @ code))


def seen_nines_split(task: DigitSumTask, *, replicas: int = 4, seed: int = 0) -> DigitSumSplit:
    """``replicas`` test rows per training row that holds a 9, with that row's ordered digit
    triple and fresh images from the MNIST test pool (never seen in training).

    Parameters
    ----------
    task : DigitSumTask
        From :func:`memcomp.data.build_digit_sum` with source ``"bundled"`` or ``"full"``.
    replicas : int
        Test rows per training row with a 9 (1 to 1000).
    seed : int
        Draws the test images.

    Returns
    -------
    DigitSumSplit
        ``replicas * (training rows with a 9)`` rows, grouped by training row; empty
        (0 rows) when training holds no 9.
    """
    if not isinstance(task, DigitSumTask):
        raise ParameterTypeError("task", f"task must be a DigitSumTask; got {type(task).__name__}")
    replicas = check_int("replicas", replicas, low=1, high=1000)
    seed = check_seed("seed", seed)
    check_choice("task.source", task.source, ("bundled", "full"))
    (_, _, test_images, test_labels), _ = _load_pools(task.source)
    rows = np.flatnonzero((task.train.digits == 9).any(axis=1))
    digits = np.repeat(task.train.digits[rows], replicas, axis=0)
    rng = np.random.default_rng(np.random.SeedSequence([seed, task.seed, 9]))
    return _make_split(digits, _assign_images(digits, test_labels, rng), test_images)
