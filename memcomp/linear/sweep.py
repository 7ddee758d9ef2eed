"""The Figure 1 sweep: the min-norm interpolator over a grid of decay rates alpha and noise levels sigma.

For every alpha and run we draw one design X and one standard-normal noise vector z, factorise
X once (:class:`~memcomp.linear.solvers.MinNormFactorization`) and solve for every sigma at once
with targets ``y_sigma = X beta* + sigma z`` (same design, same noise direction scaled by sigma:
common random numbers, so the sigma curves differ only through sigma).

Per (alpha, sigma, run) we measure, with ``e = beta_hat - beta*``:

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

Our choice of F (SCIENCE.md leaves it open): t = 2 tail features, each seen exactly once,
recovered by the noiseless solution, and held by two different training rows (so they never
co-occurred). The ``n_pairs`` sets of a run are drawn uniformly among such pairs and shared by
every sigma. Runs with no valid pair (or an empty feature group) give NaN for that metric and are
left out of its mean; ``n_valid`` counts the runs used.

Seeds: run r at decay alpha uses ``SeedSequence(seed, spawn_key=(round(1e6 alpha), r))``, so a
point's numbers do not depend on the rest of the grid and the sweep is bit-identical for a seed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from memcomp.checks import check_array, check_choice, check_float, check_int, check_seed
from memcomp.config import progress, resolve_scale
from memcomp.linear.features import LongTailModel, feature_probabilities, sample_problem
from memcomp.linear.solvers import MinNormFactorization
from memcomp.linear.theory import predicted_loss_rate, predicted_unrecovered_fraction

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


def _grid(name: str, values: Sequence[float], *, low: float, low_open: bool = False) -> tuple[float, ...]:
    try:
        items = list(values)
    except TypeError:
        raise ValueError(f"{name} must be a non-empty sequence of numbers; got {values!r}") from None
    if not items:
        raise ValueError(f"{name} must be a non-empty sequence of numbers; got {values!r}")
    out = tuple(check_float(f"{name}[{j}]", v, low=low, low_open=low_open) for j, v in enumerate(items))
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat a value; got {list(out)}")
    return out


@dataclass(frozen=True)
class Figure1Config:
    """Every parameter of the Figure 1 sweep (see the module docstring for the metrics).

    ``alphas`` x ``sigmas`` are the main panels; ``noise_sigmas`` at ``noise_alpha`` is the
    noise panel (tail-once error against sigma).
    """

    n: int = 1000
    d: int = 10000
    s: float = 5.0
    c: float = 10.0
    beta_exponent: float = 0.1
    alphas: tuple[float, ...] = (1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0)
    sigmas: tuple[float, ...] = (0.0, 0.05)
    noise_alpha: float = 2.0
    noise_sigmas: tuple[float, ...] = (0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2)
    runs: int = 50
    n_pairs: int = 20
    recovery_tol: float = 1e-6
    seed: int = 0

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("n", check_int("n", self.n, low=2))
        set_("d", check_int("d", self.d, low=2))
        set_("s", check_float("s", self.s, low=0.0, high=float(self.d), low_open=True))
        set_("c", check_float("c", self.c, low=0.0, low_open=True))
        set_("beta_exponent", check_float("beta_exponent", self.beta_exponent))
        set_("alphas", _grid("alphas", self.alphas, low=0.0, low_open=True))
        set_("sigmas", _grid("sigmas", self.sigmas, low=0.0))
        set_("noise_alpha", check_float("noise_alpha", self.noise_alpha, low=0.0, low_open=True))
        set_("noise_sigmas", _grid("noise_sigmas", self.noise_sigmas, low=0.0))
        set_("runs", check_int("runs", self.runs, low=1))
        set_("n_pairs", check_int("n_pairs", self.n_pairs, low=1))
        set_("recovery_tol", check_float("recovery_tol", self.recovery_tol, low=0.0, low_open=True))
        set_("seed", check_seed("seed", self.seed))
        for alpha in sorted(set(self.alphas) | {self.noise_alpha}):
            p = feature_probabilities(self.d, alpha, self.s)
            if self.n * p[0] < self.c:
                raise ValueError(
                    f"alphas must give at least one head feature (n p_1 >= c = {self.c:g}); "
                    f"alpha = {alpha:g} gives n p_1 = {self.n * p[0]:g}"
                )

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def figure1_config(scale: str | None = None, **overrides: Any) -> Figure1Config:
    """Preset for ``fast`` or ``paper`` (``None``: ``$MEMCOMP_SCALE``, else ``fast``).

    ``paper`` is the paper's setting (n = 1000, d = 10000, s = 5, n p_k = 10,
    beta*_i = i^-0.1, 50 runs) with our grid: alpha = 1.0, 1.25, ..., 3.0 and sigma in
    {0, 0.05}; noise panel sigma in {0, 0.025, ..., 0.2} at alpha = 2. The whole sweep takes
    a few seconds on one core, so ``fast`` is the same sweep with 20 runs instead of 50.
    """
    scale = resolve_scale(scale)
    base = Figure1Config() if scale == "paper" else Figure1Config(runs=20)
    return replace(base, **overrides) if overrides else base


def run_rng(seed: int, alpha: float, run: int) -> np.random.Generator:
    """The generator of run ``run`` at decay ``alpha``: SeedSequence(seed, spawn_key=(round(1e6 alpha), run))."""
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
    sig = np.asarray(sigmas, dtype=np.float64)
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


def _summary(values: np.ndarray) -> dict[str, Any]:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return {"mean": None, "std": None, "n_valid": 0}
    std = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return {"mean": float(np.mean(v)), "std": std, "n_valid": int(v.size)}


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


def _theory(cfg: Figure1Config, model: LongTailModel, sigma: float) -> dict[str, float | None]:
    """Exact quantities and rate curves (constant 1, shape only) for one (alpha, sigma)."""
    unrec = predicted_unrecovered_fraction(model.p, model.k)
    rate = predicted_loss_rate(cfg.n, cfg.d, cfg.s, model.alpha) if model.alpha > 1 else math.nan
    clean = lambda x: None if not math.isfinite(x) else float(x)  # noqa: E731
    return {
        "unseen_loss": expected_unseen_loss(model.p, model.beta_star, cfg.n),
        "loss_rate": clean(rate),
        "unrecovered_rate": clean(unrec),
        "noisy_excess_rate": sigma**2 * model.k / cfg.n,
    }


@dataclass(frozen=True)
class SweepResult:
    """Tidy records of the main panels (``records``) and of the noise panel (``noise_records``)."""

    config: Figure1Config
    records: list[dict[str, Any]] = field(default_factory=list)
    noise_records: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"config": self.config.as_dict(), "records": self.records, "noise_records": self.noise_records}


def run_figure1(config: Figure1Config | None = None) -> SweepResult:
    """Run the Figure 1 sweep (main panels and noise panel) for ``config`` (default: fast preset).

    Record format: ``{"alpha", "sigma", "k", "tail_mass", <metric>: {"mean", "std", "n_valid"},
    "theory": {...}}`` with std the sample standard deviation over runs (ddof = 1).
    """
    cfg = figure1_config() if config is None else config
    if not isinstance(cfg, Figure1Config):
        raise ValueError(f"config must be a Figure1Config; got {type(cfg).__name__}")
    alphas = sorted(set(cfg.alphas) | {cfg.noise_alpha})
    jobs = [(a, r) for a in alphas for r in range(cfg.runs)]
    per_alpha: dict[float, list[dict[str, np.ndarray]]] = {a: [] for a in alphas}
    sig_lists: dict[float, tuple[float, ...]] = {}
    models: dict[float, LongTailModel] = {}
    for a in alphas:
        sig = set(cfg.sigmas) if a in cfg.alphas else set()
        if a == cfg.noise_alpha:
            sig |= set(cfg.noise_sigmas)
        sig_lists[a] = tuple(sorted(sig))
        models[a] = LongTailModel(cfg.n, cfg.d, cfg.s, a, c=cfg.c, beta_exponent=cfg.beta_exponent)
    for a, r in progress(jobs, desc="figure1 sweep", total=len(jobs)):
        per_alpha[a].append(
            run_metrics(
                models[a],
                sig_lists[a],
                run_rng(cfg.seed, a, r),
                n_pairs=cfg.n_pairs,
                recovery_tol=cfg.recovery_tol,
            )
        )

    def records_for(a: float, sigmas: Sequence[float]) -> list[dict[str, Any]]:
        out = []
        runs = per_alpha[a]
        for s in sigmas:
            j = sig_lists[a].index(s)
            rec: dict[str, Any] = {"alpha": a, "sigma": s, "k": models[a].k, "tail_mass": models[a].tail_mass}
            for m in METRICS:
                rec[m] = _summary(np.array([run[m][j] for run in runs]))
            rec["theory"] = _theory(cfg, models[a], s)
            out.append(rec)
        return out

    records = [rec for a in cfg.alphas for rec in records_for(a, cfg.sigmas)]
    noise_records = records_for(cfg.noise_alpha, cfg.noise_sigmas)
    return SweepResult(cfg, records, noise_records)
