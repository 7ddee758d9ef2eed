"""Self-checking exercises for the linear chapters.

Each ``check_exercise_N(answer, ...)`` computes the right answer itself from the model's
parameters, compares, and returns a message that starts with ``"Correct"`` or gives a hint.
The defaults are the paper's setting (n = 1000, d = 10000, s = 5, alpha = 2, head by
n p_k = 10, beta*_i = i^-0.1).

Exercise 1 (:func:`check_exercise_1`)
    Expected number of training rows holding exactly one tail feature.
Exercise 2 (:func:`check_exercise_2`)
    Exact excess in-distribution loss of the *head-only* estimator (beta*_i on the head,
    0 on the tail): the price of memorizing nothing.
Exercise 3 (:func:`check_exercise_3`)
    Exact excess OOD loss of the same estimator when two given tail features are forced
    non-zero in every test input.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from memcomp.checks import check_float, check_int

PAPER = {"n": 1000, "d": 10000, "s": 5.0, "alpha": 2.0}
EXERCISE_3_FEATURES = (120, 450)  # 1-based feature indices forced in the OOD test inputs


def _model(n: int, d: int, s: float, alpha: float):
    from memcomp.linear import LongTailModel

    return LongTailModel(n=n, d=d, s=s, alpha=alpha)


def _answer(answer: Any) -> float:
    return check_float("answer", answer)


def _close(a: float, b: float, rtol: float) -> bool:
    return abs(a - b) <= rtol * max(abs(b), 1e-300)


def exercise_1_solution(n: int = 1000, d: int = 10000, s: float = 5.0, alpha: float = 2.0) -> float:
    """n * sum_{j>k} p_j prod_{i>k, i != j} (1 - p_i)."""
    from memcomp.linear import prob_at_most_one_tail, prob_head_only_row

    m = _model(n, d, s, alpha)
    return n * (prob_at_most_one_tail(m.p, m.k) - prob_head_only_row(m.p, m.k))


def check_exercise_1(answer: Any, *, n: int = 1000, d: int = 10000, s: float = 5.0, alpha: float = 2.0) -> str:
    """Check the expected number of rows (out of n) that hold exactly one tail feature."""
    from memcomp.linear import prob_at_most_one_tail

    a = _answer(answer)
    m = _model(n, d, s, alpha)
    right = exercise_1_solution(n, d, s, alpha)
    if _close(a, right, 1e-3):
        return f"Correct: n * sum_j p_j prod_(i != j) (1 - p_i) = {right:.2f} rows."
    if _close(a, n * prob_at_most_one_tail(m.p, m.k), 1e-3):
        return "Not quite: that counts rows with at most one tail feature; leave out the rows with none."
    if _close(a, n * m.tail_mass, 1e-3):
        return (
            "Not quite: n * p_{>k} is the expected number of tail *features* in the sample. "
            "A row holds exactly one when one tail feature is on and every other tail feature is off."
        )
    if _close(a, right, 0.05):
        return "Close, but not exact (a simulation estimate?). Use independence: P(only j) = p_j prod_(i != j) (1 - p_i)."
    return (
        "Not quite. Hints: the tail is features k+1..d with k from n p_k = 10 (model.k); "
        "a row holds exactly one tail feature j with probability p_j prod_(i>k, i != j) (1 - p_i); "
        "sum over j and multiply by n."
    )


def exercise_2_solution(n: int = 1000, d: int = 10000, s: float = 5.0, alpha: float = 2.0) -> float:
    """sum_{i>k} p_i beta*_i^2."""
    m = _model(n, d, s, alpha)
    return float(np.sum(m.p[m.k:] * m.beta_star[m.k:] ** 2))


def check_exercise_2(answer: Any, *, n: int = 1000, d: int = 10000, s: float = 5.0, alpha: float = 2.0) -> str:
    """Check the excess in-distribution loss of beta = (beta*_head, 0 on the tail)."""
    a = _answer(answer)
    m = _model(n, d, s, alpha)
    right = exercise_2_solution(n, d, s, alpha)
    if _close(a, right, 1e-6):
        return f"Correct: sum_(i>k) p_i beta*_i^2 = {right:.4f}."
    if _close(a, float(np.sum(m.beta_star[m.k:] ** 2)), 1e-6):
        return "Not quite: each squared error is weighted by how often its feature occurs, E[x_i^2] = p_i."
    if _close(a, float(np.sum(m.p * m.beta_star**2)), 1e-6):
        return "Not quite: the head coefficients are exact, so only the tail (i > k) contributes."
    return "Not quite. Hint: use L(beta) = sum_i p_i (beta_i - beta*_i)^2; the error is beta*_i on the tail and 0 on the head."


def exercise_3_solution(
    features: Sequence[int] = EXERCISE_3_FEATURES, n: int = 1000, d: int = 10000, s: float = 5.0, alpha: float = 2.0
) -> float:
    """sum_{i in F} beta*_i^2 + sum_{i>k, i not in F} p_i beta*_i^2 (F given 1-based)."""
    m = _model(n, d, s, alpha)
    F = _features(features, m.k, d)
    e2 = m.beta_star**2
    e2[: m.k] = 0.0
    return float(np.dot(m.p, e2) + np.dot(1.0 - m.p[F], e2[F]))


def _features(features: Sequence[int], k: int, d: int) -> np.ndarray:
    F = [check_int("features", int(f), low=k + 1, high=d) for f in features]
    if len(set(F)) != len(F) or not F:
        raise ValueError(f"features must be distinct tail features (1-based, in [{k + 1}, {d}]); got {list(features)}")
    return np.asarray(F, dtype=np.int64) - 1


def check_exercise_3(
    answer: Any,
    *,
    features: Sequence[int] = EXERCISE_3_FEATURES,
    n: int = 1000,
    d: int = 10000,
    s: float = 5.0,
    alpha: float = 2.0,
) -> str:
    """Check the excess OOD loss of the head-only estimator with ``features`` (1-based) forced on."""
    a = _answer(answer)
    m = _model(n, d, s, alpha)
    F = _features(features, m.k, d)
    right = exercise_3_solution(features, n, d, s, alpha)
    if _close(a, right, 1e-6):
        return f"Correct: {right:.4f}. Memorizing nothing costs about beta*_i^2 per forced rare feature."
    if _close(a, exercise_2_solution(n, d, s, alpha), 1e-6):
        return "Not quite: that is the in-distribution loss. On F the feature is always on, so E[x_i^2] = 1 there."
    if _close(a, exercise_2_solution(n, d, s, alpha) + float(np.sum(m.beta_star[F] ** 2)), 1e-6):
        return "Almost: the features of F were counted twice. Replace their p_i by 1 instead of adding a term."
    return (
        "Not quite. Hint: L_F(beta) = sum_(i in F) (beta_i - beta*_i)^2 + sum_(i not in F) p_i (beta_i - beta*_i)^2, "
        "with features given 1-based (array index i - 1)."
    )
