"""Time the structure-lemma min-norm solver at paper scale against numpy's dense pinv.

Usage: OMP_NUM_THREADS=1 python benchmarks/bench_linear_min_norm.py [--designs 20] [--pinv 1]

For each alpha: mean time to sample a design, to factorise it, and to solve 4 targets
(sigma in 0, 0.05, 0.1, 0.2) with the factorisation; then the dense pinv time on a few designs,
the speed ratio, and the largest difference between the two solutions.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from memcomp.linear import LongTailModel, MinNormFactorization, dense_min_norm, sample_problem


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=20)
    ap.add_argument("--pinv", type=int, default=1, help="designs also solved with dense pinv")
    args = ap.parse_args()
    sigmas = (0.0, 0.05, 0.1, 0.2)
    print("alpha     k  sample_ms  factor_ms  solve4_ms  pinv_ms  speedup  max|diff|")
    for alpha in (1.0, 1.5, 2.0, 3.0):
        model = LongTailModel(n=1000, d=10000, s=5.0, alpha=alpha)
        t_sample, t_fac, t_solve, t_pinv, diffs = [], [], [], [], []
        for seed in range(args.designs):
            t0 = time.perf_counter()
            prob = sample_problem(model, seed)
            t1 = time.perf_counter()
            fac = MinNormFactorization(prob.X)
            t2 = time.perf_counter()
            B = fac.solve_many(np.column_stack([prob.targets(s) for s in sigmas]))
            t3 = time.perf_counter()
            t_sample.append(t1 - t0)
            t_fac.append(t2 - t1)
            t_solve.append(t3 - t2)
            if seed < args.pinv:
                t4 = time.perf_counter()
                ref = dense_min_norm(prob.X, prob.targets(0.05))
                t_pinv.append(time.perf_counter() - t4)
                diffs.append(float(np.abs(ref - B[:, 1]).max()))
        ms = lambda v: 1e3 * float(np.mean(v)) if v else float("nan")  # noqa: E731
        fast = ms(t_fac) + ms(t_solve) / len(sigmas)
        print(
            f"{alpha:5.1f} {model.k:5d} {ms(t_sample):10.2f} {ms(t_fac):10.2f} {ms(t_solve):10.2f}"
            f" {ms(t_pinv):8.0f} {ms(t_pinv) / fast:8.0f} {max(diffs, default=float('nan')):10.1e}"
        )


if __name__ == "__main__":
    main()
