"""Min-norm, ridge and gradient-descent solvers of memcomp.linear against dense references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from memcomp.linear import (
    LongTailModel,
    MinNormFactorization,
    dense_min_norm,
    feature_probabilities,
    gradient_descent,
    min_norm_solution,
    ridge_path,
    ridge_solution,
    sample_design,
    sample_problem,
)

TOL = 1e-10


def pinv_ref(X, y):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=float)
    return np.linalg.pinv(X) @ y


def signed_bernoulli(rng, n, d, q):
    return (rng.random((n, d)) < q) * rng.choice([-1.0, 1.0], size=(n, d))


# ----------------------------------------------------------------- small hand-made cases


def small_cases():
    rng = np.random.default_rng(1)
    cases = {}
    X = rng.choice([-1.0, 1.0], size=(5, 12))
    cases["full_rank_dense"] = X
    X = signed_bernoulli(rng, 8, 20, 0.2)
    X[3] = 0.0  # empty row
    X[:, 5] = 0.0  # empty column
    cases["empty_row_and_column"] = X
    X = signed_bernoulli(rng, 8, 20, 0.3)
    X[4] = X[1]
    X[6] = X[1]  # duplicate rows: rank deficient, inconsistent for generic y
    cases["duplicate_rows"] = X
    X = np.zeros((4, 6))
    X[0, 0] = X[1, 1] = X[2, 2] = X[3, 3] = 1.0  # every column seen once
    cases["all_once"] = X
    X = np.zeros((6, 3))
    X[:, 0] = 1.0
    X[::2, 1] = -1.0  # more rows than columns, no once column
    cases["tall"] = X
    X = np.zeros((3, 5))
    cases["all_zero"] = X
    X = signed_bernoulli(rng, 10, 30, 0.3) * rng.normal(size=(10, 30))  # real-valued entries
    cases["real_entries"] = X
    return cases


@pytest.mark.parametrize("name", list(small_cases()))
@pytest.mark.parametrize("method", ["structure", "gram", "auto"])
def test_min_norm_matches_pinv_small(name, method):
    X = small_cases()[name]
    rng = np.random.default_rng(7)
    for y in (rng.normal(size=X.shape[0]), X @ rng.normal(size=X.shape[1])):  # noisy, noiseless
        got = min_norm_solution(sp.csr_matrix(X), y, method=method)
        np.testing.assert_allclose(got, pinv_ref(X, y), atol=1e-8 if method == "gram" else TOL, rtol=0)
        got_dense_input = min_norm_solution(X, y, method=method)
        np.testing.assert_allclose(got_dense_input, got, atol=1e-12, rtol=0)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 12),
    d=st.integers(1, 25),
    q=st.floats(0.02, 0.8),
    dup=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_min_norm_property_random(n, d, q, dup, seed):
    rng = np.random.default_rng(seed)
    X = signed_bernoulli(rng, n, d, q)
    if dup and n > 2:
        X[-1] = X[0]
    y = rng.normal(size=n)
    got = min_norm_solution(X, y, method="structure")
    np.testing.assert_allclose(got, pinv_ref(X, y), atol=TOL, rtol=0)


@pytest.mark.parametrize("alpha", [1.0, 1.5, 2.0, 3.0])
def test_structure_solver_matches_pinv_on_long_tail_designs(alpha):
    model = LongTailModel(n=200, d=1000, s=5.0, alpha=alpha, c=5.0)
    prob = sample_problem(model, rng=11)
    fac = MinNormFactorization(prob.X)
    assert fac.method == "structure"
    assert fac.once_cols.size > 0
    Y = np.column_stack([prob.targets(s) for s in (0.0, 0.05, 0.2)])
    got = fac.solve_many(Y)
    np.testing.assert_allclose(got, np.linalg.pinv(prob.X.toarray()) @ Y, atol=TOL, rtol=0)


def test_factorization_reused_across_targets():
    rng = np.random.default_rng(3)
    X = sample_design(60, feature_probabilities(300, 1.5, 4.0), rng)
    fac = MinNormFactorization(X)
    Y = rng.normal(size=(60, 5))
    many = fac.solve_many(Y)
    assert many.shape == (300, 5)
    for j in range(5):
        single = fac.solve(Y[:, j])
        np.testing.assert_allclose(single, many[:, j], atol=1e-13, rtol=0)
        np.testing.assert_allclose(single, pinv_ref(X, Y[:, j]), atol=TOL, rtol=0)
    # a second solve with the same factorisation gives the same answer (no state mutated)
    np.testing.assert_array_equal(fac.solve(Y[:, 0]), fac.solve(Y[:, 0].copy()))
    # 2-D input to solve is the same as solve_many
    np.testing.assert_allclose(fac.solve(Y), many, atol=1e-13, rtol=0)


def test_min_norm_interpolates_and_lies_in_row_space():
    model = LongTailModel(n=300, d=3000, s=5.0, alpha=2.0)
    prob = sample_problem(model, rng=5)
    beta = min_norm_solution(prob.X, prob.y)
    np.testing.assert_allclose(prob.X @ beta, prob.y, atol=1e-10)
    # beta = X^T a for some a: its component outside the row space vanishes
    a = np.linalg.lstsq(prob.X.toarray().T, beta, rcond=None)[0]
    np.testing.assert_allclose(prob.X.T @ a, beta, atol=1e-9)


def test_dense_min_norm_is_numpy_pinv():
    rng = np.random.default_rng(0)
    X = signed_bernoulli(rng, 6, 9, 0.4)
    y = rng.normal(size=6)
    np.testing.assert_allclose(dense_min_norm(sp.csr_matrix(X), y), np.linalg.pinv(X) @ y, atol=1e-14)


# ----------------------------------------------------------------- ridge


def test_ridge_satisfies_normal_equations_and_path_agrees():
    rng = np.random.default_rng(2)
    X = sp.csr_matrix(signed_bernoulli(rng, 15, 40, 0.2))
    y = rng.normal(size=15)
    lams = [1e-3, 0.1, 2.0]
    path = ridge_path(X, y, lams)
    for lam, row in zip(lams, path):
        b = ridge_solution(X, y, lam)
        grad = (2 / 15) * (X.T @ (X @ b - y)) + 2 * lam * b
        assert np.abs(grad).max() < 1e-10
        np.testing.assert_allclose(row, b, atol=1e-10)
    # primal branch (n > d)
    Xt = sp.csr_matrix(signed_bernoulli(rng, 30, 6, 0.5))
    yt = rng.normal(size=30)
    b = ridge_solution(Xt, yt, 0.05)
    grad = (2 / 30) * (Xt.T @ (Xt @ b - yt)) + 2 * 0.05 * b
    assert np.abs(grad).max() < 1e-10


@pytest.mark.parametrize("name", ["full_rank_dense", "empty_row_and_column", "duplicate_rows"])
def test_ridge_tends_to_min_norm(name):
    X = small_cases()[name]
    y = np.random.default_rng(4).normal(size=X.shape[0])
    ref = pinv_ref(X, y)
    errs = [np.abs(ridge_solution(X, y, lam) - ref).max() for lam in (1e-1, 1e-3, 1e-5, 1e-7)]
    assert all(e2 < e1 for e1, e2 in zip(errs, errs[1:])), errs
    assert errs[-1] < 1e-5, errs


# ----------------------------------------------------------------- gradient descent


def test_gradient_descent_converges_to_min_norm():
    model = LongTailModel(n=40, d=200, s=4.0, alpha=1.5, c=4.0)
    prob = sample_problem(model, rng=9)
    target = min_norm_solution(prob.X, prob.targets(0.1))
    res = gradient_descent(prob.X, prob.targets(0.1), steps=20000, record_every=2500)
    assert list(res.steps) == list(range(0, 20001, 2500))
    assert res.betas.shape == (9, 200)
    np.testing.assert_array_equal(res.betas[0], 0.0)
    assert np.all(np.diff(res.train_loss) <= 1e-15)
    dist = np.linalg.norm(res.betas - target, axis=1)
    assert np.all(np.diff(dist) <= 1e-12)
    assert dist[-1] < 1e-8, dist
    # this design has duplicate rows, so with noise the least-squares minimum is not 0
    r = prob.X @ target - prob.targets(0.1)
    assert res.train_loss[-1] == pytest.approx(float(r @ r) / 40, abs=1e-12)


def test_gradient_descent_records_final_step_and_default_lr():
    X = sp.csr_matrix(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]]))
    res = gradient_descent(X, np.array([1.0, 2.0]), steps=7, record_every=3)
    assert list(res.steps) == [0, 3, 6, 7]
    smax = np.linalg.norm(X.toarray(), 2)
    assert res.lr == pytest.approx(2 / (2 * smax**2))
    np.testing.assert_array_equal(res.beta, res.betas[-1])


# ----------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "call, param",
    [
        (lambda X, y: min_norm_solution(X, y[:-1]), "y"),
        (lambda X, y: min_norm_solution(X, np.zeros((4, 2, 2))), "y"),
        (lambda X, y: min_norm_solution(X, np.full(4, np.nan)), "y"),
        (lambda X, y: min_norm_solution(np.ones(4), y), "X"),
        (lambda X, y: min_norm_solution(np.full((4, 3), np.inf), y), "X"),
        (lambda X, y: min_norm_solution(np.ones((4, 3)) * 1j, y), "X"),
        (lambda X, y: min_norm_solution(X, y, method="svd"), "method"),
        (lambda X, y: MinNormFactorization(X).solve_many(y), "Y"),
        (lambda X, y: MinNormFactorization(X).solve(np.ones(5)), "y"),
        (lambda X, y: dense_min_norm(X, y[:2]), "y"),
        (lambda X, y: ridge_solution(X, y, 0.0), "lam"),
        (lambda X, y: ridge_solution(X, y, -1.0), "lam"),
        (lambda X, y: ridge_solution(X, y, float("nan")), "lam"),
        (lambda X, y: ridge_path(X, y, [1.0, 0.0]), "lams"),
        (lambda X, y: gradient_descent(X, y, steps=-1), "steps"),
        (lambda X, y: gradient_descent(X, y, steps=5, record_every=0), "record_every"),
        (lambda X, y: gradient_descent(X, y, lr=0.0, steps=5), "lr"),
        (lambda X, y: gradient_descent(X, y[:3], steps=5), "y"),
    ],
)
def test_solver_bad_inputs_name_the_parameter(call, param):
    X = sp.csr_matrix(np.eye(4, 6))
    y = np.ones(4)
    with pytest.raises(ValueError, match=rf"^{param}\b"):
        call(X, y)
