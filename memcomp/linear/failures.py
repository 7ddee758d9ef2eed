"""Beyond the paper: when memorizing the tail stops helping composition.

Three small experiments on one design ``X`` (n x d, sparse or dense) with true coefficients
``beta*``, frequencies ``p`` and head size ``k``. All losses are exact *excess* losses
(see :mod:`memcomp.linear.metrics`):

- :func:`ridge_path_summary`: ridge ``argmin (1/n)||Xb - y||^2 + lam ||b||^2`` stops fitting
  (memorizing) the tail rows as lam grows, and the compositional loss rises with it -- the
  linear analogue of weight decay in Table 1.
- :func:`interaction_target` / :func:`interaction_ood`: a non-additive target
  ``y = <beta*, x> + w x_a x_b``. When tail features a and b never share a training row the
  term is 0 on every training row, so memorizing each feature alone cannot see it; on test
  inputs forcing both features ``x_a x_b = +-1`` and the OOD loss grows by exactly ``w^2``
  (the cross terms vanish because the coordinates are independent with mean 0).
- :func:`mislabel_once_seen`: shift the label of the one row holding a once-seen tail
  feature j by delta. The min-norm solution gives that row's residual to its m once-seen
  features in equal shares, so beta_j moves by ``x_ij delta / m`` (when the rest of the
  solution is pinned by other rows), and the prediction on *every* test input containing j
  moves by the same amount: memorizing a wrong rare example breaks all its compositions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from memcomp.checks import check_array, check_float, check_int
from memcomp.linear.features import RngLike, _check_p, as_rng, check_design
from memcomp.linear.solvers import MinNormFactorization, ridge_path
from memcomp.linear.sweep import draw_pairs


@dataclass(frozen=True)
class _Once:
    """Once-seen tail features, the row holding each, and m_i = once-seen features per row."""

    features: np.ndarray
    rows: np.ndarray
    values: np.ndarray
    m_row: np.ndarray  # length n


def _once_seen(X: sp.csr_matrix, k: int) -> _Once:
    n, d = X.shape
    counts = np.bincount(X.indices, minlength=d)
    row_of = np.repeat(np.arange(n), np.diff(X.indptr))
    entry = (counts[X.indices] == 1) & (X.indices >= k)
    feats = X.indices[entry]
    order = np.argsort(feats)
    m_row = np.bincount(row_of[entry], minlength=n)
    return _Once(feats[order], row_of[entry][order], X.data[entry][order], m_row)


def _problem(X: Any, beta_star: Any, p: Any, k: Any) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, int]:
    X = check_design(X)
    d = X.shape[1]
    beta_star = check_array("beta_star", beta_star, shape=(d,))
    p = _check_p(p)
    if p.shape != (d,):
        raise ValueError(f"p must have shape ({d},) (one entry per column of X); got shape {p.shape}")
    k = check_int("k", k, low=0, high=d - 1)
    return X, beta_star, p, k


def _ood_losses(E: np.ndarray, p: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Exact OOD excess loss of each column of errors E (d x m), averaged over the pairs."""
    E2 = E * E
    base = p @ E2
    if pairs.shape[0] == 0:
        return np.full(E.shape[1], np.nan)
    return base + ((1.0 - p)[:, None] * E2)[pairs].sum(axis=1).mean(axis=0)


def _recovered_once_pairs(
    X: sp.csr_matrix, beta_star: np.ndarray, k: int, n_pairs: int, rng: np.random.Generator, tol: float = 1e-6
) -> np.ndarray:
    """Pairs of once-seen tail features, recovered by the noiseless min-norm fit, in distinct rows."""
    once = _once_seen(X, k)
    beta0 = MinNormFactorization(X).solve(X @ beta_star)
    ok = np.abs(beta0[once.features] - beta_star[once.features]) <= tol
    return draw_pairs(once.features[ok], once.rows[ok], n_pairs, rng)


# --------------------------------------------------------------------------- ridge


