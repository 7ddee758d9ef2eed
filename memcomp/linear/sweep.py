"""One run of the Figure 1 sweep: a design, one factorisation, the metrics at every sigma.

:func:`run_metrics` draws one design X and one standard-normal noise vector z, factorises X
once (:class:`~memcomp.linear.solvers.MinNormFactorization`) and solves for every sigma at once
with targets ``y_sigma = X beta* + sigma z`` (same design, same noise direction scaled by sigma:
common random numbers, so the sigma curves differ only through sigma). The grid over alpha and
runs, its configuration and its records live in :mod:`memcomp.experiments.figure1`.

Per (sigma, run) we measure, with ``e = beta_hat - beta*``:

- ``head_error``       ||e_head|| / sqrt(k), head = the first k features (n p_k = c);
- ``tail_once_error``  RMS of e over tail features seen exactly once in X;
- ``tail_recovered_error``  RMS of e over the once-seen tail features that the noiseless
                       solution recovers (the structure lemma's set: with noise their error is
                       the noise of their row plus the head's error, i.e. about sigma);
- ``tail_more_error``  RMS of e over tail features seen two or more times;
- ``test_loss``        exact in-distribution *excess* loss sum_i p_i e_i^2 (the irreducible
                       sigma^2 of a noisy test target is not included);
- ``ood_loss``         exact compositional excess loss, averaged over ``n_pairs`` sets F:
                       L_F = sum_{i in F} e_i^2 + sum_{i not in F} p_i e_i^2;
- ``recovered_fraction``  fraction of seen tail features with |e_i| <= recovery_tol in the
                       *noiseless* solution of the same design (identical for every sigma).

Our choice of F (the paper leaves it open; the chapter
book/part2/recovery_to_composition.ipynb explains it): t = 2 tail features, each seen exactly
once, recovered by the noiseless solution, and held by two different training rows (so they
never co-occurred). The ``n_pairs`` sets of a run are drawn uniformly among such pairs and shared by
every sigma. A run with no valid pair (or an empty feature group) gives NaN for that metric.

Seeds: run r at decay alpha uses ``SeedSequence(seed, spawn_key=(round(1e6 alpha), r))``
(:func:`run_rng`), so a point's numbers do not depend on the rest of the grid.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from memcomp.checks import ParameterError, check_array, check_choice, check_float, check_int, check_seed
from memcomp.linear.features import LongTailModel, sample_problem
from memcomp.linear.solvers import MinNormFactorization

SOLVERS = ("auto", "structure", "gram", "dense")

METRICS = (
    "head_error",
    "tail_once_error",
    "tail_recovered_error",
    "tail_more_error",
    "test_loss",
    "ood_loss",
    "recovered_fraction",
)


def run_rng(seed: int, alpha: float, run: int) -> np.random.Generator:
    """The generator of run ``run`` at decay ``alpha``.

    ``SeedSequence(seed, spawn_key=(round(1e6 alpha), run))``: independent of every other
    (alpha, run), so runs may be computed in any order or in parallel.
    """
    seed = check_seed("seed", seed)
    run = check_int("run", run, low=0)
    alpha = check_float("alpha", alpha, low=0.0, low_open=True)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(round(alpha * 1e6)), run)))


def _rms(E: np.ndarray, mask: np.ndarray) -> np.ndarray:
    if not mask.any():
        return np.full(E.shape[1], np.nan)
    return np.sqrt(np.mean(E[mask] ** 2, axis=0))


def draw_pairs(features: np.ndarray, rows: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """``n_pairs`` pairs (an (m, 2) index array, m <= n_pairs) of ``features`` whose ``rows`` differ.

    Each pair is uniform over the valid pairs (rejection sampling; pairs are drawn with
    replacement). Returns an empty (0, 2) array when no valid pair exists.
    """
    n_pairs = check_int("n_pairs", n_pairs, low=1)
    features = np.asarray(features)
    rows = np.asarray(rows)
    if features.ndim != 1 or rows.shape != features.shape:
        raise ParameterError(
            "features",
            "features and rows must be 1-dimensional arrays of the same length; "
            f"got shapes {features.shape} and {rows.shape}"
        )
    m = features.size
    if m < 2 or np.unique(rows).size < 2:
        return np.empty((0, 2), dtype=np.int64)
    chosen: list[np.ndarray] = []
    got = 0
    for _ in range(100):
        a = rng.integers(0, m, size=4 * n_pairs)
        b = rng.integers(0, m - 1, size=4 * n_pairs)
        b = b + (b >= a)  # uniform over b != a
        ok = rows[a] != rows[b]
        pick = np.stack([features[a[ok]], features[b[ok]]], axis=1)
        chosen.append(pick)
        got += pick.shape[0]
        if got >= n_pairs:
            break
    return np.concatenate(chosen)[:n_pairs]


def run_metrics(
    model: LongTailModel,
    sigmas: Sequence[float],
    rng: np.random.Generator,
    *,
    n_pairs: int = 20,
    recovery_tol: float = 1e-6,
    solver: str = "auto",
) -> dict[str, np.ndarray]:
    """All metrics of one run: one design, one factorisation, every sigma at once.

    Returns ``{metric: array over sigmas}`` (see the module docstring). ``rng`` draws the
    design, then the noise, then the OOD pairs. ``solver`` is a
    :class:`~memcomp.linear.solvers.MinNormFactorization` method (``auto``, ``structure``,
    ``gram``) or ``dense`` (``numpy.linalg.pinv`` of the dense X: the naive baseline).
    """
    solver = check_choice("solver", solver, SOLVERS)
    sig = check_array("sigmas", sigmas, ndim=1)
    if sig.size == 0 or np.any(sig < 0):
        raise ParameterError("sigmas", f"sigmas must be a non-empty sequence of noise levels >= 0; got {sig.tolist()}")
    if not isinstance(model, LongTailModel):
        raise ParameterError("model", f"model must be a LongTailModel; got {type(model).__name__}")
    n_pairs = check_int("n_pairs", n_pairs, low=1)
    recovery_tol = check_float("recovery_tol", recovery_tol, low=0.0, low_open=True)
    prob = sample_problem(model, rng)
    X, k, p, beta_star = prob.X, model.k, model.p, prob.beta_star
    Y = prob.y_clean[:, None] + prob.noise[:, None] * np.concatenate(([0.0], sig))[None, :]
    if solver == "dense":
        B = np.linalg.pinv(X.toarray()) @ Y
    else:
        B = MinNormFactorization(X, method=solver).solve_many(Y)
    E = B - beta_star[:, None]
    E0, E = E[:, 0], E[:, 1:]  # noiseless solution, then one column per sigma
    E2 = E * E

    counts = np.bincount(X.indices, minlength=model.d)
    tail = np.arange(model.d) >= k
    once = tail & (counts == 1)
    more = tail & (counts >= 2)
    seen = once | more
    recovered = seen & (np.abs(E0) <= recovery_tol)

    row_of = np.repeat(np.arange(model.n), np.diff(X.indptr))
    cand_entries = recovered[X.indices] & once[X.indices]
    cand = X.indices[cand_entries]
    cand_rows = row_of[cand_entries]
    pairs = draw_pairs(cand, cand_rows, n_pairs, rng)

    test = p @ E2
    if pairs.shape[0]:
        extra = ((1.0 - p)[:, None] * E2)[pairs].sum(axis=1).mean(axis=0)
        ood = test + extra
    else:
        ood = np.full(sig.size, np.nan)
    head = np.zeros(model.d, dtype=bool)
    head[:k] = True
    n_seen = int(seen.sum())
    rec = np.full(sig.size, recovered.sum() / n_seen if n_seen else np.nan)
    return {
        "head_error": _rms(E, head),
        "tail_once_error": _rms(E, once),
        "tail_recovered_error": _rms(E, once & recovered),
        "tail_more_error": _rms(E, more),
        "test_loss": test,
        "ood_loss": ood,
        "recovered_fraction": rec,
    }


def expected_unseen_loss(p: Any, beta_star: Any, n: int) -> float:
    """Exact E[sum_{i unseen} p_i beta*_i^2] = sum_i p_i beta*_i^2 (1 - p_i)^n.

    The min-norm solution puts beta_i = 0 on a feature never seen in n samples, so this is the
    expected loss those features alone contribute: a floor under the expected test loss, and
    the whole of it when every seen feature is recovered.
    """
    p = check_array("p", p, ndim=1)
    beta_star = check_array("beta_star", beta_star, shape=p.shape)
    n = check_int("n", n, low=1)
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError("p must hold probabilities in [0, 1]")
    return float(np.sum(p * beta_star**2 * (1.0 - p) ** n))


def once_seen_noise_factor(
    model: LongTailModel, rng: np.random.Generator, *, recovery_tol: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """The noise on each recovered once-seen feature of one run, and its exact expectation.

    Draws the design and the noise exactly as :func:`run_metrics` does with the same ``rng``
    (so ``run_rng(seed, alpha, run)`` gives the sweep's own run). For every once-seen tail
    feature j that the noiseless solution recovers (``|e_j| <= recovery_tol``) it returns
    ``(X^+ z)_j^2``, the squared error per unit sigma (``e_j = sigma (X^+ z)_j``: X^+ is
    linear and e_j = 0 at sigma = 0), and ``||(X^+)_{j,:}||^2``, its exact conditional
    expectation ``E[e_j^2 | X] / sigma^2`` (equal to ``1 + kappa_j`` of
    :func:`memcomp.linear.metrics.once_seen_leverage` when the core block has full column rank).

    Returns
    -------
    (squared, expected) : two float arrays, one entry per such feature.
    """
    if not isinstance(model, LongTailModel):
        raise ParameterError("model", f"model must be a LongTailModel; got {type(model).__name__}")
    recovery_tol = check_float("recovery_tol", recovery_tol, low=0.0, low_open=True)
    prob = sample_problem(model, rng)
    fac = MinNormFactorization(prob.X)
    B = fac.solve_many(np.column_stack([prob.y_clean, prob.noise]))
    e0, v = B[:, 0] - prob.beta_star, B[:, 1]
    counts = np.bincount(prob.X.indices, minlength=model.d)
    once = np.flatnonzero((np.arange(model.d) >= model.k) & (counts == 1))
    j = once[np.abs(e0[once]) <= recovery_tol]
    pinv_rows = fac.solve_many(np.eye(model.n))[j]  # rows j of X^+
    return v[j] ** 2, np.sum(pinv_rows**2, axis=1)
