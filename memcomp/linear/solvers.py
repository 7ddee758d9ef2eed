"""Minimum-norm interpolation X^+ y, ridge and gradient descent for sparse designs.

The fast solver is the structure lemma (book/part2/structure_lemma.ipynb) turned into an
algorithm.

Split the columns of X into *once* columns (non-zero in exactly one row: features seen once),
*core* columns (non-zero in two or more rows) and unseen columns (beta = 0 there). Split the
rows into R1 (rows holding at least one once column) and R0 (the others). Write beta = (b, u)
with b on the core columns and u on the once columns, A = X[:, core], and for a row i in R1
let x_iO be its once entries and w_i = 1 / ||x_iO||^2 (= 1 / m_i for +-1 entries).

1. Least squares. Whatever b is, each row of R1 can be fitted exactly through its own once
   columns, which no other row touches. So the least-squares set of X is
   {b in argmin ||A_0 b - y_0||^2, x_iO . u_i = r_i := y_i - A_i b for every i in R1}.
2. Minimum norm over u for fixed b: u_i = x_iO r_i w_i (each of m_i +-1 features takes the
   share x_ij r_i / m_i), at cost w_i r_i^2.
3. What is left is small: minimise ||b||^2 + sum_{i in R1} w_i (y_i - A_i b)^2 over
   b = b_0 + N z, where A_0 = U S V^T (SVD), b_0 = A_0^+ y_0 and N spans the null space of
   A_0. As b_0 is orthogonal to N, ||b||^2 = ||b_0||^2 + ||z||^2, and z solves a ridge
   problem with penalty 1: z = (I + M^T M)^{-1} M^T g, M = W^{1/2} A_1 N,
   g = W^{1/2}(y_1 - A_1 b_0) (or its n1 x n1 dual when that is smaller).

Everything that does not depend on y is computed once in :class:`MinNormFactorization`,
so extra targets (other noise levels) cost a few small matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from memcomp.checks import check_array, check_choice, check_float, check_int
from memcomp.linear.features import check_design

METHODS = ("auto", "structure", "gram")


def _check_targets(y: Any, n: int, name: str = "y", allow_2d: bool = True) -> np.ndarray:
    arr = check_array(name, y)
    if arr.ndim == 1 or (allow_2d and arr.ndim == 2):
        if arr.shape[0] != n:
            raise ValueError(f"{name} must have {n} rows (one per row of X); got shape {arr.shape}")
        return arr
    dims = "1- or 2-dimensional" if allow_2d else "1-dimensional"
    raise ValueError(f"{name} must be {dims}; got shape {arr.shape}")


def _sym_psd_pinv_apply(G: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """G^+ rhs for a symmetric positive semi-definite G, via eigh with a pinv-like cutoff."""
    lam, Q = la.eigh(G)
    top = lam[-1] if lam.size else 0.0
    keep = lam > max(G.shape[0], 1) * np.finfo(float).eps * max(top, 0.0) * 10.0
    if not keep.any():
        return np.zeros_like(rhs)
    Qk = Q[:, keep]
    return Qk @ ((Qk.T @ rhs) / (lam[keep][:, None] if rhs.ndim == 2 else lam[keep]))


class MinNormFactorization:
    """A reusable factorisation of X for the minimum-norm least-squares solution X^+ y.

    ``method="structure"`` eliminates the once-seen columns in closed form and solves a small
    dense problem over the other columns (see the module docstring); ``"gram"`` uses the
    n x n system beta = X^T (X X^T)^+ y with an eigendecomposition; ``"auto"`` (default)
    takes the structure path unless the core problem is wider than max(4 n, 2000) columns.

    Attributes: ``n``, ``d``, ``method`` (the one used), ``once_cols``, ``core_cols``,
    ``unseen_cols`` (column index arrays), ``rows_once`` / ``rows_core`` (R1 / R0 row indices)
    and ``core_rank`` (rank of X[R0, core]; structure path only).
    """

    def __init__(self, X: Any, method: str = "auto") -> None:
        X = check_design(X)
        method = check_choice("method", method, METHODS)
        self.n, self.d = X.shape
        self._X = X
        csc = X.tocsc()
        col_nnz = np.diff(csc.indptr)
        self.once_cols = np.flatnonzero(col_nnz == 1)
        self.core_cols = np.flatnonzero(col_nnz >= 2)
        self.unseen_cols = np.flatnonzero(col_nnz == 0)
        c = self.core_cols.size
        if method == "auto":
            method = "structure" if c <= max(4 * self.n, 2000) else "gram"
        self.method = method
        self.core_rank: int | None = None
        if method == "gram":
            self._setup_gram()
        else:
            self._setup_structure(csc)

    # ------------------------------------------------------------------ gram path
    def _setup_gram(self) -> None:
        X = self._X
        self._G = (X @ X.T).toarray()
        self.rows_once = np.empty(0, dtype=np.int64)
        self.rows_core = np.arange(self.n)

    # ------------------------------------------------------------------ structure path
    def _setup_structure(self, csc: sp.csc_matrix) -> None:
        n = self.n
        once = self.once_cols
        once_row = csc.indices[csc.indptr[once]]
        once_val = csc.data[csc.indptr[once]]
        row_sq = np.bincount(once_row, weights=once_val**2, minlength=n)
        self.rows_once = np.flatnonzero(row_sq > 0)
        self.rows_core = np.flatnonzero(row_sq == 0)
        self._once_row = once_row
        self._once_val = once_val
        w_full = np.zeros(n)
        w_full[self.rows_once] = 1.0 / row_sq[self.rows_once]
        self._w_full = w_full  # 1 / ||x_iO||^2 on R1, 0 on R0

        c = self.core_cols.size
        A = csc[:, self.core_cols].tocsr()
        A0 = A[self.rows_core].toarray()
        self._A1 = A[self.rows_once]
        n0 = A0.shape[0]
        sw = np.sqrt(w_full[self.rows_once])

        if c == 0:
            self.core_rank = 0
            self._Ur = np.zeros((n0, 0))
            self._Vr = np.zeros((0, 0))
            self._Sr = np.zeros(0)
            self._N = np.zeros((0, 0))
        elif n0 == 0:
            self.core_rank = 0
            self._Ur = np.zeros((0, 0))
            self._Vr = np.zeros((c, 0))
            self._Sr = np.zeros(0)
            self._N = np.eye(c)
        else:
            U, S, Vt = la.svd(A0, full_matrices=n0 < c, lapack_driver="gesdd", check_finite=False)
            tol = max(n0, c) * np.finfo(float).eps * (S[0] if S.size else 0.0)
            r = int(np.count_nonzero(S > tol))
            self.core_rank = r
            self._Ur = np.ascontiguousarray(U[:, :r])
            self._Sr = S[:r]
            self._Vr = np.ascontiguousarray(Vt[:r].T)
            self._N = np.ascontiguousarray(Vt[r:].T)  # c x q, orthonormal null space of A0

        q = self._N.shape[1]
        n1 = self.rows_once.size
        M = sw[:, None] * np.asarray(self._A1 @ self._N) if (q and n1) else np.zeros((n1, q))
        self._M = M
        self._sw = sw
        if q == 0 or n1 == 0:
            self._ridge = None
            self._primal = True
        elif q <= n1:
            self._primal = True
            self._ridge = la.cho_factor(np.eye(q) + M.T @ M, check_finite=False)
        else:
            self._primal = False
            self._ridge = la.cho_factor(np.eye(n1) + M @ M.T, check_finite=False)

    # ------------------------------------------------------------------ solving
    def solve(self, y: Any) -> np.ndarray:
        """X^+ y for a length-n target vector (or an (n, m) array: then a (d, m) array)."""
        y = _check_targets(y, self.n)
        if y.ndim == 1:
            return self._solve(y[:, None])[:, 0]
        return self._solve(y)

    def solve_many(self, Y: Any) -> np.ndarray:
        """X^+ Y for an (n, m) array of targets (one per column); returns (d, m)."""
        Y = check_array("Y", Y, ndim=2)
        if Y.shape[0] != self.n:
            raise ValueError(f"Y must have {self.n} rows (one per row of X); got shape {Y.shape}")
        return self._solve(Y)

    def _solve(self, Y: np.ndarray) -> np.ndarray:
        m = Y.shape[1]
        if self.method == "gram":
            return np.asarray(self._X.T @ _sym_psd_pinv_apply(self._G, Y))
        beta = np.zeros((self.d, m))
        Y0 = Y[self.rows_core]
        Y1 = Y[self.rows_once]
        c = self.core_cols.size
        if c:
            b = self._Vr @ ((self._Ur.T @ Y0) / self._Sr[:, None]) if self.core_rank else np.zeros((c, m))
            if self._ridge is not None:
                g = self._sw[:, None] * (Y1 - self._A1 @ b)
                if self._primal:
                    z = la.cho_solve(self._ridge, self._M.T @ g, check_finite=False)
                else:
                    z = self._M.T @ la.cho_solve(self._ridge, g, check_finite=False)
                b = b + self._N @ z
            beta[self.core_cols] = b
            resid = Y1 - self._A1 @ b
        else:
            resid = Y1
        if self.once_cols.size:
            r_full = np.zeros((self.n, m))
            r_full[self.rows_once] = resid
            beta[self.once_cols] = (self._once_val * self._w_full[self._once_row])[:, None] * r_full[self._once_row]
        return beta


def min_norm_solution(X: Any, y: Any, method: str = "auto") -> np.ndarray:
    """beta_hat = X^+ y, the minimum-l2-norm least-squares solution (sparse; no d x d pinv).

    ``y`` may be (n,) or (n, m). See :class:`MinNormFactorization` for ``method``; build a
    factorisation yourself to reuse it across several targets.
    """
    X = check_design(X)
    y = _check_targets(y, X.shape[0])
    return MinNormFactorization(X, method=method).solve(y)


def dense_min_norm(X: Any, y: Any) -> np.ndarray:
    """Reference: ``numpy.linalg.pinv(X.toarray()) @ y`` (dense; for tests and benchmarks)."""
    X = check_design(X)
    y = _check_targets(y, X.shape[0])
    return np.linalg.pinv(X.toarray()) @ y


# --------------------------------------------------------------------------- ridge


def ridge_solution(X: Any, y: Any, lam: float) -> np.ndarray:
    """argmin_b (1/n)||X b - y||^2 + lam ||b||^2 = X^T (X X^T + n lam I)^{-1} y.

    Solved through the n x n dual system (Cholesky), or the d x d primal one when d < n.
    As lam -> 0 it tends to X^+ y.
    """
    X = check_design(X)
    y = _check_targets(y, X.shape[0])
    lam = check_float("lam", lam, low=0.0, low_open=True)
    n, d = X.shape
    if n <= d:
        K = (X @ X.T).toarray() + n * lam * np.eye(n)
        return np.asarray(X.T @ la.cho_solve(la.cho_factor(K, check_finite=False), y, check_finite=False))
    K = (X.T @ X).toarray() + n * lam * np.eye(d)
    return la.cho_solve(la.cho_factor(K, check_finite=False), np.asarray(X.T @ y), check_finite=False)


def ridge_path(X: Any, y: Any, lams: Sequence[float]) -> np.ndarray:
    """Ridge solutions for every penalty in ``lams`` from one eigendecomposition of X X^T.

    Returns an array of shape (len(lams), d); row j equals ``ridge_solution(X, y, lams[j])``.
    ``y`` must be 1-D.
    """
    X = check_design(X)
    y = _check_targets(y, X.shape[0], allow_2d=False)
    lams_arr = check_array("lams", lams, ndim=1)
    if lams_arr.size < 1 or np.any(lams_arr <= 0):
        raise ValueError("lams must be a non-empty 1-D array of numbers > 0")
    n = X.shape[0]
    ev, Q = la.eigh((X @ X.T).toarray())
    ev = np.maximum(ev, 0.0)
    Qty = Q.T @ y
    coef = Qty[None, :] / (ev[None, :] + n * lams_arr[:, None])  # (L, n)
    alphas = coef @ Q.T  # (L, n)
    return np.asarray((X.T @ alphas.T).T)


# --------------------------------------------------------------------------- gradient descent


@dataclass(frozen=True)
class GDResult:
    """Recorded gradient-descent iterates: ``betas[j]`` is the iterate after ``steps[j]`` steps."""

    steps: np.ndarray
    betas: np.ndarray
    train_loss: np.ndarray
    lr: float

    @property
    def beta(self) -> np.ndarray:
        """The last iterate."""
        return self.betas[-1]


def top_singular_value(X: Any) -> float:
    """sigma_max(X), via the smaller of X X^T and X^T X (dense eigh) or ARPACK when large."""
    X = check_design(X)
    n, d = X.shape
    G = X @ X.T if n <= d else X.T @ X
    if G.shape[0] <= 4000:
        top = la.eigh(G.toarray(), eigvals_only=True, subset_by_index=[G.shape[0] - 1, G.shape[0] - 1])[0]
    else:  # pragma: no cover - large problems only
        from scipy.sparse.linalg import eigsh

        top = eigsh(G, k=1, which="LA", v0=np.ones(G.shape[0]), return_eigenvectors=False)[0]
    return float(np.sqrt(max(top, 0.0)))


def gradient_descent(
    X: Any,
    y: Any,
    *,
    lr: float | None = None,
    steps: int = 1000,
    record_every: int | None = None,
) -> GDResult:
    """Full-batch gradient descent from beta = 0 on L(b) = (1/n)||X b - y||^2.

    Update b <- b - lr * (2/n) X^T (X b - y). The default ``lr`` is 1/L with
    L = 2 sigma_max(X)^2 / n the smoothness constant (safe: any lr < 2/L converges). Iterates
    are recorded at step 0, every ``record_every`` steps (default: about 100 records) and at the
    last step. From 0, the iterates stay in the row space of X and converge to X^+ y.
    """
    X = check_design(X)
    y = _check_targets(y, X.shape[0], allow_2d=False)
    steps = check_int("steps", steps, low=0)
    if record_every is None:
        record_every = max(1, steps // 100)
    record_every = check_int("record_every", record_every, low=1)
    n, d = X.shape
    if lr is None:
        smax = top_singular_value(X)
        lr = n / (2.0 * smax**2) if smax > 0 else 1.0
    lr = check_float("lr", lr, low=0.0, low_open=True)
    XT = X.T.tocsr()
    beta = np.zeros(d)
    rec_steps, rec_betas, rec_loss = [], [], []
    for t in range(steps + 1):
        resid = X @ beta - y
        if t % record_every == 0 or t == steps:
            rec_steps.append(t)
            rec_betas.append(beta.copy())
            rec_loss.append(float(resid @ resid) / n)
        if t < steps:
            beta = beta - lr * (2.0 / n) * (XT @ resid)
    return GDResult(
        steps=np.asarray(rec_steps, dtype=np.int64),
        betas=np.vstack(rec_betas),
        train_loss=np.asarray(rec_loss),
        lr=float(lr),
    )
