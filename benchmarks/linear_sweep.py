"""Benchmark: the Figure 1 sweep (memcomp's structure solver) against a naive dense pinv.

    python benchmarks/linear_sweep.py [--scale paper] [--naive-runs 3]

The memcomp side runs the whole sweep (every alpha and run, main and noise panels). The naive
side replaces the solver by ``numpy.linalg.pinv`` of the dense n x d design on a few of the same
runs (same seeds, same metrics code), checks that both give the same metrics, and extrapolates
its mean cost per run to the whole sweep: naive total = mean naive seconds per run x number of
runs. The last line printed is the speed ratio.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MEMCOMP_PROGRESS", "0")

import numpy as np  # noqa: E402

from memcomp.linear.features import LongTailModel  # noqa: E402
from memcomp.linear.sweep import figure1_config, run_figure1, run_metrics, run_rng  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="paper")
    parser.add_argument("--naive-runs", type=int, default=3, help="runs timed with the dense pinv")
    args = parser.parse_args()
    cfg = figure1_config(args.scale)
    alphas = sorted(set(cfg.alphas) | {cfg.noise_alpha})
    n_designs = len(alphas) * cfg.runs
    sigmas = tuple(sorted(set(cfg.sigmas) | set(cfg.noise_sigmas)))

    start = time.perf_counter()
    run_figure1(cfg)
    fast_total = time.perf_counter() - start

    picks = [alphas[round(j * (len(alphas) - 1) / max(args.naive_runs - 1, 1))] for j in range(args.naive_runs)]
    naive_times, max_diff = [], 0.0
    for a in picks:
        model = LongTailModel(cfg.n, cfg.d, cfg.s, a, c=cfg.c, beta_exponent=cfg.beta_exponent)
        kw = dict(n_pairs=cfg.n_pairs, recovery_tol=cfg.recovery_tol)
        t0 = time.perf_counter()
        naive = run_metrics(model, sigmas, run_rng(cfg.seed, a, 0), solver="dense", **kw)
        naive_times.append(time.perf_counter() - t0)
        ours = run_metrics(model, sigmas, run_rng(cfg.seed, a, 0), **kw)
        for m in ours:
            both = np.isfinite(ours[m]) & np.isfinite(naive[m])
            max_diff = max(max_diff, float(np.max(np.abs(ours[m][both] - naive[m][both]), initial=0.0)))
    naive_per_run = float(np.mean(naive_times))
    naive_total = naive_per_run * n_designs

    print(f"sweep: scale={args.scale}, {len(alphas)} alphas x {cfg.runs} runs = {n_designs} designs "
          f"(n={cfg.n}, d={cfg.d}), sigmas solved per design: {len(sigmas)}")
    print(f"memcomp: {fast_total:.2f} s for the whole sweep ({1000 * fast_total / n_designs:.1f} ms per design)")
    print(f"naive dense pinv: {naive_per_run:.2f} s per design (mean of {len(picks)} runs at alpha = "
          f"{', '.join(f'{a:g}' for a in picks)}), extrapolated to {naive_total:.0f} s for the sweep")
    print(f"max |difference| of any metric between the two solvers on those runs: {max_diff:.2e}")
    print(f"speed ratio (naive / memcomp): {naive_total / fast_total:.1f}x")


if __name__ == "__main__":
    main()
