"""Closed-form leave-one-out of the min-norm interpolator against explicit refitting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memcomp.linear.influence import (
    gram_loo,
    loo_coefficient_change,
    loo_effect_on,
    loo_predictions,
    loo_prediction_change,
    self_influence,
)


def _refit_without(X: np.ndarray, y: np.ndarray, i: int) -> np.ndarray:
    keep = np.arange(len(y)) != i
    return np.linalg.pinv(X[keep]) @ y[keep]


def _random_case(seed: int, n: int, d: int, kind: str, noiseless: bool):
    rng = np.random.default_rng(seed)
    X = rng.integers(-1, 2, size=(n, d)).astype(float)
    if kind == "duplicate":
        X[1] = X[0]
    elif kind == "combination":
        X[2] = X[0] - X[1]
        X[-1] = 0.0
    y = X @ rng.normal(size=d) if noiseless else rng.normal(size=n)
    return X, y


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(4, 12),
    d=st.integers(2, 20),
    kind=st.sampled_from(["generic", "duplicate", "combination"]),
    noiseless=st.booleans(),
)
def test_closed_form_matches_explicit_refit(seed, n, d, kind, noiseless):
    X, y = _random_case(seed, n, d, kind, noiseless)
    beta = np.linalg.pinv(X) @ y
    X_test = np.random.default_rng(seed + 1).integers(-1, 2, size=(3, d)).astype(float)
    loo = loo_predictions(X, y)
    infl = self_influence(X, y)
    change = loo_prediction_change(X, y)
    for i in range(n):
        beta_i = _refit_without(X, y, i)
        assert loo[i] == pytest.approx(X[i] @ beta_i, abs=1e-9)
        # self-influence: row i's own squared loss without it minus with it
        loss_without, loss_with = (y[i] - X[i] @ beta_i) ** 2, (y[i] - X[i] @ beta) ** 2
        assert infl[i] == pytest.approx(loss_without - loss_with, abs=1e-8)
        assert change[i] == pytest.approx(abs(X[i] @ (beta - beta_i)), abs=1e-9)
        np.testing.assert_allclose(loo_coefficient_change(X, y, i), beta - beta_i, atol=1e-9)
        np.testing.assert_allclose(loo_effect_on(X, y, i, X_test), X_test @ (beta - beta_i), atol=1e-9)


def test_self_influence_is_the_press_formula():
    # rows outside the span of the others: e_i^2; rows inside it: r_i^2 (1 / (1 - H_ii)^2 - 1)
    X, y = _random_case(3, 8, 12, "combination", noiseless=False)
    g = gram_loo(X, y)
    infl = self_influence(X, y)
    dep = g.dependent & (np.abs(g.residual) > 1e-6)
    assert dep.sum() >= 2 and (~g.dependent).any()
    r, h = g.residual[dep], g.hat_diag[dep]
    np.testing.assert_allclose(infl[dep], r**2 * (1 / (1 - h) ** 2 - 1), rtol=1e-8)
    np.testing.assert_allclose(infl[~g.dependent], g.loo_residual[~g.dependent] ** 2, rtol=1e-10)
    assert np.all(infl >= -1e-12)


def test_rank_deficient_cases_are_actually_exercised():
    X, y = _random_case(3, 8, 12, "combination", noiseless=False)
    g = gram_loo(X, y)
    assert np.linalg.matrix_rank(X) < X.shape[0]
    assert g.dependent[[0, 1, 2, 7]].all()  # rows 0, 1, 2 are dependent, row 7 is zero
    # noisy and dependent: the full fit does not interpolate these rows
    assert np.abs(g.residual[[0, 1, 2]]).max() > 1e-3


def test_dependent_row_has_no_influence_when_noiseless():
    X, y = _random_case(5, 8, 12, "duplicate", noiseless=True)
    infl = self_influence(X, y)
    assert infl[0] == pytest.approx(0.0, abs=1e-10)
    assert infl[1] == pytest.approx(0.0, abs=1e-10)
    assert infl[2:].max() > 1e-3


def test_removing_a_once_seen_row_breaks_every_combination_using_its_feature():
    rng = np.random.default_rng(0)
    n_tail, n_head_only, d = 20, 15, 60
    n = n_tail + n_head_only
    X = np.zeros((n, d))
    X[:, :5] = rng.choice([-1.0, 0.0, 1.0], size=(n, 5))  # head features 0..4
    # rows 0..19 hold one once-seen tail feature each (5 + i only in row i);
    # rows 20..34 hold only head features and pin the head coefficients
    X[np.arange(n_tail), 5 + np.arange(n_tail)] = rng.choice([-1.0, 1.0], size=n_tail)
    beta_star = rng.normal(size=d)
    y = X @ beta_star
    beta = np.linalg.pinv(X) @ y
    # test inputs combining the feature of row 0 (index 5) with another once-seen feature
    X_test = np.zeros((4, d))
    X_test[:, 5] = 1.0
    X_test[np.arange(4), 10 + np.arange(4)] = 1.0
    change = loo_effect_on(X, y, 0, X_test)
    np.testing.assert_allclose(change, beta[5] * np.ones(4), atol=1e-10)
    # inputs not using feature 5 are untouched
    other = np.zeros((1, d))
    other[0, 10] = other[0, 11] = 1.0
    assert abs(loo_effect_on(X, y, 0, other)[0]) < 1e-10


def test_bad_inputs_name_the_parameter():
    X = np.eye(3)
    with pytest.raises(ValueError, match="y"):
        loo_predictions(X, np.ones(4))
    with pytest.raises(ValueError, match="X"):
        self_influence(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="X"):
        loo_predictions(np.ones((1, 3)), np.ones(1))
    with pytest.raises(ValueError, match="i must be an integer"):
        loo_effect_on(X, np.ones(3), 3, np.eye(3))
    with pytest.raises(ValueError, match="X_test"):
        loo_effect_on(X, np.ones(3), 0, np.ones((2, 4)))
    with pytest.raises(ValueError, match="y"):
        loo_predictions(X, np.array([1.0, np.nan, 0.0]))
