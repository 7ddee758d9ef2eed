"""Feature model, exact losses, feature groups and theory of memcomp.linear.

Statistical tests use tolerances of 5 standard errors (each such check fails by chance with
probability below about 1e-6), with fixed seeds so the run is deterministic.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from memcomp.linear import (
    once_seen_leverage,
    FeatureGroups,
    LongTailModel,
    MinNormFactorization,
    as_rng,
    compositional_features,
    default_beta_star,
    expected_feature_counts,
    expected_rows_with_at_most_one_tail,
    feature_counts,
    feature_errors,
    feature_groups,
    feature_probabilities,
    head_size,
    mean_ood_loss,
    monte_carlo_loss,
    ood_loss,
    population_loss,
    predicted_loss_rate,
    predicted_noisy_loss,
    predicted_unrecovered_fraction,
    prob_at_most_one_tail,
    prob_head_only_row,
    recovered_features,
    recovered_fraction,
    resolve_beta_star,
    sample_design,
    sample_problem,
    sample_targets,
    sample_test_set,
    structure_stats,
    tail_mass,
    zipf_normalizer,
)

Z = 5.0  # z-score tolerance of the statistical tests


# ----------------------------------------------------------------- frequencies and head


def test_zipf_normalizer_and_probabilities():
    assert zipf_normalizer(3, 1.0) == pytest.approx(1 + 1 / 2 + 1 / 3)
    assert zipf_normalizer(4, 0.0) == pytest.approx(4.0)
    p = feature_probabilities(10000, 2.0, 5.0)
    assert p.shape == (10000,)
    assert np.all(np.diff(p) <= 0)
    raw = 5.0 * np.arange(1, 10001) ** -2.0 / zipf_normalizer(10000, 2.0)
    np.testing.assert_allclose(p, np.minimum(1.0, raw), rtol=1e-14)
    assert p[0] == 1.0  # clipped: 5 / Z_2 > 1
    q = feature_probabilities(1000, 1.0, 2.0)  # nothing clipped: sum is exactly s
    assert q.max() < 1 and q.sum() == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 1.5, 2.0, 3.0])
def test_head_size_rule(alpha):
    n, c = 1000, 10.0
    p = feature_probabilities(10000, alpha, 5.0)
    k = head_size(n, p, c)
    assert n * p[k - 1] >= c > n * p[k]  # largest k with n p_k >= c (1-based p_k = p[k-1])


def test_head_size_paper_values():
    ks = [LongTailModel(1000, 10000, 5.0, a).k for a in (1.0, 2.0, 3.0)]
    assert ks == [51, 17, 7]  # n p_k >= 10 > n p_{k+1}; checked against the formula above
    with pytest.raises(ValueError, match=r"^c\b"):
        head_size(10, feature_probabilities(100, 1.0, 1.0), c=10.0)


def test_model_is_frozen_and_derived_arrays_read_only():
    m = LongTailModel(n=100, d=500, s=3, alpha=1.5)
    assert isinstance(m.s, float) and m.k == head_size(100, m.p, 10.0)
    np.testing.assert_allclose(m.beta_star, np.arange(1, 501) ** -0.1)
    assert m.tail_mass == pytest.approx(m.p[m.k:].sum())
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.n = 5  # type: ignore[misc]
    with pytest.raises(ValueError):
        m.p[0] = 0.5
    assert LongTailModel(100, 500, 3.0, 1.5) == m


def test_resolve_beta_star_forms():
    np.testing.assert_allclose(resolve_beta_star(None, 5), default_beta_star(5))
    np.testing.assert_allclose(resolve_beta_star(lambda i: 1 / i, 4), [1, 1 / 2, 1 / 3, 1 / 4])
    np.testing.assert_allclose(resolve_beta_star(np.ones(3), 3), np.ones(3))
    np.testing.assert_allclose(resolve_beta_star(lambda i: 2.0, 3), [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match=r"^beta_star\b"):
        resolve_beta_star(np.ones(4), 3)


# ----------------------------------------------------------------- sampling


def test_sample_design_format_and_frequencies():
    n = 40000
    p = np.array([1.0, 0.6, 0.3, 0.1, 0.02, 0.006, 0.005, 0.001, 2e-4, 0.0])  # dense and sparse paths
    X = sample_design(n, p, np.random.default_rng(0))
    assert sp.isspmatrix_csr(X) and X.dtype == np.float64 and X.shape == (n, p.size)
    assert set(np.unique(X.data)) <= {-1.0, 1.0}
    counts = feature_counts(X)
    sd = np.sqrt(n * p * (1 - p))
    ok = np.where(sd > 0, np.abs(counts - n * p) <= Z * np.maximum(sd, 1e-12), counts == n * p)
    assert ok.all(), (counts, n * p)
    # fair signs: sum of signs over all non-zeros is a +-1 random walk
    assert abs(X.data.sum()) <= Z * np.sqrt(X.nnz)
    # independence of two columns: co-occurrence of features 1 and 2
    both = np.count_nonzero(X[:, 1].multiply(X[:, 2]).toarray())
    mu = n * p[1] * p[2]
    assert abs(both - mu) <= Z * np.sqrt(mu * (1 - p[1] * p[2]))


def test_sample_design_rows_per_sample():
    model = LongTailModel(n=1000, d=10000, s=5.0, alpha=1.5)
    X = sample_design(model.n, model.p, 1)
    nnz_rows = np.diff(X.indptr)
    var = float(np.sum(model.p * (1 - model.p)))
    assert abs(nnz_rows.mean() - model.p.sum()) <= Z * np.sqrt(var / model.n)


def test_same_seed_same_arrays():
    model = LongTailModel(n=300, d=2000, s=5.0, alpha=1.2, sigma=0.1)
    a, b = sample_problem(model, 42), sample_problem(model, np.random.default_rng(42))
    for name in ("y", "y_clean", "noise"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert (a.X != b.X).nnz == 0
    np.testing.assert_array_equal(a.X.indices, b.X.indices)
    c = sample_problem(model, 43)
    assert (a.X != c.X).nnz > 0
    X1 = sample_design(50, model.p, 7)
    X2 = sample_design(50, model.p, 7)
    np.testing.assert_array_equal(X1.toarray(), X2.toarray())


def test_sample_targets_and_problem_targets():
    model = LongTailModel(n=200, d=800, s=4.0, alpha=2.0, sigma=0.3)
    prob = sample_problem(model, 3)
    np.testing.assert_allclose(prob.y_clean, prob.X @ model.beta_star)
    np.testing.assert_allclose(prob.y, prob.targets(0.3))
    np.testing.assert_allclose(prob.targets(0.0), prob.y_clean)
    assert prob.k == model.k and prob.p is model.p
    y0 = sample_targets(prob.X, None, 0.0, 1)
    np.testing.assert_allclose(y0, prob.X @ default_beta_star(800))
    y1 = sample_targets(prob.X, None, 2.0, 1)
    z = (y1 - y0) / 2.0
    assert abs(z.mean()) <= Z / np.sqrt(200) and abs(z.var() - 1) <= Z * np.sqrt(2 / 200)
    custom = sample_problem(model, 3, beta_star=lambda i: np.ones_like(i))
    np.testing.assert_allclose(custom.y_clean, np.asarray(prob.X.sum(axis=1)).ravel())


# ----------------------------------------------------------------- exact losses vs Monte Carlo


def _mc_check(beta, X_test, y_test, exact):
    r2 = (X_test @ beta - y_test) ** 2
    se = r2.std() / np.sqrt(r2.size)
    assert monte_carlo_loss(beta, X_test, y_test) == pytest.approx(r2.mean())
    assert abs(r2.mean() - exact) <= Z * se, (r2.mean(), exact, se)


def test_population_and_ood_loss_match_monte_carlo():
    rng = np.random.default_rng(5)
    d = 40
    p = feature_probabilities(d, 1.2, 3.0)
    beta_star = default_beta_star(d)
    beta = beta_star + rng.normal(scale=0.5, size=d)
    sigma = 0.3
    X_test, y_test = sample_test_set(p, beta_star, 200_000, rng, sigma=sigma)
    _mc_check(beta, X_test, y_test, population_loss(beta, beta_star, p, sigma))
    F = np.array([25, 33])
    X_ood, y_ood = sample_test_set(p, beta_star, 200_000, rng, sigma=sigma, forced=F)
    assert np.all(feature_counts(X_ood)[F] == 200_000)
    exact = ood_loss(beta, beta_star, p, F, sigma)
    _mc_check(beta, X_ood, y_ood, exact)
    e2 = (beta - beta_star) ** 2
    assert exact == pytest.approx(population_loss(beta, beta_star, p, sigma) + np.sum((1 - p[F]) * e2[F]))


# ----------------------------------------------------------------- groups, structure, recovery


def _toy_design():
    # columns: 0,1 head; 2 seen twice; 3,4,5 seen once; 6 unseen. Rows:
    # r0: head only, r1: head + once(3), r2: 2 + once(4) + once(5), r3: 2 + head, r4: empty
    X = np.zeros((5, 7))
    X[0, [0, 1]] = 1
    X[1, [0, 3]] = [1, -1]
    X[2, [2, 4, 5]] = [1, 1, -1]
    X[3, [1, 2]] = [-1, 1]
    return sp.csr_matrix(X)


def test_feature_groups_and_errors():
    X = _toy_design()
    np.testing.assert_array_equal(feature_counts(X), [2, 2, 2, 1, 1, 1, 0])
    g = feature_groups(X, 2)
    assert isinstance(g, FeatureGroups)
    np.testing.assert_array_equal(g.head, [0, 1])
    np.testing.assert_array_equal(g.tail_once, [3, 4, 5])
    np.testing.assert_array_equal(g.tail_more, [2])
    np.testing.assert_array_equal(g.tail_unseen, [6])
    beta_star = np.zeros(7)
    beta = np.array([3.0, 4.0, 0, 1.0, 1.0, 1.0, 0.0])
    err = feature_errors(beta, beta_star, g)
    assert err["head"] == pytest.approx(5 / np.sqrt(2))
    assert err["tail_once"] == pytest.approx(1.0) and err["tail_more"] == 0.0
    assert err["tail_unseen"] == 0.0
    assert math.isnan(feature_errors(beta, beta_star, {"empty": np.array([], dtype=int)})["empty"])


def test_structure_stats_on_toy_design():
    st_ = structure_stats(_toy_design(), 2)
    assert st_.frac_rows_head_only == pytest.approx(2 / 5)  # r0, r4
    assert st_.frac_rows_at_most_one_tail == pytest.approx(4 / 5)  # all but r2
    assert st_.frac_rows_two_plus_tail == pytest.approx(1 / 5)
    assert (st_.n_tail_seen, st_.n_tail_once, st_.n_tail_more) == (4, 3, 1)
    assert st_.frac_once_alone == pytest.approx(1 / 3)  # only feature 3 is alone in its row


def test_recovery_on_toy_design():
    # add a row holding head feature 0 alone: rows without once-seen features (r0, r3, r4, r5)
    # then pin features 0, 1, 2 exactly; feature 3 is alone with head features in its row, so
    # it is recovered; 4 and 5 share a row and each takes half of its residual (not recovered).
    extra = np.zeros((1, 7))
    extra[0, 0] = 1.0
    X = sp.vstack([_toy_design(), sp.csr_matrix(extra)]).tocsr()
    beta_star = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    beta = MinNormFactorization(X).solve(X @ beta_star)
    np.testing.assert_allclose(beta[:4], beta_star[:4], atol=1e-12)
    half = (beta_star[4] - beta_star[5]) / 2  # row r2 residual after b2: u4 - u5 = 5 - 6
    np.testing.assert_allclose(beta[4:], [half, -half, 0.0], atol=1e-12)
    np.testing.assert_array_equal(recovered_features(beta, beta_star, X, 2), [2, 3])
    assert recovered_fraction(beta, beta_star, X, 2) == pytest.approx(2 / 4)  # seen tail: 2, 3, 4, 5
    assert recovered_fraction(beta_star, beta_star, X, 2) == 1.0


def test_structure_lemma_holds_at_fast_decay():
    """alpha = 3, paper sizes: the head is pinned exactly and nearly every seen tail feature is recovered."""
    model = LongTailModel(n=1000, d=10000, s=5.0, alpha=3.0)
    prob = sample_problem(model, 0)
    beta = MinNormFactorization(prob.X).solve(prob.y_clean)
    g = feature_groups(prob.X, model.k)
    assert feature_errors(beta, model.beta_star, g)["head"] < 1e-10
    frac = recovered_fraction(beta, model.beta_star, prob.X, model.k)
    stats = structure_stats(prob.X, model.k)
    assert stats.frac_rows_at_most_one_tail > 0.99
    assert frac >= 0.95, frac


def test_compositional_features_and_mean_ood_loss():
    model = LongTailModel(n=500, d=5000, s=5.0, alpha=2.0)
    prob = sample_problem(model, 1)
    X, k = prob.X, model.k
    beta = MinNormFactorization(X).solve(prob.y_clean)
    rec = recovered_features(beta, model.beta_star, X, k)
    counts = feature_counts(X)
    csc = X.tocsc()
    for seed in range(20):
        F = compositional_features(X, k, seed, t=3, candidates=rec)
        assert F.size == 3 and np.all(F >= k) and np.all(counts[F] == 1) and np.all(np.isin(F, rec))
        rows = csc.indices[csc.indptr[F]]
        assert np.unique(rows).size == 3
    np.testing.assert_array_equal(compositional_features(X, k, 9), compositional_features(X, k, 9))
    # mean_ood_loss is the mean of ood_loss over the same random draws
    g = np.random.default_rng(4)
    sets = [compositional_features(X, k, g, t=2) for _ in range(30)]
    expect = np.mean([ood_loss(beta, model.beta_star, model.p, F, 0.1) for F in sets])
    got = mean_ood_loss(beta, model.beta_star, model.p, X, k, 4, t=2, n_sets=30, sigma=0.1)
    assert got == pytest.approx(expect, rel=1e-12)
    # candidates are respected: every F is drawn among the recovered features (|e| <= 1e-6), so the
    # extra OOD term is at most 2e-12 and the OOD loss equals the in-distribution loss; a draw
    # outside the candidates would add (1 - p_i) e_i^2 of order 0.1 and fail this
    pop = population_loss(beta, model.beta_star, model.p)
    assert mean_ood_loss(beta, model.beta_star, model.p, X, k, 0, candidates=rec) == pytest.approx(pop, abs=1e-10)
    with pytest.raises(ValueError, match=r"^t\b"):
        compositional_features(X, k, 0, t=2, candidates=rec[:1])


# ----------------------------------------------------------------- theory


def test_tail_probabilities_exact_against_enumeration():
    p = np.array([0.9, 0.5, 0.3, 0.2, 0.6, 1.0, 0.05])
    k = 2
    tail = p[k:]
    at_most_one = 0.0
    none = 0.0
    for bits in itertools.product([0, 1], repeat=tail.size):
        pr = np.prod(np.where(np.array(bits) == 1, tail, 1 - tail))
        at_most_one += pr * (sum(bits) <= 1)
        none += pr * (sum(bits) == 0)
    assert prob_at_most_one_tail(p, k) == pytest.approx(at_most_one, abs=1e-15)
    assert prob_head_only_row(p, k) == pytest.approx(none, abs=1e-15)
    q = np.array([0.5, 0.1, 0.2, 0.3])
    assert prob_at_most_one_tail(q, 1) == pytest.approx(0.9 * 0.8 * 0.7 * (1 + 1 / 9 + 2 / 8 + 3 / 7))
    assert expected_rows_with_at_most_one_tail(q, 1, 10) == pytest.approx(10 * prob_at_most_one_tail(q, 1))
    assert tail_mass(q, 1) == pytest.approx(0.6)
    assert prob_at_most_one_tail(q, 4) == 1.0


def test_theory_against_simulation():
    model = LongTailModel(n=1000, d=10000, s=5.0, alpha=1.5)
    prob = sample_problem(model, 2)
    st_ = structure_stats(prob.X, model.k)
    P = prob_at_most_one_tail(model.p, model.k)
    assert abs(st_.frac_rows_at_most_one_tail - P) <= Z * np.sqrt(P * (1 - P) / model.n)
    exp = expected_feature_counts(model.p, model.k, model.n)
    g = feature_groups(prob.X, model.k)
    for name in ("tail_once", "tail_more", "tail_unseen"):
        got = getattr(g, name).size
        assert abs(got - exp[name]) <= Z * np.sqrt(exp[name]) + 1, (name, got, exp[name])


def test_rate_formulas():
    p = feature_probabilities(10000, 2.0, 5.0)
    k = head_size(1000, p)
    tm = p[k:].sum()
    assert predicted_unrecovered_fraction(p, k) == pytest.approx(max(p[k - 1] / tm, tm**2 * np.log(10000) ** 2))
    assert predicted_loss_rate(1000, 10000, 5.0, 2.0) == pytest.approx(5 * (np.log(10000) ** 2 / 5000) ** 0.5)
    assert predicted_noisy_loss(0.1, 17, 1000) == pytest.approx(0.01 * 17 / 1000)
    rates = [predicted_loss_rate(1000, 10000, 5.0, a) for a in (1.5, 2.0, 3.0)]
    assert rates[0] > rates[1] > rates[2]


# ----------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "call, param",
    [
        (lambda: zipf_normalizer(0, 1.0), "d"),
        (lambda: zipf_normalizer(10, -1.0), "alpha"),
        (lambda: feature_probabilities(10, 1.0, 0.0), "s"),
        (lambda: feature_probabilities(10, 1.0, 11.0), "s"),
        (lambda: feature_probabilities(10.5, 1.0, 1.0), "d"),
        (lambda: head_size(0, [0.5], 1.0), "n"),
        (lambda: head_size(10, [0.5, 0.6], 1.0), "p"),
        (lambda: head_size(10, [1.5], 1.0), "p"),
        (lambda: head_size(10, [0.5], 0.0), "c"),
        (lambda: LongTailModel(0, 10, 1.0, 1.0), "n"),
        (lambda: LongTailModel(10, 10, 1.0, 1.0, sigma=-1.0), "sigma"),
        (lambda: LongTailModel(10, 10, 1.0, float("nan")), "alpha"),
        (lambda: LongTailModel(10, 10, 1.0, 1.0), "c"),  # n p_1 < 10: empty head
        (lambda: sample_design(10, [0.5, 1.2], 0), "p"),
        (lambda: sample_design(10, [0.5], -1), "rng"),
        (lambda: sample_design(10, [0.5], "seed"), "rng"),
        (lambda: sample_targets(np.eye(3), np.ones(2), 0.0, 0), "beta_star"),
        (lambda: sample_targets(np.eye(3), None, -0.1, 0), "sigma"),
        (lambda: sample_problem("model", 0), "model"),
        (lambda: population_loss(np.ones(3), np.ones(2), np.ones(3)), "beta_star"),
        (lambda: population_loss(np.ones(3), np.ones(3), np.ones(2) / 2), "p"),
        (lambda: ood_loss(np.ones(3), np.ones(3), np.ones(3) / 2, [3]), "features"),
        (lambda: ood_loss(np.ones(3), np.ones(3), np.ones(3) / 2, [1, 1]), "features"),
        (lambda: sample_test_set(np.ones(3) / 2, np.ones(3), 0, 0), "n_test"),
        (lambda: monte_carlo_loss(np.ones(2), np.eye(3), np.ones(3)), "beta"),
        (lambda: feature_groups(np.eye(3), 4), "k"),
        (lambda: feature_groups(np.ones(3), 1), "X"),
        (lambda: structure_stats(np.eye(3), -1), "k"),
        (lambda: recovered_fraction(np.ones(3), np.ones(3), np.eye(3), 1, tol=-1.0), "tol"),
        (lambda: compositional_features(np.eye(3), 0, 0, t=0), "t"),
        (lambda: mean_ood_loss(np.ones(3), np.ones(3), np.ones(3) / 2, np.eye(3), 0, 0, n_sets=0), "n_sets"),
        (lambda: tail_mass(np.ones(3) / 2, 4), "k"),
        (lambda: predicted_unrecovered_fraction(np.ones(3) / 2, 0), "k"),
        (lambda: predicted_loss_rate(10, 1, 1.0, 2.0), "d"),
        (lambda: predicted_noisy_loss(-1.0, 1, 10), "sigma"),
        (lambda: expected_feature_counts(np.ones(3) / 2, 1, 0), "n"),
        (lambda: as_rng(1.5), "rng"),
    ],
)
def test_core_bad_inputs_name_the_parameter(call, param):
    with pytest.raises(ValueError, match=rf"^{param}\b"):
        call()


@settings(max_examples=40, deadline=None)
@given(
    n=st.one_of(st.integers(-5, 0), st.just(2.5), st.just(True)),
    d=st.integers(1, 50),
)
def test_model_rejects_bad_n(n, d):
    with pytest.raises(ValueError, match=r"^n\b"):
        LongTailModel(n, d, 1.0, 1.0)


@settings(max_examples=40, deadline=None)
@given(s=st.one_of(st.floats(max_value=0.0), st.floats(min_value=100.001, max_value=1e9), st.just(float("inf"))))
def test_model_rejects_bad_s(s):
    with pytest.raises(ValueError, match=r"^s\b"):
        LongTailModel(1000, 100, s, 1.0)


def test_once_seen_leverage_is_the_row_norm_of_the_pseudo_inverse():
    # E[e_j^2 | X] / sigma^2 = 1 + kappa_j = ||row j of X^+||^2 when the core block has full rank
    model = LongTailModel(n=300, d=3000, s=5.0, alpha=2.0)
    X = sample_problem(model, rng=2).X
    lev = once_seen_leverage(X)
    assert lev.full_rank and lev.features.size >= 5
    Xp = np.linalg.pinv(X.toarray())
    np.testing.assert_allclose(1 + lev.leverage, np.sum(Xp[lev.features] ** 2, axis=1), rtol=1e-9)
    assert np.all(lev.leverage > 0)
    # each feature is the only once-seen feature of its row, and the sign is the entry
    np.testing.assert_array_equal(X[lev.rows, lev.features].A1, lev.sign)


def test_once_seen_leverage_is_nan_when_the_core_block_is_rank_deficient():
    # core column 2 is seen twice, but only in rows that also hold once-seen features
    X = sp.csr_matrix(np.array([
        [1.0, 0.0, 1.0, 1.0, 0.0],
        [1.0, 0.0, -1.0, 0.0, 1.0],
        [1.0, 1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0, 0.0],
    ]))
    lev = once_seen_leverage(X)
    assert not lev.full_rank
    np.testing.assert_array_equal(lev.features, [3, 4])
    assert np.all(np.isnan(lev.leverage))
