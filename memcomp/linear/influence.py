"""Leave-one-out influence of each training row on the min-norm interpolator, in closed form.

The min-norm least-squares solution is ``beta = X^+ y = X^T K^+ y`` with the Gram matrix
``K = X X^T`` (n x n, possibly singular). Write ``alpha = K^+ y``, ``H = K K^+`` (the
projector onto the span of the columns of ``X`` in R^n, the "hat" matrix) and
``P = I - H`` (the projector onto the row dependencies ``{v : X^T v = 0}``).
Removing row ``i`` and refitting the min-norm solution on the rest gives ``beta_{-i}``;
its leave-one-out (LOO) residual on the removed row is ``e_i = y_i - x_i^T beta_{-i}``.

**Case 1, ``P_ii = 0``: row i is not in the span of the other rows.** Then
``x_i = u + w`` with ``u`` in the span of the other rows and ``w != 0`` orthogonal to them.
The full solution is ``beta = beta_{-i} + e_i w / ||w||^2``: it fits row ``i`` exactly
without touching the other rows, and stays in the row space. The ``w``-component of
``X^T alpha`` comes only from ``alpha_i``, so ``alpha_i = e_i / ||w||^2``; and
``(K^+)_ii = ||X^+ e_i||^2 = ||w / ||w||^2||^2 = 1 / ||w||^2``. Hence

    e_i = alpha_i / (K^+)_ii                       (the classical kernel LOO identity).

**Case 2, ``P_ii > 0``: row i is a combination of the other rows.** Removing it leaves the
row space unchanged, so the problem is ordinary least squares in row-space coordinates
and the PRESS identity holds with ``r = y - X beta = P y`` and ``1 - H_ii = P_ii``:

    e_i = r_i / P_ii.

When the full solution interpolates (noiseless data, or ``y`` in the span of ``K``),
``r = 0`` and the LOO prediction equals the full prediction: a row that the others
already explain has no influence.

**Coefficient change.** In both cases ``beta - beta_{-i} = e_i X^T K^+ e_i`` (case 1 from
``w / ||w||^2 = X^+ e_i``; case 2 from the least-squares downdate
``(X^T X)^+ x_i r_i / P_ii`` and ``(X^T X)^+ x_i = X^T K^+ K^+ K e_i = X^T K^+ e_i``).
The change of the prediction on the removed row is therefore ``e_i H_ii``.

**Self-influence** (the book's one definition, shared with the neural chapters): the
increase of row ``i``'s own squared loss when row ``i`` is left out of training,

    mem(i) = l_i(beta_{-i}) - l_i(beta) = (y_i - x_i^T beta_{-i})^2 - (y_i - x_i^T beta)^2
           = e_i^2 - r_i^2,

Feldman's memorization score with the square loss. Case 1 (``r_i = 0``): ``mem(i) = e_i^2``.
Case 2 (PRESS): ``mem(i) = r_i^2 (1 / (1 - H_ii)^2 - 1)``. Always ``>= 0``. The absolute change
of the prediction on the row, ``|e_i| H_ii``, is :func:`loo_prediction_change`.

Numerically ``K`` is eigendecomposed once; eigenvalues below ``n * eps * max(eig)`` are
treated as zero (numpy's pinv rule applied to ``K``), and a row counts as dependent when
``P_ii > 1e-8``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memcomp.checks import check_array, check_int

DEPENDENT_TOL = 1e-8


@dataclass(frozen=True)
class GramLOO:
    """Everything the LOO identities need, computed once from ``X`` and ``y``.

    ``loo_residual[i] = y_i - x_i^T beta_{-i}``; ``hat_diag[i] = H_ii``;
    ``dependent[i]`` is True when row i lies in the span of the other rows.
    """

    K_pinv: np.ndarray
    alpha: np.ndarray
    residual: np.ndarray
    hat_diag: np.ndarray
    dependent: np.ndarray
    loo_residual: np.ndarray


def _check_xy(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    X = check_array("X", X, ndim=2)
    if X.shape[0] < 2:
        raise ValueError(f"X must have at least 2 rows for leave-one-out; got shape {X.shape}")
    y = check_array("y", y, ndim=1, shape=(X.shape[0],))
    return X, y


def _gram(X: np.ndarray) -> np.ndarray:
    """``K = X X^T``, through a sparse product when ``X`` is mostly zeros."""
    if np.count_nonzero(X) < 0.1 * X.size:
        from scipy import sparse

        Xs = sparse.csr_matrix(X)
        return np.asarray((Xs @ Xs.T).toarray(), dtype=np.float64)
    return X @ X.T


def gram_loo(X: np.ndarray, y: np.ndarray) -> GramLOO:
    """Compute the leave-one-out residuals of the min-norm interpolator for every row."""
    X, y = _check_xy(X, y)
    n = X.shape[0]
    K = _gram(X)
    lam, V = np.linalg.eigh(K)
    tol = n * np.finfo(np.float64).eps * max(float(lam.max()), 0.0)
    keep = lam > tol
    Vr = V[:, keep]
    K_pinv = (Vr / lam[keep]) @ Vr.T
    hat_diag = np.einsum("ij,ij->i", Vr, Vr)
    V0 = V[:, ~keep]
    if V0.shape[1]:
        p_diag = np.einsum("ij,ij->i", V0, V0)  # more accurate than 1 - H_ii near 0
        residual = V0 @ (V0.T @ y)
    else:
        p_diag = np.zeros(n)
        residual = np.zeros(n)
    alpha = K_pinv @ y
    dependent = p_diag > DEPENDENT_TOL
    kdiag = np.diag(K_pinv)
    with np.errstate(divide="ignore", invalid="ignore"):
        independent_res = np.where(kdiag > 0, alpha / np.where(kdiag > 0, kdiag, 1.0), 0.0)
        dependent_res = residual / np.where(dependent, p_diag, 1.0)
    loo = np.where(dependent, dependent_res, independent_res)
    return GramLOO(K_pinv, alpha, residual, hat_diag, dependent, loo)


def loo_predictions(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``yhat_{-i}(x_i)`` for every row: the prediction on row i of the min-norm solution
    fitted without row i (closed form, no refitting)."""
    X, y = _check_xy(X, y)
    return y - gram_loo(X, y).loo_residual


