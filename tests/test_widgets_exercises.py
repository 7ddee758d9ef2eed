"""memcomp.widgets (plotting function) and memcomp.exercises (self-checks that hold no answer).

The assignments themselves (otter-grader) are tested in tests/test_assignments.py."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from memcomp import exercises, widgets


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


def test_self_check_says_not_attempted_incorrect_with_hint_or_passes():
    d = exercises.answer_digest("q", 146.2137)
    assert exercises.self_check("q", 146.2137, d) is None
    assert exercises.self_check("q", 146.21372, d) is None  # same 4 significant digits
    with pytest.raises(AssertionError, match="^not attempted"):
        exercises.self_check("q", ..., d)
    with pytest.raises(AssertionError, match="^incorrect: count rows"):
        exercises.self_check("q", 150.0, d, hint="count rows")
    wrong = exercises.answer_digest("q", 160.0)
    with pytest.raises(AssertionError, match="^incorrect: at most one"):
        exercises.self_check("q", 160.0, d, hints={wrong: "at most one"})
    with pytest.raises(AssertionError, match="^incorrect: .*number"):
        exercises.self_check("q", "many", d)


def test_answer_digest_is_salted_exact_for_integers_and_robust_at_rounding_ties():
    assert exercises.answer_digest("a", 17) != exercises.answer_digest("b", 17)
    assert exercises.answer_digest("a", 17) != exercises.answer_digest("a", 18)
    assert exercises.answer_digest("a", np.array([1, 2])) == exercises.answer_digest("a", [1, 2])
    # 0.12345 rounds to 0.1234 or 0.1235 depending on the last bit: both are accepted
    d = exercises.answer_digest("a", 0.12345)
    exercises.self_check("a", 0.12345 * (1 + 1e-12), d)
    exercises.self_check("a", 0.12345 * (1 - 1e-12), d)


def test_the_package_holds_no_answers():
    public = [n for n in dir(exercises) if not n.startswith("_")]
    assert not [n for n in public if "solution" in n.lower() or n.lower().startswith("check_exercise")]
