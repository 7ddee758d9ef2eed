"""The long-tail feature model: frequencies, head size, targets and sampled designs.

Coordinate i (1-based in the math, ``i - 1`` in arrays) of an input x in {-1, 0, +1}^d is
non-zero independently with probability

    p_i = min(1, s * i^-alpha / Z_alpha),   Z_alpha = sum_{i<=d} i^-alpha,

and its sign is a fair coin, so E[x_i] = 0, E[x_i^2] = p_i and E||x||^2 ~ s. The target is
y = <beta*, x> + sigma * z with z ~ N(0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Union

import numpy as np
import scipy.sparse as sp

from memcomp.checks import check_array, check_float, check_int, check_seed

RngLike = Union[np.random.Generator, int]
BetaLike = Union[None, np.ndarray, Callable[[np.ndarray], Any]]


# --------------------------------------------------------------------------- helpers


def as_rng(rng: RngLike, name: str = "rng") -> np.random.Generator:
    """A ``numpy.random.Generator``: ``rng`` itself, or a fresh PCG64 seeded with the integer ``rng``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (int, np.integer)):
        raise ValueError(f"{name} must be a numpy.random.Generator or a non-negative integer seed; got {rng!r}")
    return np.random.default_rng(check_seed(name, rng))


def check_design(X: Any, name: str = "X") -> sp.csr_matrix:
    """Validate a design matrix and return it as a float64 CSR matrix (a copy when converted).

    ``X`` may be any scipy sparse matrix/array or a dense 2-D array of finite reals.
    Explicitly stored zeros are dropped, so ``X.indices`` lists the true non-zeros.
    """
    if sp.issparse(X):
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-dimensional; got shape {X.shape}")
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_) or np.issubdtype(X.dtype, np.complexfloating):
            raise ValueError(f"{name} must hold real numbers; got dtype {X.dtype}")
        out = sp.csr_matrix(X, dtype=np.float64, copy=True)
    else:
        if isinstance(X, np.ndarray) and np.issubdtype(X.dtype, np.complexfloating):
            raise ValueError(f"{name} must hold real numbers; got dtype {X.dtype}")
        arr = check_array(name, X, ndim=2, finite=False)
        out = sp.csr_matrix(arr)
    if out.shape[0] < 1 or out.shape[1] < 1:
        raise ValueError(f"{name} must have at least one row and one column; got shape {out.shape}")
    if not np.all(np.isfinite(out.data)):
        raise ValueError(f"{name} must contain only finite numbers (no nan or inf)")
    out.eliminate_zeros()
    out.sum_duplicates()
    out.sort_indices()
    return out


def _check_p(p: Any, name: str = "p") -> np.ndarray:
    p = check_array(name, p, ndim=1)
    if p.size < 1:
        raise ValueError(f"{name} must have at least one entry; got shape {p.shape}")
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError(f"{name} must hold probabilities in [0, 1]; got min {p.min():g}, max {p.max():g}")
    return p


# --------------------------------------------------------------------------- frequencies


def zipf_normalizer(d: int, alpha: float) -> float:
    """Z_alpha = sum_{i=1}^{d} i^-alpha."""
    d = check_int("d", d, low=1)
    alpha = check_float("alpha", alpha, low=0.0)
    i = np.arange(1, d + 1, dtype=np.float64)
    return float(np.sum(i ** -alpha))


def feature_probabilities(d: int, alpha: float, s: float) -> np.ndarray:
    """p_i = min(1, s i^-alpha / Z_alpha) for i = 1..d (array index i - 1); non-increasing."""
    d = check_int("d", d, low=1)
    alpha = check_float("alpha", alpha, low=0.0)
    s = check_float("s", s, low=0.0, high=float(d), low_open=True)
    i = np.arange(1, d + 1, dtype=np.float64)
    w = i ** -alpha
    return np.minimum(1.0, s * w / w.sum())


