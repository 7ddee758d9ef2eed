"""Time the structure-lemma min-norm solver at paper scale against scipy's lsmr and numpy's pinv.

Usage: python benchmarks/bench_linear_min_norm.py [--designs 20] [--lsmr 5] [--pinv 1]

Per alpha (n = 1000, d = 10000, s = 5): the mean time to sample a design, to factorise it and
to solve one target with the factorisation. The peers solve the same target (sigma = 0.05):

- ``lsmr``: scipy's sparse iterative least squares from x = 0 (the minimum-norm solution) with
  tight tolerances (atol = btol = 1e-14, up to 10 n iterations), the strongest general peer;
- ``pinv``: numpy's dense pseudo-inverse, the naive baseline.

Ratios are peer time / (factorise + solve one target): one design, one target, the case least
favourable to the factorisation. ``max|diff|`` is the largest coordinate difference from the
structure solver's solution. Every solver runs with one BLAS thread.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.sparse.linalg import lsmr
from threadpoolctl import threadpool_limits

from memcomp.linear import LongTailModel, MinNormFactorization, dense_min_norm, sample_problem

LSMR_TOL = 1e-14


def lsmr_min_norm(X, y: np.ndarray) -> tuple[np.ndarray, int]:
    """The minimum-norm least-squares solution by lsmr from 0; returns (x, iterations)."""
    out = lsmr(X, y, atol=LSMR_TOL, btol=LSMR_TOL, conlim=1e16, maxiter=10 * X.shape[0])
    if out[1] not in (1, 2):  # 1: Ax = b solved, 2: least-squares optimum, within the tolerances
        raise RuntimeError(f"lsmr stopped without converging (istop = {out[1]})")
    return out[0], int(out[2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=20, help="designs timed with the structure solver")
    ap.add_argument("--lsmr", type=int, default=5, help="designs also solved with lsmr")
    ap.add_argument("--pinv", type=int, default=1, help="designs also solved with dense pinv")
    args = ap.parse_args()
    sigma = 0.05
    ms = lambda v: 1e3 * float(np.mean(v)) if v else float("nan")  # noqa: E731
    print(f"one design, one target (sigma = {sigma}), one BLAS thread; times in ms")
    print(
        "alpha    k  sample  factor  solve1 | lsmr  iters  ratio  max|diff| | pinv  ratio  max|diff|"
    )
    with threadpool_limits(limits=1, user_api="blas"):
        for alpha in (1.0, 1.5, 2.0, 3.0):
            model = LongTailModel(n=1000, d=10000, s=5.0, alpha=alpha)
            t_sample, t_fac, t_solve, t_lsmr, t_pinv, iters = [], [], [], [], [], []
            d_lsmr, d_pinv = [], []
            for seed in range(args.designs):
                t0 = time.perf_counter()
                prob = sample_problem(model, seed)
                t1 = time.perf_counter()
                fac = MinNormFactorization(prob.X)
                t2 = time.perf_counter()
                y = prob.targets(sigma)
                beta = fac.solve(y)
                t3 = time.perf_counter()
                t_sample.append(t1 - t0)
                t_fac.append(t2 - t1)
                t_solve.append(t3 - t2)
                if seed < args.lsmr:
                    t4 = time.perf_counter()
                    ref, itn = lsmr_min_norm(prob.X, y)
                    t_lsmr.append(time.perf_counter() - t4)
                    iters.append(itn)
                    d_lsmr.append(float(np.abs(ref - beta).max()))
                if seed < args.pinv:
                    t4 = time.perf_counter()
                    ref = dense_min_norm(prob.X, y)
                    t_pinv.append(time.perf_counter() - t4)
                    d_pinv.append(float(np.abs(ref - beta).max()))
            ours = ms(t_fac) + ms(t_solve)
            nan = float("nan")
            print(
                f"{alpha:5.1f} {model.k:4d} {ms(t_sample):7.2f} {ms(t_fac):7.2f} {ms(t_solve):7.2f} |"
                f" {ms(t_lsmr):5.1f} {np.mean(iters) if iters else nan:6.0f} {ms(t_lsmr) / ours:6.1f}"
                f" {max(d_lsmr, default=nan):9.1e} |"
                f" {ms(t_pinv):5.0f} {ms(t_pinv) / ours:6.0f} {max(d_pinv, default=nan):9.1e}"
            )


if __name__ == "__main__":
    main()
