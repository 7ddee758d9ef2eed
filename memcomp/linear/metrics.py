"""Losses, feature groups and structure statistics for a fitted linear model.

Exact losses. Coordinates of a test input are independent with mean 0 and E[x_i^2] = p_i, so
for any beta the test loss E(<beta, x> - y)^2 with y = <beta*, x> + sigma z is exactly

    L(beta) = sum_i p_i (beta_i - beta*_i)^2 + sigma^2.

The OOD ("compositional") test distribution forces each feature of a set F to be non-zero
(random sign) and draws the others as usual, so E[x_i^2] = 1 on F and

    L_F(beta) = sum_{i in F} (beta_i - beta*_i)^2 + sum_{i not in F} p_i (beta_i - beta*_i)^2 + sigma^2.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from memcomp.checks import check_array, check_float, check_int
from memcomp.linear.features import RngLike, _check_p, as_rng, check_design, sample_design

# --------------------------------------------------------------------------- validation


def _vectors(beta: Any, beta_star: Any, p: Any | None = None) -> tuple[np.ndarray, ...]:
    beta = check_array("beta", beta, ndim=1)
    beta_star = check_array("beta_star", beta_star, shape=beta.shape)
    if p is None:
        return beta, beta_star
    p = _check_p(p)
    if p.shape != beta.shape:
        raise ValueError(f"p must have shape {beta.shape} (like beta); got shape {p.shape}")
    return beta, beta_star, p


def _check_k(k: Any, d: int) -> int:
    return check_int("k", k, low=0, high=d)


def _check_features(features: Any, d: int, name: str = "features") -> np.ndarray:
    arr = np.asarray(features)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-D array of integer feature indices; got {arr!r}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= d):
        raise ValueError(f"{name} must hold indices in [0, {d - 1}]; got min {arr.min()}, max {arr.max()}")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"{name} must not repeat an index; got {arr.tolist()}")
    return arr


# --------------------------------------------------------------------------- losses


def population_loss(beta: Any, beta_star: Any, p: Any, sigma: float = 0.0) -> float:
    """Exact in-distribution test loss sum_i p_i (beta_i - beta*_i)^2 + sigma^2."""
    beta, beta_star, p = _vectors(beta, beta_star, p)
    sigma = check_float("sigma", sigma, low=0.0)
    e = beta - beta_star
    return float(np.dot(p, e * e) + sigma**2)


def ood_loss(beta: Any, beta_star: Any, p: Any, features: Any, sigma: float = 0.0) -> float:
    """Exact OOD loss: features in F (0-based indices) forced non-zero, others as usual."""
    beta, beta_star, p = _vectors(beta, beta_star, p)
    F = _check_features(features, beta.size)
    sigma = check_float("sigma", sigma, low=0.0)
    e2 = (beta - beta_star) ** 2
    return float(np.dot(p, e2) + np.dot(1.0 - p[F], e2[F]) + sigma**2)


def sample_test_set(
    p: Any,
    beta_star: Any,
    n_test: int,
    rng: RngLike,
    sigma: float = 0.0,
    forced: Any = None,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """A sampled test set (X_test, y_test); features in ``forced`` are non-zero in every row."""
    p = _check_p(p)
    beta_star = check_array("beta_star", beta_star, shape=p.shape)
    n_test = check_int("n_test", n_test, low=1)
    sigma = check_float("sigma", sigma, low=0.0)
    rng = as_rng(rng)
    q = p.copy()
    if forced is not None:
        q[_check_features(forced, p.size, "forced")] = 1.0
    X = sample_design(n_test, q, rng)
    y = X @ beta_star + sigma * rng.standard_normal(n_test)
    return X, y


def monte_carlo_loss(beta: Any, X_test: Any, y_test: Any) -> float:
    """Mean squared error (1/m) ||X_test beta - y_test||^2 on a sampled test set."""
    X_test = check_design(X_test, "X_test")
    beta = check_array("beta", beta, shape=(X_test.shape[1],))
    y_test = check_array("y_test", y_test, shape=(X_test.shape[0],))
    r = X_test @ beta - y_test
    return float(r @ r) / X_test.shape[0]


# --------------------------------------------------------------------------- feature groups


def feature_counts(X: Any) -> np.ndarray:
    """How many rows each column is non-zero in (length d, int64)."""
    X = check_design(X)
    return np.bincount(X.indices, minlength=X.shape[1]).astype(np.int64)


@dataclass(frozen=True)
class FeatureGroups:
    """0-based index arrays: head (first k), tail features seen once, seen >= 2 times, unseen."""

    head: np.ndarray
    tail_once: np.ndarray
    tail_more: np.ndarray
    tail_unseen: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        return asdict(self)

    @property
    def tail_seen(self) -> np.ndarray:
        return np.union1d(self.tail_once, self.tail_more)


def feature_groups(X: Any, k: int) -> FeatureGroups:
    """Split the features by head/tail (index < k or not) and by how often the tail was seen."""
    counts = feature_counts(X)
    d = counts.size
    k = _check_k(k, d)
    idx = np.arange(d)
    tail = idx >= k
    return FeatureGroups(
        head=idx[:k],
        tail_once=idx[tail & (counts == 1)],
        tail_more=idx[tail & (counts >= 2)],
        tail_unseen=idx[tail & (counts == 0)],
    )


def feature_errors(beta: Any, beta_star: Any, groups: FeatureGroups | dict) -> dict[str, float]:
    """RMS error per group: ||beta_G - beta*_G|| / sqrt(|G|) (nan for an empty group)."""
    beta, beta_star = _vectors(beta, beta_star)
    items = groups.as_dict() if isinstance(groups, FeatureGroups) else dict(groups)
    out: dict[str, float] = {}
    for name, G in items.items():
        G = _check_features(G, beta.size, f"groups[{name!r}]")
        out[name] = float(np.sqrt(np.mean((beta[G] - beta_star[G]) ** 2))) if G.size else float("nan")
    return out


@dataclass(frozen=True)
class StructureStats:
    """How close a design is to the structure lemma's picture (fractions of rows or tail features)."""

    n: int
    k: int
    frac_rows_head_only: float  # rows with no tail feature
    frac_rows_at_most_one_tail: float  # rows with 0 or 1 tail features
    frac_rows_two_plus_tail: float  # rows with >= 2 tail features
    n_tail_seen: int
    n_tail_once: int
    n_tail_more: int
    frac_once_alone: float  # once-seen tail features that are the only tail feature of their row

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def structure_stats(X: Any, k: int) -> StructureStats:
    """Row and feature statistics of X for head size k (see :class:`StructureStats`)."""
    X = check_design(X)
    n, d = X.shape
    k = _check_k(k, d)
    is_tail = X.indices >= k
    row_of = np.repeat(np.arange(n), np.diff(X.indptr))
    tail_per_row = np.bincount(row_of[is_tail], minlength=n)
    counts = np.bincount(X.indices, minlength=d)
    once_entries = is_tail & (counts[X.indices] == 1)
    alone = tail_per_row[row_of[once_entries]] == 1
    n_once = int(np.count_nonzero(counts[k:] == 1))
    return StructureStats(
        n=n,
        k=k,
        frac_rows_head_only=float(np.mean(tail_per_row == 0)),
        frac_rows_at_most_one_tail=float(np.mean(tail_per_row <= 1)),
        frac_rows_two_plus_tail=float(np.mean(tail_per_row >= 2)),
        n_tail_seen=int(np.count_nonzero(counts[k:] >= 1)),
        n_tail_once=n_once,
        n_tail_more=int(np.count_nonzero(counts[k:] >= 2)),
        frac_once_alone=float(np.mean(alone)) if alone.size else float("nan"),
    )


