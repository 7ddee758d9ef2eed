"""Where composition fails: ridge, a non-additive target, a mislabeled rare example."""

from __future__ import annotations

import numpy as np
import pytest

from memcomp.linear import LongTailModel, monte_carlo_loss, ridge_solution, sample_problem, sample_test_set
from memcomp.linear.failures import (
    interaction_ood,
    interaction_ood_loss,
    interaction_target,
    mislabel_once_seen,
    ridge_path_summary,
)


@pytest.fixture(scope="module")
def problem():
    model = LongTailModel(400, 4000, 5.0, 2.0)
    return model, sample_problem(model, 1)


def test_ridge_stops_memorizing_and_composition_degrades(problem):
    model, prob = problem
    lams = [1e-5, 1e-4, 1e-3, 1e-2]
    y = prob.targets(0.0)
    recs = ridge_path_summary(prob.X, y, lams, beta_star=model.beta_star, p=model.p, k=model.k, rng=0)
    assert [r["lam"] for r in recs] == [0.0] + lams
    mn = recs[0]
    assert mn["train_mse_tail_rows"] < 1e-20 and mn["recovered_fraction"] > 0.8
    assert mn["ood_loss"] == pytest.approx(mn["test_loss"], rel=1e-9)  # recovered pairs compose
    ood = [r["ood_loss"] for r in recs]
    tail_mse = [r["train_mse_tail_rows"] for r in recs]
    assert all(a < b for a, b in zip(ood, ood[1:]))
    assert all(a < b for a, b in zip(tail_mse, tail_mse[1:]))
    assert recs[-1]["recovered_fraction"] == 0.0
    # the summary uses the same ridge as ridge_solution
    beta = ridge_solution(prob.X, y, 1e-3)
    e = beta - model.beta_star
    assert recs[3]["test_loss"] == pytest.approx(float(model.p @ e**2), rel=1e-8)


def test_interaction_is_invisible_in_training_and_costs_w_squared(problem):
    model, prob = problem
    out = interaction_ood(prob.X, model.beta_star, model.p, model.k, w=0.7, rng=0)
    assert out["max_train_change"] == 0.0
    assert out["interaction_ood"] == pytest.approx(out["additive_ood"] + 0.49, abs=1e-12)


def test_interaction_loss_formula_matches_a_sampled_test_set():
    rng = np.random.default_rng(0)
    d = 30
    p = np.linspace(0.5, 0.05, d)
    beta_star = rng.normal(size=d)
    beta = beta_star + 0.3 * rng.normal(size=d)
    a, b, w = 20, 25, 0.8
    X_test, y_add = sample_test_set(p, beta_star, 40_000, rng, forced=[a, b])
    y_int = interaction_target(X_test, beta_star, a, b, w)
    assert np.allclose(y_int - y_add, w * X_test[:, [a]].toarray().ravel() * X_test[:, [b]].toarray().ravel())
    mc = monte_carlo_loss(beta, X_test, y_int)
    exact = interaction_ood_loss(beta, beta_star, p, a, b, w)
    assert mc == pytest.approx(exact, rel=0.03)


def test_a_mislabeled_once_seen_row_shifts_every_combination(problem):
    model, prob = problem
    delta = 0.5
    res = mislabel_once_seen(prob.X, prob.targets(0.0), model.beta_star, model.p, model.k, delta, rng=0)
    assert res.m_row == 1
    assert res.coef_change == pytest.approx(res.predicted_coef_change, abs=1e-10)
    assert abs(res.predicted_coef_change) == delta
    assert res.partners.size == 10
    np.testing.assert_allclose(res.prediction_shift, res.coef_change, atol=1e-10)
    # every OOD pair holds the feature: its error goes from 0 to delta, so L_F rises by delta^2
    assert res.ood_corrupted - res.ood_clean == pytest.approx(delta**2, abs=1e-10)


def test_mislabel_with_a_chosen_feature_and_shared_row():
    # two once-seen features share row 0: each takes half of the corruption
    X = np.zeros((6, 8))
    X[:, 0] = [1, -1, 1, 1, -1, 1]
    X[:, 1] = [1, 1, -1, 1, 1, -1]
    X[0, 5], X[0, 6] = 1.0, -1.0
    X[1, 7] = 1.0
    beta_star = np.linspace(1.0, 0.5, 8)
    p = np.array([1, 1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    y = X @ beta_star
    res = mislabel_once_seen(X, y, beta_star, p, 2, 1.0, feature=6)
    assert res.row == 0 and res.m_row == 2
    assert res.coef_change == pytest.approx(-0.5, abs=1e-10)
    with pytest.raises(ValueError, match="feature"):
        mislabel_once_seen(X, y, beta_star, p, 2, 1.0, feature=0)


def test_bad_inputs_name_the_parameter(problem):
    model, prob = problem
    y = prob.targets(0.0)
    kw = dict(beta_star=model.beta_star, p=model.p, k=model.k)
    with pytest.raises(ValueError, match="lams"):
        ridge_path_summary(prob.X, y, [0.0], **kw)
    with pytest.raises(ValueError, match="y"):
        ridge_path_summary(prob.X, y[:-1], [1.0], **kw)
    with pytest.raises(ValueError, match="p must"):
        ridge_path_summary(prob.X, y, [1.0], beta_star=model.beta_star, p=model.p[:-1], k=model.k)
    with pytest.raises(ValueError, match="b must differ"):
        interaction_target(prob.X, model.beta_star, 3, 3, 1.0)
    with pytest.raises(ValueError, match="w"):
        interaction_ood(prob.X, model.beta_star, model.p, model.k, w=float("inf"))
    with pytest.raises(ValueError, match="delta"):
        mislabel_once_seen(prob.X, y, model.beta_star, model.p, model.k, "big")
