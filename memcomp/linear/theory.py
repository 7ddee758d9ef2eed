"""Theory curves and exact expectations for the long-tail linear model.

The paper's guarantees are rates (Theta / O-tilde): the functions marked "rate" below use
constant 1 and drop the logarithmic slack, so they give the *shape* of a curve to plot next
to a simulation, not its level. The functions marked "exact" are exact under the model's
independence assumptions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memcomp.checks import check_float, check_int
from memcomp.linear.features import _check_p


def _p_k(p: Any, k: Any, low: int = 0) -> tuple[np.ndarray, int]:
    p = _check_p(p)
    k = check_int("k", k, low=low, high=p.size)
    return p, k


def tail_mass(p: Any, k: int) -> float:
    """p_{>k} = sum_{i>k} p_i (exact): the expected number of tail features per sample."""
    p, k = _p_k(p, k)
    return float(p[k:].sum())


def predicted_unrecovered_fraction(p: Any, k: int, d: int | None = None) -> float:
    """Rate: fraction of seen tail features not recovered ~ max(p_k / p_{>k}, p_{>k}^2 ln^2 d).

    Theta-rate with constant 1 (the theory gives no constant); p_k is the last head feature's
    frequency (``p[k-1]``), ``d`` defaults to ``len(p)``. nan when there is no tail mass.
    """
    p, k = _p_k(p, k, low=1)
    d = p.size if d is None else check_int("d", d, low=1)
    tm = float(p[k:].sum())
    if tm <= 0:
        return float("nan")
    return float(max(p[k - 1] / tm, tm**2 * np.log(d) ** 2))


def predicted_loss_rate(n: int, d: int, s: float, alpha: float) -> float:
    """Rate: noiseless test loss ~ s (ln^2 d / (n s))^(1 - 1/alpha) (the paper's O-tilde rate).

    Constants are not given by the theory; meaningful for alpha > 1 (for alpha <= 1 the
    exponent is <= 0 and the bound says nothing).
    """
    n = check_int("n", n, low=1)
    d = check_int("d", d, low=2)
    s = check_float("s", s, low=0.0, low_open=True)
    alpha = check_float("alpha", alpha, low=0.0, low_open=True)
    return float(s * (np.log(d) ** 2 / (n * s)) ** (1.0 - 1.0 / alpha))


def predicted_noisy_loss(sigma: float, k: int, n: int) -> float:
    """Rate: excess test loss with noise (fast decay) ~ sigma^2 k / n (on top of sigma^2)."""
    sigma = check_float("sigma", sigma, low=0.0)
    k = check_int("k", k, low=0)
    n = check_int("n", n, low=1)
    return sigma**2 * k / n


def prob_head_only_row(p: Any, k: int) -> float:
    """Exact: P(a sample has no tail feature) = prod_{i>k} (1 - p_i)."""
    p, k = _p_k(p, k)
    return float(np.prod(1.0 - p[k:]))


def prob_at_most_one_tail(p: Any, k: int) -> float:
    """Exact: P(a sample has at most one tail feature).

    = prod_{i>k}(1 - p_i) * (1 + sum_{i>k} p_i / (1 - p_i)), computed with prefix and suffix
    products so that p_i = 1 is handled.
    """
    p, k = _p_k(p, k)
    q = 1.0 - p[k:]
    if q.size == 0:
        return 1.0
    prefix = np.concatenate(([1.0], np.cumprod(q)[:-1]))
    suffix = np.concatenate((np.cumprod(q[::-1])[::-1][1:], [1.0]))
    p0 = float(np.prod(q))
    p1 = float(np.sum(p[k:] * prefix * suffix))
    return min(1.0, p0 + p1)


def expected_rows_with_at_most_one_tail(p: Any, k: int, n: int) -> float:
    """Exact: n * P(a sample has at most one tail feature)."""
    n = check_int("n", n, low=1)
    return n * prob_at_most_one_tail(p, k)


def expected_feature_counts(p: Any, k: int, n: int) -> dict[str, float]:
    """Exact expected numbers of tail features unseen, seen once and seen >= 2 times in n samples."""
    p, k = _p_k(p, k)
    n = check_int("n", n, low=1)
    pt = p[k:]
    unseen = float(np.sum((1.0 - pt) ** n))
    once = float(np.sum(n * pt * (1.0 - pt) ** (n - 1)))
    return {"tail_unseen": unseen, "tail_once": once, "tail_more": float(pt.size) - unseen - once}