def ridge_path_summary(
    X: Any,
    y: Any,
    lams: Sequence[float],
    *,
    beta_star: Any,
    p: Any,
    k: int,
    rng: RngLike = 0,
    n_pairs: int = 20,
    recovery_rtol: float = 0.1,
) -> list[dict[str, float]]:
    """One record per ridge penalty lam (and a first record with lam = 0: the min-norm solution).

    Fields: ``lam``; ``train_mse_tail_rows`` / ``train_mse_head_rows`` (mean squared training
    residual on rows holding at least one tail feature / only head features);
    ``recovered_fraction`` (once-seen tail features j with |beta_j - beta*_j| <=
    recovery_rtol |beta*_j|); ``test_loss`` and ``ood_loss`` (exact excess losses; OOD averaged
    over ``n_pairs`` pairs of once-seen tail features that the noiseless min-norm solution
    recovers, in different training rows, the same pairs for every lam).
    """
    X, beta_star, p, k = _problem(X, beta_star, p, k)
    n = X.shape[0]
    y = check_array("y", y, shape=(n,))
    lams_arr = check_array("lams", lams, ndim=1)
    if lams_arr.size < 1 or np.any(lams_arr <= 0):
        raise ValueError(f"lams must be a non-empty list of numbers > 0; got {list(lams_arr)}")
    n_pairs = check_int("n_pairs", n_pairs, low=1)
    recovery_rtol = check_float("recovery_rtol", recovery_rtol, low=0.0, low_open=True)
    rng = as_rng(rng)

    betas = np.vstack([MinNormFactorization(X).solve(y)[None, :], ridge_path(X, y, lams_arr)])  # (L+1, d)
    E = (betas - beta_star[None, :]).T  # d x (L+1)
    R = np.asarray(X @ betas.T) - y[:, None]  # n x (L+1)
    row_of = np.repeat(np.arange(n), np.diff(X.indptr))
    tail_rows = np.zeros(n, dtype=bool)
    tail_rows[row_of[X.indices >= k]] = True
    once = _once_seen(X, k)
    pairs = _recovered_once_pairs(X, beta_star, k, n_pairs, rng)
    ood = _ood_losses(E, p, pairs)
    test = p @ (E * E)
    rec_ok = np.abs(E[once.features]) <= recovery_rtol * np.abs(beta_star[once.features])[:, None]

    def mse(mask: np.ndarray, j: int) -> float:
        return float(np.mean(R[mask, j] ** 2)) if mask.any() else float("nan")

    out = []
    for j, lam in enumerate(np.concatenate(([0.0], lams_arr))):
        out.append(
            {
                "lam": float(lam),
                "train_mse_tail_rows": mse(tail_rows, j),
                "train_mse_head_rows": mse(~tail_rows, j),
                "recovered_fraction": float(rec_ok[:, j].mean()) if once.features.size else float("nan"),
                "test_loss": float(test[j]),
                "ood_loss": float(ood[j]),
            }
        )
    return out


# --------------------------------------------------------------------------- interaction


def interaction_target(X: Any, beta_star: Any, a: int, b: int, w: float) -> np.ndarray:
    """``y = X beta* + w x_a x_b`` (noiseless): an XOR-like interaction between features a and b."""
    X = check_design(X)
    d = X.shape[1]
    beta_star = check_array("beta_star", beta_star, shape=(d,))
    a = check_int("a", a, low=0, high=d - 1)
    b = check_int("b", b, low=0, high=d - 1)
    if a == b:
        raise ValueError(f"b must differ from a; got a = b = {a}")
    w = check_float("w", w)
    xa = np.asarray(X[:, a].toarray()).ravel()
    xb = np.asarray(X[:, b].toarray()).ravel()
    return np.asarray(X @ beta_star) + w * xa * xb


def interaction_ood_loss(beta: Any, beta_star: Any, p: Any, a: int, b: int, w: float) -> float:
    """Exact OOD excess loss on F = {a, b} for the target ``<beta*, x> + w x_a x_b``.

    With e = beta - beta*: E[(<e, x> - w x_a x_b)^2] = sum_{i in F} e_i^2 + sum_{i not in F} p_i e_i^2 + w^2.
    """
    beta = check_array("beta", beta, ndim=1)
    d = beta.size
    beta_star = check_array("beta_star", beta_star, shape=(d,))
    p = _check_p(p)
    a = check_int("a", a, low=0, high=d - 1)
    b = check_int("b", b, low=0, high=d - 1)
    if a == b:
        raise ValueError(f"b must differ from a; got a = b = {a}")
    w = check_float("w", w)
    e2 = (beta - beta_star) ** 2
    return float(p @ e2 + (1 - p[a]) * e2[a] + (1 - p[b]) * e2[b] + w * w)


