"""The Figure 1 sweep: reproducible, complete, the same on any number of workers, and its metrics equal the reference ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from memcomp.linear import (
    LongTailModel,
    dense_min_norm,
    feature_errors,
    feature_groups,
    ood_loss,
    population_loss,
    recovered_features,
    recovered_fraction,
    sample_design,
    sample_problem,
)
from memcomp.experiments.figure1 import Figure1Config, figure1_config, resolve_workers, run_figure1
from memcomp.linear.sweep import (
    METRICS,
    draw_pairs,
    expected_unseen_loss,
    once_seen_noise_factor,
    run_metrics,
    run_rng,
)

TINY = dict(n=200, d=1000, alphas=(1.0, 2.0, 3.0), sigmas=(0.0, 0.05), noise_sigmas=(0.0, 0.1), runs=3, n_pairs=5)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MEMCOMP_PROGRESS", "0")


def test_same_seed_gives_identical_records_and_other_seed_differs():
    cfg = Figure1Config(**TINY, seed=7)
    a = run_figure1(cfg)
    b = run_figure1(cfg)
    assert a.records == b.records and a.noise_records == b.noise_records
    c = run_figure1(Figure1Config(**TINY, seed=8))
    assert c.records != a.records


def test_parallel_workers_give_bit_identical_records():
    cfg = Figure1Config(**{**TINY, "runs": 5}, seed=11)
    one = run_figure1(cfg, workers=1)
    for workers in (2, 3):
        other = run_figure1(cfg, workers=workers)
        # == on the records compares every float exactly (and None for empty groups)
        assert other.records == one.records and other.noise_records == one.noise_records


def test_workers_default_reads_memcomp_threads(monkeypatch):
    monkeypatch.setenv("MEMCOMP_THREADS", "3")
    assert resolve_workers() == 3
    assert resolve_workers(1) == 1
    monkeypatch.delenv("MEMCOMP_THREADS")
    assert resolve_workers() >= 1
    for bad in ("abc", "0", "-2"):
        monkeypatch.setenv("MEMCOMP_THREADS", bad)
        with pytest.raises(ValueError, match="MEMCOMP_THREADS"):
            resolve_workers()
    with pytest.raises(ValueError, match="workers"):
        run_figure1(Figure1Config(**TINY), workers=0)


def _blas_threads() -> set[int]:
    from threadpoolctl import threadpool_info

    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_the_sweep_holds_blas_to_one_thread_here_and_in_its_workers(monkeypatch):
    from threadpoolctl import threadpool_limits

    import memcomp.experiments.figure1 as figure1

    seen = []

    def spy(model, sigmas, rng, **kw):
        seen.append(_blas_threads())
        return run_metrics(model, sigmas, rng, **kw)

    monkeypatch.setattr(figure1, "run_metrics", spy)
    with threadpool_limits(limits=2, user_api="blas"):  # as if OMP_NUM_THREADS were 2
        run_figure1(Figure1Config(**{**TINY, "runs": 1}), workers=1)
        assert _blas_threads() == {2}  # restored afterwards
        with figure1.worker_pool(2) as pool:
            in_workers = [pool.submit(_blas_threads).result() for _ in range(4)]
    assert seen and all(threads == {1} for threads in seen)
    assert all(threads == {1} for threads in in_workers)


def test_records_hold_every_field():
    res = run_figure1(Figure1Config(**TINY))
    assert len(res.records) == 3 * 2
    assert [(r["alpha"], r["sigma"]) for r in res.records] == [(a, s) for a in (1.0, 2.0, 3.0) for s in (0.0, 0.05)]
    assert [r["sigma"] for r in res.noise_records] == [0.0, 0.1]
    assert all(r["alpha"] == 2.0 for r in res.noise_records)
    for rec in res.records + res.noise_records:
        for m in METRICS:
            assert set(rec[m]) == {"mean", "std", "n_valid"}
            if rec[m]["mean"] is not None:
                assert math.isfinite(rec[m]["mean"]) and math.isfinite(rec[m]["std"])
        assert rec["head_error"]["n_valid"] == 3
        assert {"unseen_loss", "loss_rate", "unrecovered_rate", "noisy_excess_rate"} <= set(rec["theory"])
        assert rec["k"] >= 1 and rec["tail_mass"] > 0


def test_a_point_does_not_depend_on_the_rest_of_the_grid():
    small = run_figure1(Figure1Config(**{**TINY, "alphas": (2.0,)}))
    full = run_figure1(Figure1Config(**TINY))
    at2 = [r for r in full.records if r["alpha"] == 2.0]
    assert small.records == at2


def test_run_metrics_agree_with_reference_metrics():
    model = LongTailModel(300, 3000, 5.0, 1.75)
    sigmas = (0.0, 0.1)
    got = run_metrics(model, sigmas, run_rng(3, 1.75, 0), n_pairs=7)
    # redo the same run by hand with the dense pinv and the metrics module
    rng = run_rng(3, 1.75, 0)
    prob = sample_problem(model, rng)
    X, k, p, bs = prob.X, model.k, model.p, model.beta_star
    beta0 = dense_min_norm(X, prob.targets(0.0))
    rec = recovered_features(beta0, bs, X, k)
    groups = feature_groups(X, k)
    once_rec = np.intersect1d(groups.tail_once, rec)
    csr_rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    # candidate order in run_metrics is the CSR entry order
    entry = np.isin(X.indices, once_rec)
    pairs = draw_pairs(X.indices[entry], csr_rows[entry], 7, rng)
    assert pairs.shape == (7, 2)
    for j, sigma in enumerate(sigmas):
        beta = dense_min_norm(X, prob.targets(sigma))
        err = feature_errors(beta, bs, {"head": groups.head, "once": groups.tail_once, "more": groups.tail_more,
                                        "rec": once_rec})
        assert got["head_error"][j] == pytest.approx(err["head"], abs=1e-9)
        assert got["tail_once_error"][j] == pytest.approx(err["once"], abs=1e-9)
        assert got["tail_more_error"][j] == pytest.approx(err["more"], abs=1e-9)
        assert got["tail_recovered_error"][j] == pytest.approx(err["rec"], abs=1e-9)
        assert got["test_loss"][j] == pytest.approx(population_loss(beta, bs, p), rel=1e-9, abs=1e-12)
        ood = np.mean([ood_loss(beta, bs, p, pair) for pair in pairs])
        assert got["ood_loss"][j] == pytest.approx(ood, rel=1e-9, abs=1e-12)
        assert got["recovered_fraction"][j] == pytest.approx(recovered_fraction(beta0, bs, X, k))


def test_dense_and_structure_solvers_give_the_same_metrics():
    model = LongTailModel(200, 1000, 5.0, 1.5)
    a = run_metrics(model, (0.0, 0.05), run_rng(0, 1.5, 1), solver="dense")
    b = run_metrics(model, (0.0, 0.05), run_rng(0, 1.5, 1))
    for m in METRICS:
        np.testing.assert_allclose(a[m], b[m], atol=1e-10)


def test_the_structure_shows_at_moderate_size():
    cfg = Figure1Config(n=400, d=4000, alphas=(2.0, 3.0), sigmas=(0.0, 0.1), noise_sigmas=(0.1,), runs=4)
    res = {(r["alpha"], r["sigma"]): r for r in run_figure1(cfg).records}
    noiseless = res[(3.0, 0.0)]
    assert noiseless["head_error"]["mean"] < 1e-10  # the head-only rows pin the head
    # (OOD = in-distribution loss at sigma = 0 holds by construction of the OOD pairs: not tested)
    # with noise a recovered once-seen feature's squared error is sigma^2 ||row j of X^+||^2 on
    # average: the pooled simulation agrees with that exact expectation within 4 standard errors
    model = LongTailModel(cfg.n, cfg.d, cfg.s, 3.0)
    runs = [once_seen_noise_factor(model, run_rng(cfg.seed, 3.0, r)) for r in range(cfg.runs)]
    sq = np.concatenate([a for a, _ in runs])
    exact = np.concatenate([b for _, b in runs])
    assert sq.size >= 20 and np.all(exact >= 1.0 - 1e-12)
    assert abs(sq.mean() - exact.mean()) < 4 * sq.std(ddof=1) / np.sqrt(sq.size)
    # and the recorded error is that noise, scaled by sigma (the same draws as the sweep)
    rms = np.mean([0.1 * np.sqrt(a.mean()) for a, _ in runs])
    assert res[(3.0, 0.1)]["tail_recovered_error"]["mean"] == pytest.approx(rms, rel=1e-9)


def test_draw_pairs_uses_distinct_rows():
    rng = np.random.default_rng(0)
    feats = np.arange(10)
    rows = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])
    pairs = draw_pairs(feats, rows, 50, rng)
    assert pairs.shape == (50, 2)
    assert np.all(rows[pairs[:, 0]] != rows[pairs[:, 1]])
    assert draw_pairs(feats[:3], rows[:3], 5, rng).shape == (0, 2)


def test_expected_unseen_loss_matches_simulation():
    model = LongTailModel(100, 500, 5.0, 1.5)
    rng = np.random.default_rng(1)
    vals = []
    for _ in range(300):
        X = sample_design(model.n, model.p, rng)
        unseen = np.bincount(X.indices, minlength=model.d) == 0
        vals.append(np.sum((model.p * model.beta_star**2)[unseen]))
    vals = np.asarray(vals)
    expected = expected_unseen_loss(model.p, model.beta_star, model.n)
    assert abs(vals.mean() - expected) < 4 * vals.std() / np.sqrt(vals.size)


def test_presets():
    paper = figure1_config("paper")
    assert (paper.n, paper.d, paper.s, paper.c, paper.runs) == (1000, 10000, 5.0, 10.0, 50)
    assert paper.alphas[0] == 1.0 and paper.alphas[-1] == 3.0 and 0.0 in paper.sigmas and 0.05 in paper.sigmas
    assert figure1_config("fast", runs=2).runs == 2


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"runs": 0}, "runs"),
        ({"alphas": ()}, "alphas"),
        ({"alphas": (2.0, 2.0)}, "alphas"),
        ({"sigmas": (-0.1,)}, r"sigmas\[0\]"),
        ({"noise_sigmas": (float("nan"),)}, r"noise_sigmas\[0\]"),
        ({"n": 10, "alphas": (1.0,)}, "alphas"),  # no head feature reaches n p = 10
        ({"seed": -1}, "seed"),
        ({"n_pairs": 0}, "n_pairs"),
    ],
)
def test_bad_config_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Figure1Config(**{**TINY, **kwargs})


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="scale"):
        figure1_config("huge")
    with pytest.raises(ValueError, match="solver"):
        run_metrics(LongTailModel(200, 1000, 5.0, 2.0), (0.0,), np.random.default_rng(0), solver="qr")
    with pytest.raises(ValueError, match="config"):
        run_figure1({"n": 10})
    with pytest.raises(ValueError, match="beta_star"):
        expected_unseen_loss(np.full(3, 0.5), np.ones(4), 10)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"sigmas": [-1]}, "sigmas"),
        ({"sigmas": []}, "sigmas"),
        ({"sigmas": [0.0, float("nan")]}, "sigmas"),
        ({"sigmas": [[0.0]]}, "sigmas"),
        ({"n_pairs": 0}, "n_pairs"),
        ({"recovery_tol": -1e-6}, "recovery_tol"),
    ],
)
def test_run_metrics_refuses_bad_arguments_by_name(kwargs, name):
    args = {"sigmas": (0.0,), **kwargs}
    with pytest.raises(ValueError, match=name):
        run_metrics(LongTailModel(200, 1000, 5.0, 2.0), rng=np.random.default_rng(0), **args)


def test_draw_pairs_and_run_rng_refuse_bad_arguments_by_name():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_pairs"):
        draw_pairs(np.arange(4), np.arange(4), -1, rng)
    with pytest.raises(ValueError, match="features"):
        draw_pairs(np.arange(4), np.arange(3), 2, rng)
    with pytest.raises(ValueError, match="seed"):
        run_rng(-1, 2.0, 0)
    with pytest.raises(ValueError, match="run"):
        run_rng(0, 2.0, -1)
