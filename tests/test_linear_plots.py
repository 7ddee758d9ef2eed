"""The plotting functions of the linear chapters: Figure API (no pyplot state), what they draw, bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from memcomp import plots


def _no_pyplot_figures(make):
    before = plt.get_fignums()
    fig = make()
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before  # built with the Figure API, not registered with pyplot
    return fig


def test_plot_noise_recovery_draws_both_panels():
    s = np.array([0.01, 0.1, 0.2])
    fig = _no_pyplot_figures(lambda: plots.plot_noise_recovery(s, 1.1 * s, s**2, 2 * s**2, s**2 / 2))
    ax1, ax2 = fig.axes
    assert ax1.get_xscale() == ax1.get_yscale() == "log"
    assert len(ax1.get_lines()) == 2 and len(ax2.get_lines()) == 3
    np.testing.assert_allclose(ax1.get_lines()[0].get_ydata(), 1.1 * s)


def test_plot_loo_predictions_groups_rows_and_uses_a_given_axis():
    y = np.array([1.0, -1.0, 0.5, 2.0])
    kind = np.array(["once", "head", "shared", "head"], dtype=object)
    fig = _no_pyplot_figures(lambda: plots.plot_loo_predictions(y, y, y + 0.5, kind, title="t"))
    (ax,) = fig.axes
    # rows sorted head, head, shared, once
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [-1.0, 2.0, 0.5, 1.0])
    assert ax.get_title() == "t"
    own = Figure()
    ax_given = own.subplots()
    assert plots.plot_loo_predictions(y, y, y, kind, ax=ax_given) is own
    with pytest.raises(ValueError, match="kind"):
        plots.plot_loo_predictions(y, y, y, np.array(["head", "tail", "once", "head"], dtype=object))
    with pytest.raises(ValueError, match="shapes"):
        plots.plot_loo_predictions(y, y[:3], y, kind)


def test_plot_mislabel_uses_the_positive_deltas():
    deltas = np.array([-0.5, -0.1, 0.1, 0.5])
    fig = _no_pyplot_figures(
        lambda: plots.plot_mislabel(deltas, deltas**2, 1e-4 * deltas**2, [0.5, -0.25], [0.5, -0.25], [1, 2])
    )
    ax1, ax2 = fig.axes
    np.testing.assert_allclose(ax1.get_lines()[0].get_xdata(), [0.1, 0.5])
    np.testing.assert_allclose(ax1.get_lines()[0].get_ydata(), [0.1, 0.5])
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == [
        "row with m = 1 private feature",
        "row with m = 2 private features",
    ]


def test_plot_ridge_memorization_draws_one_curve_per_sigma():
    lams = np.logspace(-4, 0, 5)
    keys = ("train_mse_tail_rows", "train_mse_head_rows", "recovered_fraction", "ood_loss", "test_loss")
    curves = {s: {k: np.linspace(1, 2, 6) + s for k in keys} for s in (0.0, 0.05)}
    fig = _no_pyplot_figures(lambda: plots.plot_ridge_memorization(lams, curves, np.zeros(5), n=1000))
    ax1, ax2, ax3 = fig.axes
    assert len(ax1.get_lines()) == 4 and len(ax2.get_lines()) == 2 + 1  # + the 1/(1+n lambda) = 0.9 line
    assert len(ax3.get_lines()) == 4 + 2  # + prediction and min-norm level
    np.testing.assert_allclose(ax3.get_lines()[-2].get_ydata(), curves[0.0]["test_loss"][1:])


def test_plot_self_influence_one_column_per_type_with_medians():
    mem = np.array([1e-9, 1e-3, 0.5, 0.7, 0.01])
    kind = np.array(["head", "head", "once", "once", "shared"], dtype=object)
    types = (("head", "head"), ("shared", "shared"), ("once", "once"))
    fig = _no_pyplot_figures(lambda: plots.plot_self_influence(mem, kind, types, 0.05, title="m"))
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["head\n(2 rows)", "shared\n(1 rows)", "once\n(2 rows)"]
    medians = [line.get_ydata()[0] for line in ax.get_lines() if line.get_color() == "k"]
    np.testing.assert_allclose(medians, [np.median([1e-9, 1e-3]), 0.01, 0.6])
    # same seed, same jitter
    again = plots.plot_self_influence(mem, kind, types, 0.05, rng=0).axes[0]
    np.testing.assert_array_equal(again.get_lines()[0].get_xdata(), ax.get_lines()[0].get_xdata())
    with pytest.raises(ValueError, match="mem and kind"):
        plots.plot_self_influence(mem[:3], kind, types, 0.05)


def test_plot_loo_effect_and_composition_losses():
    fig = _no_pyplot_figures(lambda: plots.plot_loo_effect([-0.3, 0.3], [0.0, 1e-12, 0.0], 0.3, j=7, row=2))
    (ax,) = fig.axes
    np.testing.assert_array_equal(ax.get_lines()[1].get_xdata(), [2, 3, 4])
    assert "feature 7" in ax.get_title() and "row 2" in ax.get_title()
    a = [1.5, 2.0]
    fig = _no_pyplot_figures(lambda: plots.plot_composition_losses(a, [0.2, 0.1], [0.2, 0.1], [1.0, 0.9], [0.1, 0.05]))
    assert len(fig.axes[0].get_lines()) == 4 and fig.axes[0].get_yscale() == "log"


def test_plot_recovery_by_alpha_leaves_out_full_recovery_on_the_log_panel():
    alphas = [1.0, 2.0, 3.0]
    fig = _no_pyplot_figures(
        lambda: plots.plot_recovery_by_alpha(alphas, [0.2, 0.9, 1.0], [0.01, 0.02, 0.0], [0.9, 0.2, 0.1], [0.5, 0.1, 0.05])
    )
    ax1, ax2 = fig.axes
    np.testing.assert_allclose(ax2.get_lines()[0].get_xdata(), [1.0, 2.0])  # 1 - 1.0 = 0 has no log
    np.testing.assert_allclose(ax2.get_lines()[0].get_ydata(), [0.8, 0.1])


def test_plot_feature_errors_floors_errors_and_marks_sigma_and_k():
    from memcomp.linear import LongTailModel, feature_groups, sample_problem

    model = LongTailModel(n=100, d=500, s=5.0, alpha=2.0)
    X = sample_problem(model, rng=0).X
    g = feature_groups(X, model.k)
    err = np.zeros(model.d)
    err[g.tail_unseen] = model.beta_star[g.tail_unseen]
    fig = _no_pyplot_figures(lambda: plots.plot_feature_errors(err, g, sigma=0.05, k=model.k, title="t"))
    (ax,) = fig.axes
    head = ax.get_lines()[0]
    np.testing.assert_array_equal(head.get_xdata(), g.head + 1)
    np.testing.assert_array_equal(head.get_ydata(), np.full(g.head.size, 1e-4))  # zero errors floored
    assert "10^{-4}" in ax.get_ylabel() and ax.get_legend().get_texts()[-1].get_text() == r"$\sigma$ = 0.05"
    with pytest.raises(ValueError, match="floor"):
        plots.plot_feature_errors(err, g, floor=0.0)