# --------------------------------------------------------------------------- recovery and composition


def recovered_features(beta: Any, beta_star: Any, X: Any, k: int, tol: float = 1e-6) -> np.ndarray:
    """Seen tail features i (count >= 1, index >= k) with |beta_i - beta*_i| <= tol."""
    beta, beta_star = _vectors(beta, beta_star)
    X = check_design(X)
    if X.shape[1] != beta.size:
        raise ValueError(f"X must have {beta.size} columns (like beta); got shape {X.shape}")
    k = _check_k(k, beta.size)
    tol = check_float("tol", tol, low=0.0)
    seen = feature_groups(X, k).tail_seen
    return seen[np.abs(beta[seen] - beta_star[seen]) <= tol]


def recovered_fraction(beta: Any, beta_star: Any, X: Any, k: int, tol: float = 1e-6) -> float:
    """Fraction of seen tail features recovered to within ``tol`` (nan if none was seen).

    This is the noiseless definition (sigma = 0, where recovery is exact up to round-off).
    With noise, judge recovery on the noiseless solution of the same design instead.
    """
    beta, beta_star = _vectors(beta, beta_star)
    X = check_design(X)
    k = _check_k(k, beta.size)
    n_seen = feature_groups(X, k).tail_seen.size
    if n_seen == 0:
        return float("nan")
    return recovered_features(beta, beta_star, X, k, tol).size / n_seen


