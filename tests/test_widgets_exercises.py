"""memcomp.widgets (plotting function), memcomp.exercises (checkers) and the student-notebook script."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from memcomp import exercises, widgets
from memcomp.linear import LongTailModel, prob_at_most_one_tail, prob_head_only_row, sample_design

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- widgets


def test_plot_linear_explorer_returns_figure_with_two_labelled_axes():
    fig = widgets.plot_linear_explorer(n=300, d=2000, s=5.0, alpha=2.0, sigma=0.05, seed=0, alphas=[1.5, 2.0, 2.5])
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        ax1, ax2 = fig.axes
        assert ax1.get_xscale() == "log" and ax2.get_yscale() == "log"
        assert "feature index" in ax1.get_xlabel()
        assert "alpha" in ax2.get_xlabel()
        # four curves in the loss panel, one point per alpha
        lines = ax2.get_lines()
        assert sum(len(l.get_xdata()) == 3 for l in lines) == 4
        assert len(ax2.get_legend().get_texts()) == 4
    finally:
        plt.close(fig)


def test_plot_linear_explorer_ridge_and_validation():
    fig = widgets.plot_linear_explorer(n=300, d=2000, alpha=2.0, lam=1e-2, seed=1, alphas=[1.5, 2.5])
    assert "ridge" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="lam"):
        widgets.plot_linear_explorer(n=300, d=2000, lam=-1.0)
    with pytest.raises(ValueError, match="alphas"):
        widgets.plot_linear_explorer(n=300, d=2000, alphas=[2.0])
    with pytest.raises(ValueError, match="seed"):
        widgets.plot_linear_explorer(n=300, d=2000, seed=-1)


def test_simulate_linear_is_deterministic_and_min_norm_recovers_at_fast_decay():
    a = widgets.simulate_linear(1000, 10000, 5.0, 2.5, 0.0, 0.0, seed=3)
    b = widgets.simulate_linear(1000, 10000, 5.0, 2.5, 0.0, 0.0, seed=3)
    assert np.array_equal(a["beta"], b["beta"]) and a["ood_loss"] == b["ood_loss"]
    # recovered features make the OOD loss equal the in-distribution loss when sigma = 0
    assert a["ood_loss"] == pytest.approx(a["id_loss"], rel=1e-9)


def test_simulate_linear_gives_nan_only_when_no_ood_set_exists():
    from memcomp.linear import ood_set_exists, recovered_features

    # n = 30 rows over 60 features at alpha = 1: no two recovered once-seen features in distinct rows
    run = widgets.simulate_linear(30, 60, 5.0, 1.0, 0.0, 0.0, seed=0)
    assert np.isnan(run["ood_loss"]) and np.isfinite(run["id_loss"])
    beta0, model = run["beta"], run["model"]  # lam = sigma = 0: beta is the noiseless solution
    cands = recovered_features(beta0, model.beta_star, run["X"], model.k)
    assert not ood_set_exists(run["X"], model.k, candidates=cands)
    ok = widgets.simulate_linear(100, 200, 5.0, 3.0, 0.0, 0.0, seed=0)
    assert np.isfinite(ok["ood_loss"])


def test_simulate_linear_does_not_turn_unrelated_errors_into_nan(monkeypatch):
    import memcomp.linear

    def broken(*args, **kwargs):
        raise ValueError("beta must have 200 entries")  # a bug, not a missing OOD set

    monkeypatch.setattr(memcomp.linear, "mean_ood_loss", broken)
    with pytest.raises(ValueError, match="beta must have"):
        widgets.simulate_linear(100, 200, 5.0, 3.0, 0.0, 0.0, seed=0)


def test_ideal_memorizer_loss_formula():
    p = np.array([0.5, 0.1, 0.0])
    b = np.array([1.0, 2.0, 3.0])
    want = 0.5 * 0.5**4 * 1 + 0.1 * 0.9**4 * 4
    assert widgets.ideal_memorizer_loss(p, b, 4) == pytest.approx(want)
    assert widgets.ideal_memorizer_loss(p, b, 4, sigma=0.1, k=2) == pytest.approx(want + 0.01 * 2 / 4)


# --------------------------------------------------------------------------- exercises


def test_exercise_1_accepts_right_answer_and_rejects_wrong_ones():
    right = exercises.exercise_1_solution()
    assert exercises.check_exercise_1(right).startswith("Correct")
    assert not exercises.check_exercise_1(right * 1.2).startswith("Correct")
    m = LongTailModel(n=1000, d=10000, s=5.0, alpha=2.0)
    at_most_one = 1000 * prob_at_most_one_tail(m.p, m.k)
    assert "at most one" in exercises.check_exercise_1(at_most_one)
    with pytest.raises(ValueError, match="answer"):
        exercises.check_exercise_1("many")


def test_exercise_1_solution_matches_a_simulation():
    m = LongTailModel(n=1000, d=10000, s=5.0, alpha=2.0)
    rng = np.random.default_rng(0)
    counts = []
    for _ in range(20):
        X = sample_design(1000, m.p, rng)
        tail = X[:, m.k:].getnnz(axis=1)
        counts.append(np.sum(tail == 1))
    want = exercises.exercise_1_solution()
    assert want == pytest.approx(1000 * (prob_at_most_one_tail(m.p, m.k) - prob_head_only_row(m.p, m.k)))
    se = np.sqrt(want * (1 - want / 1000) / 20)
    assert abs(np.mean(counts) - want) < 4 * se


def test_exercise_2_and_3_checkers():
    m = LongTailModel(n=1000, d=10000, s=5.0, alpha=2.0)
    right2 = float(np.sum(m.p[m.k:] * m.beta_star[m.k:] ** 2))
    assert exercises.check_exercise_2(right2).startswith("Correct")
    assert not exercises.check_exercise_2(float(np.sum(m.beta_star[m.k:] ** 2))).startswith("Correct")
    F = np.array(exercises.EXERCISE_3_FEATURES) - 1
    right3 = right2 + float(np.sum((1 - m.p[F]) * m.beta_star[F] ** 2))
    assert exercises.check_exercise_3(right3).startswith("Correct")
    assert "in-distribution" in exercises.check_exercise_3(right2)
    assert not exercises.check_exercise_3(right3 + 0.1).startswith("Correct")
    with pytest.raises(ValueError, match="features"):
        exercises.check_exercise_3(right3, features=(1, 2))  # head features are not tail features


# --------------------------------------------------------------------------- student notebooks


def _load_script():
    spec = importlib.util.spec_from_file_location("make_student_notebooks", ROOT / "scripts" / "make_student_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_student_script_strips_solution_cells(tmp_path):
    mod = _load_script()
    nb = nbformat.v4.new_notebook()
    sol = nbformat.v4.new_code_cell("answer = 42\nprint(answer)", metadata={"tags": ["solution"]})
    sol.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    keep = nbformat.v4.new_code_cell("print(check(answer))")
    keep.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Correct\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), sol, keep]
    src = tmp_path / "book" / "ch.ipynb"
    src.parent.mkdir()
    nbformat.write(nb, src)
    dst = tmp_path / "student" / "ch.ipynb"
    assert mod.make_student_notebook(src, dst) == 1
    out = nbformat.read(dst, as_version=4)
    assert out.cells[0].source == "# Title"
    assert out.cells[1].source == mod.STUB and "42" not in out.cells[1].source
    assert "solution" not in out.cells[1].metadata["tags"]
    assert out.cells[2].source == "print(check(answer))"
    assert all(c.outputs == [] for c in out.cells if c.cell_type == "code")
    # the original is untouched
    assert nbformat.read(src, as_version=4).cells[1].source.startswith("answer = 42")
