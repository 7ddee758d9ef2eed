"""The plotting functions of the linear chapters: Figure API (no pyplot state), what they draw, bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from memcomp.plots import linear as plots


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


# ------------------------------------------------------------------ Part II / III


def _tiny_design():
    from memcomp.linear import LongTailModel, feature_groups, sample_problem

    model = LongTailModel(n=100, d=500, s=5.0, alpha=2.0)
    X = sample_problem(model, rng=0).X
    return model, X, feature_groups(X, model.k)


def test_plot_sampled_design_circles_once_seen_features_and_counts_tail_per_row():
    model, X, g = _tiny_design()
    fig = _no_pyplot_figures(lambda: plots.plot_sampled_design(X, model.k, rows=20))
    ax1, ax2 = fig.axes
    dots, circles = ax1.collections[:2]
    assert len(dots.get_offsets()) == X[:20].nnz
    once_cols = {int(c) for c in g.tail_once}
    expected = sum(1 for c in X[:20].tocoo().col if int(c) in once_cols)
    assert len(circles.get_offsets()) == expected > 0
    tail_per_row = np.diff(X[:, model.k :].tocsr().indptr)
    heights = [p.get_height() for p in ax2.patches]
    np.testing.assert_array_equal(heights, np.bincount(tail_per_row))
    assert "first 20 rows" in ax1.get_title() and ax2.get_ylabel() == "rows (of 100)"
    with pytest.raises(ValueError, match="rows"):
        plots.plot_sampled_design(X, model.k, rows=0)
    with pytest.raises(TypeError, match="X"):
        plots.plot_sampled_design(X.toarray(), model.k)


def test_plot_sampled_frequencies_leaves_out_unseen_features():
    counts = np.array([50, 10, 0, 1])
    p = np.array([0.5, 0.1, 0.01, 0.001])
    own = Figure()
    ax = own.subplots()
    fig = plots.plot_sampled_frequencies(counts, 100, p, title="t", ax=ax)
    assert fig is own
    emp, line = ax.get_lines()
    np.testing.assert_array_equal(emp.get_xdata(), [1, 2, 4])
    np.testing.assert_allclose(emp.get_ydata(), [0.5, 0.1, 0.01])
    np.testing.assert_allclose(line.get_ydata(), p)
    with pytest.raises(ValueError, match="counts, p"):
        plots.plot_sampled_frequencies(counts[:3], 100, p)
    with pytest.raises(ValueError, match="n_samples"):
        plots.plot_sampled_frequencies(counts, 0, p)


def test_plot_min_norm_toy_draws_the_solution_line_and_the_path():
    path = np.array([[0.0, 0.0], [0.2, 0.4], [0.4, 0.8]])
    fig = _no_pyplot_figures(
        lambda: plots.plot_min_norm_toy([1.0, 2.0], 2.0, path, [0.4, 0.8])
    )
    (ax,) = fig.axes
    line, gd, star, other = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), (2 - np.array([-1.0, 3.0])) / 2)
    np.testing.assert_array_equal(gd.get_xdata(), path[:, 0])
    assert other.get_xdata()[0] == 2.0 and "$b_1 + 2 b_2 = 2$" in line.get_label()
    with pytest.raises(ValueError, match="row"):
        plots.plot_min_norm_toy([1.0, 0.0], 2.0, path, [2.0, 0.0])
    with pytest.raises(ValueError, match="path"):
        plots.plot_min_norm_toy([1.0, 2.0], 2.0, path[:, 0], [0.4, 0.8])


def test_plot_gd_convergence_floors_the_noiseless_loss():
    steps = np.array([0, 10, 20])
    loss = np.array([1.0, 1e-10, 0.0])
    fig = _no_pyplot_figures(
        lambda: plots.plot_gd_convergence(
            steps, [1.0, 0.1, 0.01], [1.0, 0.1, 0.01], loss, [1.0, 0.1, 0.05],
            sigma=0.05, floor=0.05,
        )
    )
    ax1, ax2 = fig.axes
    assert len(ax1.get_lines()) == 2 and len(ax2.get_lines()) == 3
    np.testing.assert_allclose(ax2.get_lines()[0].get_ydata(), [1.0, 1e-10, 1e-32])
    assert ax2.get_lines()[2].get_ydata()[0] == 0.05
    with pytest.raises(ValueError, match="one length"):
        plots.plot_gd_convergence(
            steps, [1.0], [1.0], loss, loss, sigma=0.05, floor=0.05
        )


def test_plot_ridge_path_compares_the_kept_fraction_with_the_shrink_factor():
    lams = np.array([1e-4, 1e-3])
    fig = _no_pyplot_figures(
        lambda: plots.plot_ridge_path(lams, [1e-3, 1e-1], [1e-5, 1e-3], [0.1, 0.4],
                                      [0.9, 0.5], 1000, n_once_rows=18, n_head_rows=135)
    )
    ax1, ax2 = fig.axes
    assert len(ax1.get_lines()) == 3 and "(18)" in ax1.get_lines()[0].get_label()
    np.testing.assert_allclose(ax2.get_lines()[1].get_ydata(), [1 / 1.1, 1 / 2])
    with pytest.raises(ValueError, match="lams"):
        plots.plot_ridge_path([0.0, 1e-3], [1, 1], [1, 1], [1, 1], [1, 1], 1000,
                              n_once_rows=1, n_head_rows=1)


def test_plot_sorted_design_sorts_rows_by_tail_count():
    model, X, g = _tiny_design()
    fig = _no_pyplot_figures(lambda: plots.plot_sorted_design(X, g, title="t"))
    (ax,) = fig.axes
    dots = ax.get_lines()[0]
    seen = np.union1d(g.head, np.union1d(g.tail_once, g.tail_more))
    assert dots.get_xdata().size == X[:, seen].nnz  # unseen columns are empty anyway
    tail_per_row = np.diff(X[:, model.k :].tocsr().indptr)
    n0 = int(np.sum(tail_per_row == 0))
    hlines = [line.get_ydata()[0] for line in ax.get_lines()[1:3]]
    assert hlines[0] == n0 - 0.5
    # the head-only rows come first: their dots lie in the head columns only
    rows, cols = np.asarray(dots.get_ydata()), np.asarray(dots.get_xdata())
    assert np.all(cols[rows < n0] < model.k)
    assert ax.get_xticklabels()[1].get_text() == f"tail seen once\n({g.tail_once.size})"
    with pytest.raises(TypeError, match="X"):
        plots.plot_sorted_design(X.toarray(), g)


def test_plot_contributions_one_bar_per_model_and_feature():
    beta = {"a": np.arange(5.0), "b": -np.arange(5.0)}
    fig = _no_pyplot_figures(
        lambda: plots.plot_contributions([0, 3], [1.0, -1.0], beta, forced=[3])
    )
    (ax,) = fig.axes
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, [0.0, -3.0, 0.0, 3.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "4\n(rare, forced)"]
    with pytest.raises(ValueError, match="betas"):
        plots.plot_contributions([0], [1.0], {})
    with pytest.raises(ValueError, match="features and values"):
        plots.plot_contributions([0, 1], [1.0], beta)


def test_plot_ridge_shrinkage_one_curve_per_count():
    lams = np.logspace(-6, 1, 8)
    fig = _no_pyplot_figures(
        lambda: plots.plot_ridge_shrinkage(lams, n=1000, counts=(1, 10))
    )
    (ax,) = fig.axes
    curves = ax.get_lines()[:2]
    np.testing.assert_allclose(curves[1].get_ydata(), 10 / (10 + 1000 * lams))
    assert ax.get_lines()[2].get_xdata()[0] == 1e-3  # n lambda = 1
    with pytest.raises(ValueError, match="counts"):
        plots.plot_ridge_shrinkage(lams, n=1000, counts=(1, 2, 3, 4, 5))
    with pytest.raises(ValueError, match="n must"):
        plots.plot_ridge_shrinkage(lams, n=0)


def test_plot_labelled_bars_writes_each_height():
    fig = _no_pyplot_figures(
        lambda: plots.plot_labelled_bars(
            {"x": 0.1, "y": 0.25}, colors=["C0", "C1"], ylim=(0, 1)
        )
    )
    (ax,) = fig.axes
    assert [p.get_height() for p in ax.patches] == [0.1, 0.25]
    assert [t.get_text() for t in ax.texts] == ["0.100", "0.250"]
    assert ax.get_ylim() == (0, 1)
    with pytest.raises(ValueError, match="colors"):
        plots.plot_labelled_bars({"x": 0.1}, colors=["C0", "C1"])


def test_plot_interaction_loss_and_shared_credit():
    ws = np.array([0.0, 1.0, 2.0])
    fig = _no_pyplot_figures(
        lambda: plots.plot_interaction_loss(
            ws, [0.1] * 3, 0.1 + ws**2, sampled=(1.0, 1.1)
        )
    )
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 4
    np.testing.assert_allclose(ax.get_lines()[2].get_ydata(), 0.1 + ws**2)
    assert len(plots.plot_interaction_loss(ws, ws, ws).axes[0].get_lines()) == 3
    with pytest.raises(ValueError, match="one length"):
        plots.plot_interaction_loss(ws, ws[:2], ws)

    pred, meas = np.array([-0.6, 0.01, -0.5]), np.array([-0.6, 0.01, -0.5])
    fig = _no_pyplot_figures(
        lambda: plots.plot_shared_credit(pred, meas, np.array([False, True, False]))
    )
    agree, disagree, diagonal = fig.axes[0].get_lines()
    np.testing.assert_allclose(agree.get_xdata(), [0.01])
    np.testing.assert_allclose(disagree.get_ydata(), [-0.6, -0.5])
    assert diagonal.get_xdata()[0] <= -0.6 and diagonal.get_xdata()[1] >= 0.01
    with pytest.raises(TypeError, match="same_sign"):
        plots.plot_shared_credit(pred, meas, [0, 1, 0])


def test_plot_expected_counts_marks_each_head_boundary():
    from memcomp.linear import LongTailModel

    models = [LongTailModel(n=100, d=500, s=5.0, alpha=a) for a in (1.0, 2.0)]
    fig = _no_pyplot_figures(lambda: plots.plot_expected_counts(models))
    (ax,) = fig.axes
    curve, dot = ax.get_lines()[2:4]  # the second model
    np.testing.assert_allclose(curve.get_ydata(), 100 * models[1].p)
    assert dot.get_xdata()[0] == models[1].k
    assert len(ax.get_lines()) == 2 * 2 + 2  # + the lines n p = 10 and n p = 1
    with pytest.raises(ValueError, match="one n"):
        other_n = LongTailModel(n=50, d=500, s=5.0, alpha=1.0)
        plots.plot_expected_counts([models[0], other_n])


def test_plot_at_most_one_tail_draws_theory_and_simulation():
    a = np.array([1.0, 2.0, 3.0])
    fig = _no_pyplot_figures(
        lambda: plots.plot_at_most_one_tail(a, [0.2, 0.9, 1.0], [0.2, 0.9, 1.0], [2.0],
                                            [0.89], n_sets=10)
    )
    exact, approx, sim = fig.axes[0].get_lines()
    np.testing.assert_allclose(sim.get_ydata(), [0.89])
    assert sim.get_label() == "simulation (mean of 10 training sets)"
    with pytest.raises(ValueError, match="sim_alphas, simulated"):
        plots.plot_at_most_one_tail(a, a, a, [2.0, 3.0], [0.89])
