"""Golden values of a tiny fixed-seed linear run, stored once from the code and checked strictly.

numpy's random generators are deterministic across machines, so the design and the targets
are compared exactly. The solutions go through BLAS/LAPACK, whose reduction order may differ
between processors, so they get a relative tolerance of 1e-12 (values that are zero up to
round-off, about 1e-15, an absolute one of 1e-12). A change of the sampling, the solver or
a metric shows here as a failure; if it is intended, recompute the values and say why in the
commit.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from memcomp.linear import LongTailModel, feature_groups, min_norm_solution, population_loss, sample_problem
from memcomp.linear.sweep import run_metrics, run_rng

REL = 1e-12  # BLAS reduction order only
ZERO = 1e-12  # round-off of an exact zero


@pytest.fixture(scope="module")
def tiny():
    model = LongTailModel(n=40, d=200, s=4.0, alpha=1.5)
    return model, sample_problem(model, rng=7)


def test_design_and_targets_are_exactly_the_stored_ones(tiny):
    model, prob = tiny
    X = prob.X
    assert model.k == 3 and X.nnz == 133
    blob = (
        np.ascontiguousarray(X.indptr, dtype=np.int64).tobytes()
        + np.ascontiguousarray(X.indices, dtype=np.int64).tobytes()
        + np.ascontiguousarray(X.data, dtype=np.float64).tobytes()
    )
    assert hashlib.sha256(blob).hexdigest() == "8f9d13a36519570d943558679892735098dea91f560741b3bb291c3d25501b3d"
    assert prob.y_clean[:3].tolist() == [1.0, 1.3042270266691003, 1.9930326492996326]
    assert prob.noise[:3].tolist() == [-0.3936567119009843, -0.030903252586298, -0.08405435783448403]
    g = feature_groups(X, model.k)
    assert (g.head.size, g.tail_once.size, g.tail_more.size, g.tail_unseen.size) == (3, 20, 10, 167)


def test_min_norm_solution_has_the_stored_values(tiny):
    model, prob = tiny
    beta = min_norm_solution(prob.X, prob.targets(0.1))
    assert beta[:4] == pytest.approx([0.9933048029362593, 0.9606416625013332, 0.8738343614675255, 0.8792795845410045], rel=REL)
    assert float(beta.sum()) == pytest.approx(23.01386472685288, rel=REL)
    assert float(np.linalg.norm(beta)) == pytest.approx(4.237093555165437, rel=REL)
    assert population_loss(beta, model.beta_star, model.p) == pytest.approx(0.22416901282288623, rel=REL)


GOLDEN_METRICS = {  # run_metrics(model, (0.0, 0.1), run_rng(3, 1.5, 0), n_pairs=5)
    "head_error": [0.0, 0.0304311938026487],
    "tail_once_error": [0.4711029106467339, 0.47591701142757165],
    "tail_recovered_error": [0.0, 0.10461991709484764],
    "tail_more_error": [0.0, 0.05130048015240335],
    "test_loss": [0.31814909412773595, 0.3215196511631652],
    "ood_loss": [0.31814909412773595, 0.3520273998595835],
    "recovered_fraction": [0.5185185185185185, 0.5185185185185185],
}


def test_run_metrics_has_the_stored_values(tiny):
    model, _ = tiny
    got = run_metrics(model, (0.0, 0.1), run_rng(3, 1.5, 0), n_pairs=5)
    assert set(got) == set(GOLDEN_METRICS)
    for name, want in GOLDEN_METRICS.items():
        assert got[name] == pytest.approx(want, rel=REL, abs=ZERO), name
    # the recovered fraction is a ratio of counts: exact
    assert got["recovered_fraction"].tolist() == [14 / 27, 14 / 27]
