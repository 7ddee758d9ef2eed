"""Benchmark: the Figure 1 sweep with memcomp's structure solver against scipy's lsmr and dense pinv.

    python benchmarks/linear_sweep.py [--scale paper] [--peer-runs 3] [--naive-runs 3]

The memcomp side runs the whole sweep (every alpha and run, main and noise panels), once on
one worker and once on the default number of workers (:func:`run_figure1`). In the sweep one
factorisation of each design serves every target of that design (the noiseless one and one
per sigma), which an iterative solver cannot share: ``lsmr`` reruns per target.

The peers are timed on a few runs and extrapolated:

- ``lsmr`` (scipy's sparse least squares from 0, atol = btol = 1e-14: the minimum-norm solution)
  on ``--peer-runs`` runs of *every* alpha (its cost depends strongly on alpha): each target of
  the design solved separately, beside the structure solver's factorise + solve-all time on the
  same designs. Solver total = sum over alphas of (mean seconds per design x runs).
- dense ``numpy.linalg.pinv`` (the naive baseline) through the same metrics code
  (``run_metrics(solver="dense")``) on ``--naive-runs`` designs, mean seconds per design x
  number of designs.

Printed: both solvers' totals and their ratio (solver time only), the whole sweep with lsmr
in place of the structure solver against memcomp's sweep, the naive ratio, and the largest
differences between the solutions (lsmr) and the metrics (pinv). Everything runs with one BLAS
thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MEMCOMP_PROGRESS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bench_linear_min_norm import lsmr_min_norm  # noqa: E402
from memcomp.experiments.figure1 import figure1_config, resolve_workers, run_figure1  # noqa: E402
from memcomp.linear.features import LongTailModel, sample_problem  # noqa: E402
from memcomp.linear.solvers import MinNormFactorization  # noqa: E402
from memcomp.linear.sweep import run_metrics, run_rng  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="paper")
    parser.add_argument("--peer-runs", type=int, default=3, help="runs per alpha timed with lsmr")
    parser.add_argument("--naive-runs", type=int, default=3, help="runs timed with the dense pinv")
    args = parser.parse_args()
    cfg = figure1_config(args.scale)
    alphas = sorted(set(cfg.alphas) | {cfg.noise_alpha})
    n_designs = len(alphas) * cfg.runs
    sig_lists = {}
    for a in alphas:
        sig = set(cfg.sigmas) if a in cfg.alphas else set()
        if a == cfg.noise_alpha:
            sig |= set(cfg.noise_sigmas)
        sig_lists[a] = tuple(sorted(sig))
    n_targets = sum(cfg.runs * (1 + len(sig_lists[a])) for a in alphas)
    workers = resolve_workers()

    start = time.perf_counter()
    run_figure1(cfg, workers=1)
    sweep_1 = time.perf_counter() - start
    start = time.perf_counter()
    run_figure1(cfg, workers=workers)
    sweep_w = time.perf_counter() - start

    ours_total = lsmr_total = 0.0
    lsmr_diff = 0.0
    naive_times, naive_diff = [], 0.0
    with threadpool_limits(limits=1, user_api="blas"):
        for a in alphas:
            model = LongTailModel(cfg.n, cfg.d, cfg.s, a, c=cfg.c, beta_exponent=cfg.beta_exponent)
            t_ours, t_lsmr = [], []
            for r in range(args.peer_runs):
                prob = sample_problem(model, run_rng(cfg.seed, a, r))
                Y = prob.y_clean[:, None] + prob.noise[:, None] * np.array((0.0, *sig_lists[a]))[None, :]
                t0 = time.perf_counter()
                B = MinNormFactorization(prob.X).solve_many(Y)
                t_ours.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                cols = [lsmr_min_norm(prob.X, Y[:, j])[0] for j in range(Y.shape[1])]
                t_lsmr.append(time.perf_counter() - t0)
                lsmr_diff = max(lsmr_diff, float(np.abs(np.column_stack(cols) - B).max()))
            ours_total += float(np.mean(t_ours)) * cfg.runs
            lsmr_total += float(np.mean(t_lsmr)) * cfg.runs

        picks = [alphas[round(j * (len(alphas) - 1) / max(args.naive_runs - 1, 1))] for j in range(args.naive_runs)]
        sigmas = tuple(sorted(set(cfg.sigmas) | set(cfg.noise_sigmas)))
        for a in picks:
            model = LongTailModel(cfg.n, cfg.d, cfg.s, a, c=cfg.c, beta_exponent=cfg.beta_exponent)
            kw = dict(n_pairs=cfg.n_pairs, recovery_tol=cfg.recovery_tol)
            t0 = time.perf_counter()
            naive = run_metrics(model, sigmas, run_rng(cfg.seed, a, 0), solver="dense", **kw)
            naive_times.append(time.perf_counter() - t0)
            ours = run_metrics(model, sigmas, run_rng(cfg.seed, a, 0), **kw)
            for m in ours:
                both = np.isfinite(ours[m]) & np.isfinite(naive[m])
                naive_diff = max(naive_diff, float(np.max(np.abs(ours[m][both] - naive[m][both]), initial=0.0)))
    naive_per_run = float(np.mean(naive_times))
    naive_total = naive_per_run * n_designs
    with_lsmr = sweep_1 - ours_total + lsmr_total

    print(f"sweep: scale={args.scale}, {len(alphas)} alphas x {cfg.runs} runs = {n_designs} designs "
          f"(n={cfg.n}, d={cfg.d}), {n_targets} targets in all (noiseless + each sigma)")
    print(f"memcomp sweep: {sweep_1:.2f} s on 1 worker ({1000 * sweep_1 / n_designs:.1f} ms per design), "
          f"{sweep_w:.2f} s on {workers} workers")
    print(f"solver only, extrapolated from {args.peer_runs} runs per alpha: structure (factorise once, solve "
          f"every target) {ours_total:.2f} s; lsmr (atol=btol=1e-14, once per target) {lsmr_total:.2f} s")
    print(f"max |difference| between the lsmr and structure solutions on those runs: {lsmr_diff:.2e}")
    print(f"naive dense pinv: {naive_per_run:.2f} s per design (mean of {len(picks)} runs at alpha = "
          f"{', '.join(f'{a:g}' for a in picks)}), extrapolated to {naive_total:.0f} s for the sweep")
    print(f"max |difference| of any metric between pinv and structure on those runs: {naive_diff:.2e}")
    print(f"speed ratio, solver only (lsmr / structure): {lsmr_total / ours_total:.1f}x")
    print(f"speed ratio, whole sweep on 1 worker (sweep with lsmr / memcomp): {with_lsmr / sweep_1:.1f}x")
    print(f"speed ratio, whole sweep (naive pinv / memcomp on 1 worker): {naive_total / sweep_1:.1f}x")


if __name__ == "__main__":
    main()