def interaction_ood(
    X: Any, beta_star: Any, p: Any, k: int, w: float, rng: RngLike = 0
) -> dict[str, float | int]:
    """Fit the min-norm solution to the additive and to the interaction target for one pair (a, b)
    of once-seen tail features in different rows (recovered by the noiseless fit), and return
    ``{"a", "b", "w", "additive_ood", "interaction_ood", "max_train_change"}``.

    ``max_train_change`` is max_i |w x_ia x_ib| over training rows: 0 here, since a and b never
    co-occur, so both fits coincide while the interaction OOD loss is larger by w^2.
    """
    X, beta_star, p, k = _problem(X, beta_star, p, k)
    w = check_float("w", w)
    rng = as_rng(rng)
    pairs = _recovered_once_pairs(X, beta_star, k, 1, rng)
    if pairs.shape[0] == 0:
        raise ValueError("X must hold two recovered once-seen tail features in different rows; it has none")
    a, b = (int(v) for v in pairs[0])
    y_add = np.asarray(X @ beta_star)
    y_int = interaction_target(X, beta_star, a, b, w)
    fac = MinNormFactorization(X)
    B = fac.solve_many(np.stack([y_add, y_int], axis=1))
    return {
        "a": a,
        "b": b,
        "w": w,
        "additive_ood": float(_ood_losses(B[:, :1] - beta_star[:, None], p, pairs)[0]),
        "interaction_ood": interaction_ood_loss(B[:, 1], beta_star, p, a, b, w),
        "max_train_change": float(np.max(np.abs(y_int - y_add))),
    }


# --------------------------------------------------------------------------- mislabeled rare example


@dataclass(frozen=True)
class MislabelResult:
    """What one corrupted once-seen label does.

    ``feature`` j (0-based), its ``row`` i and ``m_row`` (once-seen features in that row);
    ``coef_change`` = beta_j(corrupted) - beta_j(clean), predicted ``x_ij delta / m_row``;
    ``prediction_shift``: change of the prediction on each test input that forces j together
    with one partner feature (``partners``), ``ood_clean`` / ``ood_corrupted``: exact OOD excess
    loss averaged over those pairs.
    """

    feature: int
    row: int
    m_row: int
    delta: float
    coef_change: float
    predicted_coef_change: float
    partners: np.ndarray
    prediction_shift: np.ndarray
    ood_clean: float
    ood_corrupted: float


def mislabel_once_seen(
    X: Any,
    y: Any,
    beta_star: Any,
    p: Any,
    k: int,
    delta: float,
    *,
    feature: int | None = None,
    rng: RngLike = 0,
    n_partners: int = 10,
) -> MislabelResult:
    """Add ``delta`` to the label of the row holding once-seen tail feature ``feature`` and refit.

    ``feature=None`` picks at random a once-seen tail feature recovered by the noiseless fit and
    alone among once-seen features in its row (m = 1, so beta_j moves by exactly +-delta when
    the rest of the solution is pinned). Partners are other recovered once-seen tail features
    from other rows; each shift is measured on the test input ``e_j + e_partner`` (other
    coordinates 0; random other coordinates would add sum_i (change of beta_i) x_i, which is 0
    when the rest of the solution is pinned).
    """
    X, beta_star, p, k = _problem(X, beta_star, p, k)
    n, d = X.shape
    y = check_array("y", y, shape=(n,))
    delta = check_float("delta", delta)
    n_partners = check_int("n_partners", n_partners, low=1)
    rng = as_rng(rng)
    once = _once_seen(X, k)
    fac = MinNormFactorization(X)
    beta0 = fac.solve(np.asarray(X @ beta_star))
    rec = np.abs(beta0[once.features] - beta_star[once.features]) <= 1e-6
    if feature is None:
        pool = np.flatnonzero(rec & (once.m_row[once.rows] == 1))
        if pool.size == 0:
            raise ValueError("X must hold a recovered once-seen tail feature alone in its row; it has none")
        pos = int(rng.choice(pool))
    else:
        feature = check_int("feature", feature, low=0, high=d - 1)
        hits = np.flatnonzero(once.features == feature)
        if hits.size == 0:
            raise ValueError(f"feature must be a tail feature (index >= k = {k}) seen exactly once in X; got {feature}")
        pos = int(hits[0])
    j, i, xij = int(once.features[pos]), int(once.rows[pos]), float(once.values[pos])
    m = int(once.m_row[i])
    y_bad = y.copy()
    y_bad[i] += delta
    B = fac.solve_many(np.stack([y, y_bad], axis=1))
    partner_pool = np.flatnonzero(rec & (once.rows != i))
    partners = np.sort(once.features[rng.permutation(partner_pool)[:n_partners]])
    pairs = np.stack([np.full(partners.size, j), partners], axis=1) if partners.size else np.empty((0, 2), int)
    X_test = np.zeros((partners.size, d))
    X_test[np.arange(partners.size), j] = 1.0
    X_test[np.arange(partners.size), partners] = 1.0
    shift = X_test @ (B[:, 1] - B[:, 0])
    ood = _ood_losses(B - beta_star[:, None], p, pairs)
    return MislabelResult(
        feature=j,
        row=i,
        m_row=m,
        delta=delta,
        coef_change=float(B[j, 1] - B[j, 0]),
        predicted_coef_change=xij * delta / m,
        partners=partners,
        prediction_shift=shift,
        ood_clean=float(ood[0]),
        ood_corrupted=float(ood[1]),
    )