def _once_candidates(X: sp.csr_matrix, k: int, candidates: Any) -> tuple[np.ndarray, np.ndarray]:
    """Tail features seen exactly once (optionally intersected with ``candidates``) and their rows."""
    once = feature_groups(X, k).tail_once
    if candidates is not None:
        once = np.intersect1d(once, _check_features(candidates, X.shape[1], "candidates"))
    csc = X.tocsc()
    rows = csc.indices[csc.indptr[once]]
    return once, rows


def _draw_set(once: np.ndarray, rows: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
    # Rejection: uniform over t-subsets with distinct training rows.
    for _ in range(1000):
        pick = rng.choice(once.size, size=t, replace=False)
        if np.unique(rows[pick]).size == t:
            return np.sort(once[pick])
    # Valid sets are rare: fall back to a random greedy pass (still valid, not exactly uniform).
    chosen, used = [], set()
    for j in rng.permutation(once.size):
        if rows[j] not in used:
            chosen.append(once[j])
            used.add(rows[j])
            if len(chosen) == t:
                return np.sort(np.asarray(chosen, dtype=np.int64))
    raise ValueError(f"t must be at most the number of distinct training rows among candidates ({len(used)}); got {t}")


def compositional_features(
    X: Any,
    k: int,
    rng: RngLike,
    *,
    t: int = 2,
    candidates: Any = None,
) -> np.ndarray:
    """A random OOD feature set F: t tail features, each seen exactly once, no two in one row.

    Our choice (the paper leaves it open): F is uniform over all such t-subsets of the tail
    features seen once, intersected with ``candidates`` when given. Pass
    ``candidates=recovered_features(beta0, beta_star, X, k)`` with the *noiseless* solution
    ``beta0`` on the same design to restrict F to recovered features (the paper's F_hat), also
    for noisy runs. Returns t sorted 0-based indices; ValueError if no valid set exists.
    """
    X = check_design(X)
    k = _check_k(k, X.shape[1])
    t = check_int("t", t, low=1)
    rng = as_rng(rng)
    once, rows = _enough_once_candidates(X, k, candidates, t)
    return _draw_set(once, rows, t, rng)


def ood_set_exists(X: Any, k: int, *, t: int = 2, candidates: Any = None) -> bool:
    """Whether :func:`compositional_features` can draw a set F of ``t`` features.

    Parameters
    ----------
    X : sparse or dense (n, d) design
    k : int
        Head size; F holds tail features only.
    t : int
        Size of F.
    candidates : array of feature indices, optional
        Restrict F to these features (as in :func:`compositional_features`).

    Returns
    -------
    bool
        True when at least ``t`` once-seen tail candidates lie in ``t`` distinct rows.
    """
    X = check_design(X)
    k = _check_k(k, X.shape[1])
    t = check_int("t", t, low=1)
    once, rows = _once_candidates(X, k, candidates)
    return bool(once.size >= t and np.unique(rows).size >= t)


def _enough_once_candidates(X: Any, k: int, candidates: Any, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Once-seen candidate features and their rows; ValueError unless t of them lie in distinct rows."""
    once, rows = _once_candidates(X, k, candidates)
    if once.size < t or np.unique(rows).size < t:
        raise ValueError(
            f"t must be at most the number of once-seen candidate features in distinct rows "
            f"({np.unique(rows).size}); got {t}"
        )
    return once, rows


def mean_ood_loss(
    beta: Any,
    beta_star: Any,
    p: Any,
    X: Any,
    k: int,
    rng: RngLike,
    *,
    t: int = 2,
    n_sets: int = 100,
    sigma: float = 0.0,
    candidates: Any = None,
) -> float:
    """OOD loss averaged over ``n_sets`` independent draws of :func:`compositional_features`.

    Uses L_F = L + sum_{i in F} (1 - p_i)(beta_i - beta*_i)^2 with L the exact population loss.
    """
    beta, beta_star, p = _vectors(beta, beta_star, p)
    X = check_design(X)
    if X.shape[1] != beta.size:
        raise ValueError(f"X must have {beta.size} columns (like beta); got shape {X.shape}")
    k = _check_k(k, beta.size)
    t = check_int("t", t, low=1)
    n_sets = check_int("n_sets", n_sets, low=1)
    sigma = check_float("sigma", sigma, low=0.0)
    rng = as_rng(rng)
    once, rows = _enough_once_candidates(X, k, candidates, t)
    e2 = (beta - beta_star) ** 2
    base = float(np.dot(p, e2) + sigma**2)
    extra = (1.0 - p) * e2
    total = 0.0
    for _ in range(n_sets):
        total += float(extra[_draw_set(once, rows, t, rng)].sum())
    return base + total / n_sets


# --------------------------------------------------------------------------- noise on once-seen features


@dataclass(frozen=True)
class OnceSeenLeverage:
    """The exact noise factor of each once-seen feature that is alone (among once-seen
    features) in its row.

    ``features[t]`` is seen only in row ``rows[t]``, and ``sign[t] = x_{rows[t], features[t]}``.
    ``leverage[t] = x_c^T (A^T A)^{-1} x_c`` with ``x_c`` the row's core part and ``A`` the
    core block (rows without once-seen features, columns seen at least twice). When ``A`` has
    full column rank (``full_rank``), the min-norm solution's error on the feature is exactly
    ``e_j = x_ij (xi_i - x_c^T e_core)`` with ``e_core = (A^T A)^{-1} A^T xi_core`` independent
    of ``xi_i``, so ``E[e_j^2 | X] = sigma^2 (1 + leverage)``.
    """

    features: np.ndarray
    rows: np.ndarray
    sign: np.ndarray
    leverage: np.ndarray
    core_cols: np.ndarray
    core_rows: np.ndarray
    full_rank: bool


def once_seen_leverage(X: Any) -> OnceSeenLeverage:
    """Exact conditional noise factor ``1 + x_c^T (A^T A)^{-1} x_c`` of once-seen features.

    Parameters
    ----------
    X : sparse or dense (n, d) design.

    Returns
    -------
    OnceSeenLeverage
        ``leverage`` is ``nan`` for every feature when the core block ``A`` lacks full column
        rank (then the core is not determined by the rows of ``A`` alone and the formula does
        not apply).
    """
    X = check_design(X)
    n, d = X.shape
    csc = X.tocsc()
    counts = np.diff(csc.indptr)
    once = np.flatnonzero(counts == 1)
    core_cols = np.flatnonzero(counts >= 2)
    once_row = csc.indices[csc.indptr[once]]
    once_sign = csc.data[csc.indptr[once]]
    per_row = np.bincount(once_row, minlength=n)
    core_rows = np.flatnonzero(per_row == 0)
    alone = per_row[once_row] == 1
    feats, rows, sign = once[alone], once_row[alone], once_sign[alone]
    A = X[core_rows][:, core_cols].toarray()
    full = core_cols.size > 0 and np.linalg.matrix_rank(A) == core_cols.size
    if full:
        G = A.T @ A
        Xc = X[rows][:, core_cols].toarray()
        lev = np.einsum("ij,ji->i", Xc, np.linalg.solve(G, Xc.T))
    else:
        lev = np.full(feats.size, np.nan)
    return OnceSeenLeverage(feats, rows, sign, lev, core_cols, core_rows, bool(full))