def head_size(n: int, p: Any, c: float = 10.0) -> int:
    """Number of head features k: the largest k with n * p_k >= c.

    ``p`` must be non-increasing (as :func:`feature_probabilities` returns), so k is simply the
    number of features expected at least c times in n samples; that is, we round the solution
    of n p_k = c *down* to an integer. k = 0 (no feature reaches c) raises ValueError.
    """
    n = check_int("n", n, low=1)
    p = _check_p(p)
    c = check_float("c", c, low=0.0, low_open=True)
    if np.any(np.diff(p) > 1e-15):
        raise ValueError("p must be non-increasing (sorted from the most to the least frequent feature)")
    k = int(np.count_nonzero(n * p >= c))
    if k < 1:
        raise ValueError(
            f"c must allow at least one head feature: n * p_1 = {n * p[0]:g} < c = {c:g}; lower c or raise n"
        )
    return k


def default_beta_star(d: int, exponent: float = 0.1) -> np.ndarray:
    """beta*_i = i^-exponent (the paper uses exponent 0.1)."""
    d = check_int("d", d, low=1)
    exponent = check_float("exponent", exponent)
    return np.arange(1, d + 1, dtype=np.float64) ** -exponent


def resolve_beta_star(beta_star: BetaLike, d: int) -> np.ndarray:
    """beta* as a length-d float array.

    ``None`` gives :func:`default_beta_star`; a callable is called with the 1-based indices
    ``1..d`` and must return d numbers; an array must have length d.
    """
    d = check_int("d", d, low=1)
    if beta_star is None:
        return default_beta_star(d)
    if callable(beta_star):
        values = beta_star(np.arange(1, d + 1, dtype=np.float64))
        return check_array("beta_star", np.broadcast_to(np.asarray(values, dtype=np.float64), (d,)).copy(), shape=(d,))
    return check_array("beta_star", beta_star, shape=(d,))


# --------------------------------------------------------------------------- model


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class LongTailModel:
    """The paper's linear setting: n samples, d features, about s non-zeros per sample.

    ``p``, ``k`` (head size by n p_k = c, see :func:`head_size`), ``beta_star``
    (i^-beta_exponent) and ``tail_mass`` (p_{>k}) are derived and cached (read-only arrays).
    """

    n: int
    d: int
    s: float
    alpha: float
    sigma: float = 0.0
    c: float = 10.0
    beta_exponent: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", check_int("n", self.n, low=1))
        object.__setattr__(self, "d", check_int("d", self.d, low=1))
        object.__setattr__(self, "s", check_float("s", self.s, low=0.0, high=float(self.d), low_open=True))
        object.__setattr__(self, "alpha", check_float("alpha", self.alpha, low=0.0))
        object.__setattr__(self, "sigma", check_float("sigma", self.sigma, low=0.0))
        object.__setattr__(self, "c", check_float("c", self.c, low=0.0, low_open=True))
        object.__setattr__(self, "beta_exponent", check_float("beta_exponent", self.beta_exponent))
        _ = self.k  # validates that the head is non-empty

    @cached_property
    def p(self) -> np.ndarray:
        return _readonly(feature_probabilities(self.d, self.alpha, self.s))

    @cached_property
    def k(self) -> int:
        return head_size(self.n, self.p, self.c)

    @cached_property
    def beta_star(self) -> np.ndarray:
        return _readonly(default_beta_star(self.d, self.beta_exponent))

    @property
    def tail_mass(self) -> float:
        """p_{>k} = sum_{i>k} p_i."""
        return float(self.p[self.k:].sum())


# --------------------------------------------------------------------------- sampling


