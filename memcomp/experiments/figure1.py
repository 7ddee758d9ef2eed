"""Figure 1 of the paper: the min-norm interpolator over a grid of alpha and sigma.

The experiment behind ``memcomp reproduce figure1``: :class:`Figure1Config` (every
parameter, with the ``fast`` and ``paper`` presets of :func:`figure1_config`),
:func:`run_figure1` (the sweep: every alpha and run, main and noise panels) and the command
line, which writes ``OUT/figure1.json`` (the configuration, wall time and tidy records) and
``OUT/figure1.png`` (the panels drawn by :func:`memcomp.plots.linear.plot_figure1`).

The mathematics of one run (one design, one factorisation, the metrics at every sigma) is
:func:`memcomp.linear.sweep.run_metrics`; see that module for the metrics. Runs are
independent (each has its own seed, :func:`memcomp.linear.sweep.run_rng`), so the sweep
solves them in ``workers`` processes at once while BLAS is held to one thread per solve
(``threadpoolctl``): the records are bit-identical for any number of workers.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from memcomp.checks import ParameterError, check_float, check_int, check_seed
from memcomp.config import SCALES, progress, resolve_scale
from memcomp.linear.features import LongTailModel, feature_probabilities
from memcomp.linear.sweep import METRICS, expected_unseen_loss, run_metrics, run_rng
from memcomp.linear.theory import predicted_loss_rate, predicted_unrecovered_fraction
from memcomp.results import environment, prepare_out, write_json, write_png

DESCRIPTION = "Figure 1: min-norm interpolation on long-tail linear data (errors and losses vs alpha and sigma)"

__all__ = [
    "DESCRIPTION",
    "Figure1Config",
    "SweepResult",
    "add_arguments",
    "figure1_config",
    "resolve_workers",
    "worker_pool",
    "run",
    "run_figure1",
    "run_from_args",
]


def _grid(name: str, values: Sequence[float], *, low: float, low_open: bool = False) -> tuple[float, ...]:
    try:
        items = list(values)
    except TypeError:
        raise ParameterError(name, f"{name} must be a non-empty sequence of numbers; got {values!r}") from None
    if not items:
        raise ParameterError(name, f"{name} must be a non-empty sequence of numbers; got {values!r}")
    out = tuple(check_float(f"{name}[{j}]", v, low=low, low_open=low_open) for j, v in enumerate(items))
    if len(set(out)) != len(out):
        raise ParameterError(name, f"{name} must not repeat a value; got {list(out)}")
    return out


@dataclass(frozen=True)
class Figure1Config:
    """Every parameter of the Figure 1 sweep (the metrics: :mod:`memcomp.linear.sweep`).

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
                raise ParameterError(
                    "alphas",
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


def _summary(values: np.ndarray) -> dict[str, Any]:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return {"mean": None, "std": None, "n_valid": 0}
    std = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return {"mean": float(np.mean(v)), "std": std, "n_valid": int(v.size)}


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


def run_figure1(config: Figure1Config | None = None, *, workers: int | None = None) -> SweepResult:
    """Run the Figure 1 sweep (main panels and noise panel) for ``config``.

    Parameters
    ----------
    config : Figure1Config, optional
        The sweep; default the ``fast`` preset (:func:`figure1_config`).
    workers : int, optional
        Runs solved at once in worker processes (default :func:`resolve_workers`; 1 solves
        them here). BLAS is held to one thread per solve, so the records are bit-identical
        for every ``workers``.

    Returns
    -------
    SweepResult
        Records ``{"alpha", "sigma", "k", "tail_mass", <metric>: {"mean", "std",
        "n_valid"}, "theory": {...}}`` with std the sample standard deviation over runs
        (ddof = 1); runs where a metric is NaN are left out of its mean and ``n_valid``
        counts the runs used.
    """
    cfg = figure1_config() if config is None else config
    if not isinstance(cfg, Figure1Config):
        raise ParameterError("config", f"config must be a Figure1Config; got {type(cfg).__name__}")
    workers = resolve_workers(workers)
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

    # One BLAS thread per solve (the matrices are small; BLAS threads only fight for the
    # cores); the cores are used by solving independent runs at once, in worker processes
    # (scipy.linalg.svd holds the GIL, measured: threads would not overlap the SVDs). The
    # runs come back in job order whatever the number of workers.
    tasks = [(cfg, a, r, sig_lists[a]) for a, r in jobs]
    with threadpool_limits(limits=1, user_api="blas"):
        if workers == 1 or len(jobs) == 1:
            results = [_solve_run(*task) for task in progress(tasks, desc="figure1 sweep", total=len(tasks))]
        else:
            n_workers = min(workers, len(jobs))
            chunk = max(1, min(8, len(jobs) // (4 * n_workers)))
            with worker_pool(n_workers) as pool:
                it = pool.map(_solve_run, *zip(*tasks), chunksize=chunk)
                results = list(progress(it, desc="figure1 sweep", total=len(tasks)))
    for (a, _), res in zip(jobs, results):
        per_alpha[a].append(res)

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


_MODELS: dict[tuple[Any, ...], LongTailModel] = {}


def _solve_run(cfg: Figure1Config, alpha: float, run: int, sigmas: tuple[float, ...]) -> dict[str, np.ndarray]:
    """One run of the sweep (in this process or a worker): :func:`run_metrics` with its seed."""
    key = (cfg.n, cfg.d, cfg.s, alpha, cfg.c, cfg.beta_exponent)
    model = _MODELS.get(key)
    if model is None:
        model = LongTailModel(cfg.n, cfg.d, cfg.s, alpha, c=cfg.c, beta_exponent=cfg.beta_exponent)
        _MODELS.clear()  # one alpha at a time: the jobs come sorted by alpha
        _MODELS[key] = model
    rng = run_rng(cfg.seed, alpha, run)
    return run_metrics(model, sigmas, rng, n_pairs=cfg.n_pairs, recovery_tol=cfg.recovery_tol)


def _one_blas_thread() -> None:
    threadpool_limits(limits=1, user_api="blas")  # for the worker's lifetime


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes, each with one BLAS thread.

    Forked on Linux (a worker starts in milliseconds with everything imported), spawned
    elsewhere (macOS and Windows do not fork safely).
    """
    workers = check_int("workers", workers, low=1, high=1024)
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return ProcessPoolExecutor(workers, mp_context=mp.get_context(method), initializer=_one_blas_thread)


def resolve_workers(workers: int | None = None) -> int:
    """The number of runs solved at once: ``workers``, else ``$MEMCOMP_THREADS``, else the cores.

    The cores are those this process may run on (``os.sched_getaffinity`` where it exists).
    """
    if workers is None:
        env = os.environ.get("MEMCOMP_THREADS", "").strip()
        if env:
            try:
                return check_int("MEMCOMP_THREADS", int(env), low=1, high=1024)
            except ValueError:
                raise ParameterError(
                    "MEMCOMP_THREADS", f"MEMCOMP_THREADS must be a positive integer; got {env!r}"
                ) from None
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - macOS, Windows
            return max(1, os.cpu_count() or 1)
    return check_int("workers", workers, low=1, high=1024)


def _float_list(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers; got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", choices=SCALES, default=None, help="fast (default, or $MEMCOMP_SCALE) or paper")
    parser.add_argument("--runs", type=int, default=None, help="runs per point (default: from the scale)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", default="results", help="output directory (default: results)")
    # smaller problems for tests and quick looks
    parser.add_argument("--n", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--d", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--alphas", type=_float_list, default=None, help="comma-separated alpha grid")
    parser.add_argument("--sigmas", type=_float_list, default=None, help="comma-separated sigmas (main panels)")
    parser.add_argument("--noise-sigmas", type=_float_list, default=None, help="comma-separated sigmas (noise panel)")
    parser.add_argument("--no-plot", action="store_true", help="write the JSON only")


def run(
    scale: str | None = None,
    out: str | Path = "results",
    plot: bool = True,
    **overrides: Any,
) -> dict[str, Any]:
    """Run the sweep, write ``figure1.json`` (and ``figure1.png``) under ``out``; return the payload."""
    scale = resolve_scale(scale)
    cfg = figure1_config(scale, **{k: v for k, v in overrides.items() if v is not None})
    out = prepare_out(out)  # made and checked writable before any work
    start = time.perf_counter()
    result = run_figure1(cfg)
    seconds = time.perf_counter() - start
    payload = {
        "experiment": "figure1",
        "scale": scale,
        "config": cfg.as_dict(),
        "notes": {
            "losses": "exact excess losses (without the irreducible sigma^2)",
            "noise": "one standard-normal noise vector per design, scaled by each sigma",
            "ood_set": "pairs of once-seen tail features recovered at sigma = 0, in different rows",
            "std": "sample standard deviation over runs (ddof = 1)",
        },
        "environment": environment("cpu", mixed_precision=False),
        "seconds": seconds,
        "records": result.records,
        "noise_records": result.noise_records,
    }
    write_json(out / "figure1.json", payload)
    if plot:
        from memcomp.plots.linear import plot_figure1

        write_png(out / "figure1.png", plot_figure1(payload), dpi=110)
    return payload


def run_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Entry point of ``memcomp reproduce figure1``."""
    overrides = {
        "runs": args.runs,
        "seed": args.seed,
        "n": args.n,
        "d": args.d,
        "alphas": None if args.alphas is None else tuple(args.alphas),
        "sigmas": None if args.sigmas is None else tuple(args.sigmas),
        "noise_sigmas": None if args.noise_sigmas is None else tuple(args.noise_sigmas),
    }
    try:
        return run(args.scale, args.out, plot=not args.no_plot, **overrides)
    except ValueError as exc:
        msg = str(exc)
        name = msg.split(" ", 1)[0].split("[", 1)[0]
        if name in ("runs", "seed", "scale", "n", "d", "alphas", "sigmas", "noise_sigmas"):
            raise ValueError(f"--{name.replace('_', '-')}: {msg}") from None
        raise