def self_influence(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Self-influence ``mem(i) = l_i(beta_{-i}) - l_i(beta)`` of every row, in closed form.

    The increase of row ``i``'s own squared loss ``l_i(b) = (y_i - x_i^T b)^2`` when row ``i``
    is left out of the min-norm fit: Feldman's memorization score with the square loss, the
    book's single definition of self-influence (the neural chapters use the same one).

    Parameters
    ----------
    X : (n, d) array, n >= 2.
    y : (n,) array of targets.

    Returns
    -------
    (n,) array, ``e_i^2 - r_i^2 >= 0`` with ``e_i`` the leave-one-out residual and ``r_i`` the
    full residual: ``e_i^2`` for a row outside the span of the others (``r_i = 0``) and
    ``r_i^2 (1 / (1 - H_ii)^2 - 1)`` (PRESS) for a row inside it.
    """
    X, y = _check_xy(X, y)
    g = gram_loo(X, y)
    return g.loo_residual**2 - g.residual**2


def loo_prediction_change(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``|yhat(x_i) - yhat_{-i}(x_i)|`` for every row: how much the prediction on a training
    row moves when that row is removed (not the self-influence; see :func:`self_influence`).

    Equals ``|e_i| H_ii``; when the full solution interpolates row ``i`` it is ``|e_i|``.
    """
    X, y = _check_xy(X, y)
    g = gram_loo(X, y)
    return np.abs(g.loo_residual * g.hat_diag)


def loo_coefficient_change(X: np.ndarray, y: np.ndarray, i: int) -> np.ndarray:
    """``beta - beta_{-i} = e_i X^T K^+ e_i`` (length d)."""
    X, y = _check_xy(X, y)
    i = check_int("i", i, low=0, high=X.shape[0] - 1)
    g = gram_loo(X, y)
    return g.loo_residual[i] * (X.T @ g.K_pinv[:, i])


def loo_effect_on(X: np.ndarray, y: np.ndarray, i: int, X_test: np.ndarray) -> np.ndarray:
    """``f(X_test) - f_{-i}(X_test)``: how the min-norm predictions on the test inputs change
    when training row ``i`` is removed.

    If row i is the only one holding some feature j, every test input that uses feature j
    loses that feature's coefficient: the change on it is about ``beta_j x_j``.
    """
    X, y = _check_xy(X, y)
    i = check_int("i", i, low=0, high=X.shape[0] - 1)
    X_test = check_array("X_test", X_test)
    if X_test.ndim == 1:
        X_test = X_test[None, :]
    if X_test.ndim != 2 or X_test.shape[1] != X.shape[1]:
        raise ValueError(
            f"X_test must have shape (m, {X.shape[1]}) (same number of columns as X); got shape {X_test.shape}"
        )
    return X_test @ loo_coefficient_change(X, y, i)