def sample_design(n: int, p: Any, rng: RngLike) -> sp.csr_matrix:
    """n i.i.d. inputs as an n x d CSR matrix (float64 entries in {-1, 0, +1}).

    Column i has a Binomial(n, p_i) number of non-zeros at a uniformly random set of rows
    (exactly equivalent to independent Bernoulli(p_i) entries) and fair-coin signs.
    Frequent columns (p_i > 1/sqrt(n)) are drawn as dense Bernoulli blocks; the rest draw their
    rows with replacement and redraw any column with a repeated row (exact rejection).
    """
    n = check_int("n", n, low=1)
    p = _check_p(p)
    rng = as_rng(rng)
    d = p.size
    thresh = 1.0 / np.sqrt(n)
    dense_cols = np.flatnonzero(p > thresh)
    sparse_cols = np.flatnonzero(p <= thresh)

    # frequent columns: dense Bernoulli block
    if dense_cols.size:
        mask = rng.random((n, dense_cols.size)) < p[dense_cols]
        r_d, j_d = np.nonzero(mask)
        c_d = dense_cols[j_d]
    else:
        r_d = c_d = np.empty(0, dtype=np.int64)

    # rare columns: binomial counts, then distinct uniform rows per column
    counts = rng.binomial(n, p[sparse_cols])
    c_s = np.repeat(sparse_cols, counts)
    r_s = rng.integers(0, n, size=c_s.size)
    if c_s.size:
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        while True:
            key = c_s.astype(np.int64) * n + r_s
            order = np.argsort(key, kind="stable")
            dup = np.zeros(c_s.size, dtype=bool)
            dup[order[1:]] = key[order[1:]] == key[order[:-1]]
            if not dup.any():
                break
            bad_cols = np.unique(c_s[dup])
            pos = np.searchsorted(sparse_cols, bad_cols)
            idx = np.concatenate([np.arange(starts[q], starts[q] + counts[q]) for q in pos])
            r_s[idx] = rng.integers(0, n, size=idx.size)

    rows = np.concatenate((r_d, r_s))
    cols = np.concatenate((c_d, c_s))
    signs = np.where(rng.random(rows.size) < 0.5, -1.0, 1.0)
    X = sp.csr_matrix((signs, (rows, cols)), shape=(n, d), dtype=np.float64)
    X.sum_duplicates()
    X.sort_indices()
    return X


def sample_targets(X: Any, beta_star: BetaLike, sigma: float, rng: RngLike) -> np.ndarray:
    """y = X beta* + sigma z, z ~ N(0, I_n). The noise vector is drawn even when sigma = 0."""
    X = check_design(X)
    beta = resolve_beta_star(beta_star, X.shape[1])
    sigma = check_float("sigma", sigma, low=0.0)
    rng = as_rng(rng)
    z = rng.standard_normal(X.shape[0])
    return X @ beta + sigma * z


@dataclass(frozen=True)
class LongTailProblem:
    """One sampled training set: ``y = y_clean + model.sigma * noise``.

    ``noise`` is the standard-normal draw, so ``targets(sigma)`` gives the targets for any
    other sigma on the same design and the same noise direction.
    """

    model: LongTailModel
    X: sp.csr_matrix
    y: np.ndarray
    y_clean: np.ndarray
    noise: np.ndarray
    beta_star: np.ndarray = field(repr=False)

    @property
    def p(self) -> np.ndarray:
        return self.model.p

    @property
    def k(self) -> int:
        return self.model.k

    def targets(self, sigma: float) -> np.ndarray:
        """y_clean + sigma * noise."""
        sigma = check_float("sigma", sigma, low=0.0)
        return self.y_clean + sigma * self.noise


def sample_problem(model: LongTailModel, rng: RngLike, beta_star: BetaLike = None) -> LongTailProblem:
    """Sample X (n x d) then the noise z; ``beta_star`` overrides ``model.beta_star`` if given."""
    if not isinstance(model, LongTailModel):
        raise ValueError(f"model must be a LongTailModel; got {type(model).__name__}")
    rng = as_rng(rng)
    beta = model.beta_star if beta_star is None else _readonly(resolve_beta_star(beta_star, model.d))
    X = sample_design(model.n, model.p, rng)
    z = rng.standard_normal(model.n)
    y_clean = X @ beta
    return LongTailProblem(
        model=model,
        X=X,
        y=_readonly(y_clean + model.sigma * z),
        y_clean=_readonly(y_clean),
        noise=_readonly(z),
        beta_star=beta,
    )
