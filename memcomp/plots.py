"""Plotting functions: each takes plain results (tidy records, arrays) and returns a matplotlib Figure.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot state, no
``show``), so they work under the Agg backend, in scripts and in notebooks alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

# =========================================================================== linear model
# (Figure 1 of the paper and the linear chapters)

_FIG1_PANELS = (
    ("head_error", "head-feature error", "linear"),
    ("tail_once_error", "error on tail features seen once", "linear"),
    ("test_loss", "in-distribution test loss (excess)", "log"),
    ("ood_loss", "OOD (compositional) test loss (excess)", "log"),
    ("recovered_fraction", "recovered fraction of seen tail features (sigma = 0)", "linear"),
)


def _as_payload(result: Any) -> dict[str, Any]:
    if hasattr(result, "as_dict"):
        result = result.as_dict()
    if not isinstance(result, dict) or "records" not in result:
        raise ValueError("result must be a figure1 payload (a dict with 'records') or a SweepResult")
    return result


def _series(records: list[dict[str, Any]], x: str, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, means, stds = [], [], []
    for rec in sorted(records, key=lambda r: r[x]):
        m = rec[metric]["mean"]
        if m is None:
            continue
        xs.append(rec[x])
        means.append(m)
        stds.append(rec[metric]["std"] or 0.0)
    return np.asarray(xs, float), np.asarray(means, float), np.asarray(stds, float)


def _band(ax: Any, x: np.ndarray, mean: np.ndarray, std: np.ndarray, log: bool, **kw: Any) -> None:
    (line,) = ax.plot(x, mean, marker="o", ms=3, **kw)
    low = mean - std
    low = np.maximum(low, mean * 0.1) if log else np.maximum(low, 0.0)  # all metrics are >= 0
    ax.fill_between(x, low, mean + std, color=line.get_color(), alpha=0.2, lw=0)


def plot_figure1(result: Any, theory: bool = True) -> Figure:
    """Figure 1 from a ``figure1`` payload (or :class:`memcomp.experiments.figure1.SweepResult`).

    Panels against alpha, one curve per sigma with +-1 std bands over runs: head error,
    error on tail features seen once, in-distribution and OOD test loss, recovered fraction;
    and the noise panel: tail error against sigma at fixed alpha, with the line y = sigma.
    Bands are clipped at 0 (every metric is non-negative). With ``theory``: the exact loss floor of unseen features (dashed) on the loss panels, and
    the noise level sigma (dotted) on the tail-error panel.
    """
    payload = _as_payload(result)
    records = payload["records"]
    sigmas = sorted({r["sigma"] for r in records})
    fig = Figure(figsize=(13, 7.5), layout="constrained")
    axes = fig.subplots(2, 3)
    for ax, (metric, title, scale) in zip(axes.flat, _FIG1_PANELS):
        log = scale == "log"
        for j, sigma in enumerate(sigmas):
            if metric == "recovered_fraction" and j > 0:
                break  # judged on the noiseless solution: the same for every sigma
            recs = [r for r in records if r["sigma"] == sigma]
            x, mean, std = _series(recs, "alpha", metric)
            _band(ax, x, mean, std, log, color=f"C{j}", label=f"sigma = {sigma:g}")
            if theory and metric == "tail_once_error" and sigma > 0:
                ax.axhline(sigma, color=f"C{j}", ls=":", lw=1)
        if theory and metric in ("test_loss", "ood_loss"):
            recs = sorted((r for r in records if r["sigma"] == sigmas[0]), key=lambda r: r["alpha"])
            ax.plot(
                [r["alpha"] for r in recs],
                [r["theory"]["unseen_loss"] for r in recs],
                "k--",
                lw=1,
                label="theory: unseen-feature floor",
            )
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("alpha (power-law decay)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    axes.flat[2].legend(fontsize=8)

    ax = axes.flat[5]
    noise = payload.get("noise_records") or []
    if noise:
        alpha = noise[0]["alpha"]
        for j, (metric, label) in enumerate(
            (("tail_once_error", "all seen once"), ("tail_recovered_error", "seen once, recovered at sigma = 0"))
        ):
            x, mean, std = _series(noise, "sigma", metric)
            _band(ax, x, mean, std, False, color=f"C{j + 3}", label=label)
        xs = np.array(sorted(r["sigma"] for r in noise))
        ax.plot(xs, xs, "k:", lw=1, label="y = sigma")
        ax.set_title(f"noise panel: tail error vs sigma (alpha = {alpha:g})", fontsize=10)
        ax.set_xlabel("sigma (label noise)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    else:
        ax.set_visible(False)
    scale = payload.get("scale")
    cfg = payload.get("config", {})
    fig.suptitle(
        "Figure 1 (linear): min-norm interpolation, "
        f"n = {cfg.get('n', '?')}, d = {cfg.get('d', '?')}, {cfg.get('runs', '?')} runs"
        + (f", scale = {scale}" if scale else "")
    )
    return fig



# =========================================================================== linear chapters
# (figures of Part II and Part III whose code is not the lesson)


def _new_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Figure, Any]:
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.subplots()
    return ax.figure, ax


def plot_noise_recovery(
    sigmas: Any, rms: Any, head_part: Any, excess: Any, rate: Any
) -> Figure:
    """Recovery under label noise: error of once-seen features and the excess loss against sigma.

    Left: the RMS error of recovered once-seen features beside sigma. Right: the head part
    of the excess loss and the whole excess loss beside the rate sigma^2 k / n.
    """
    sigmas, rms, head_part, excess, rate = (np.asarray(v, float) for v in (sigmas, rms, head_part, excess, rate))
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.loglog(sigmas, rms, "o-", label="RMS error, recovered once-seen features")
    ax1.loglog(sigmas, sigmas, "k--", label=r"$\sigma$")
    ax1.set_xlabel(r"noise level $\sigma$")
    ax1.set_ylabel("error")
    ax1.set_title("A feature seen once is known to about $\\sigma$")
    ax1.legend(fontsize=8)
    ax2.loglog(sigmas, head_part, "o-", label="head part of the excess loss")
    ax2.loglog(sigmas, excess, "s-", label="whole excess loss $L(\\hat\\beta_\\sigma) - L(\\hat\\beta_0)$")
    ax2.loglog(sigmas, rate, "k--", label=r"$\sigma^2 k / n$")
    ax2.set_xlabel(r"noise level $\sigma$")
    ax2.set_ylabel("loss (noise floor excluded)")
    ax2.set_title("Loss grows like $\\sigma^2$")
    ax2.legend(fontsize=8)
    return fig


_ROW_KINDS = (
    ("head", "head features only", "C0"),
    ("shared", "tail, seen\nelsewhere", "C2"),
    ("once", "private\ntail feature", "C3"),
)


def plot_loo_predictions(y: Any, fit: Any, loo: Any, kind: Any, *, title: str = "", ax: Any = None) -> Figure:
    """Labels, fitted and leave-one-out predictions per training row, rows grouped by type.

    ``kind`` gives each row's type: ``"head"`` (head features only), ``"shared"`` (tail
    features all seen elsewhere too) or ``"once"`` (holds a tail feature seen only there).
    Draws on ``ax`` when given, else on a new Figure; returns the Figure.
    """
    y, fit, loo = (np.asarray(v, float) for v in (y, fit, loo))
    kind = np.asarray(kind, dtype=object)
    if not (y.shape == fit.shape == loo.shape == kind.shape) or y.ndim != 1:
        raise ValueError(f"y, fit, loo and kind must be 1-dimensional of one length; got shapes "
                         f"{y.shape}, {fit.shape}, {loo.shape}, {kind.shape}")
    rank = {name: j for j, (name, _, _) in enumerate(_ROW_KINDS)}
    bad = sorted(set(kind.tolist()) - set(rank))
    if bad:
        raise ValueError(f"kind must hold only 'head', 'shared' or 'once'; got {bad}")
    fig, ax = _new_axes(ax, (11, 3.8))
    n = y.size
    order = np.lexsort((np.arange(n), [rank[t] for t in kind]))
    pos = np.arange(n)
    ax.plot(pos, y[order], "o", mfc="none", color="k", label="label $y_i$")
    ax.plot(pos, fit[order], ".", color="C0", label=r"prediction of the model trained on all rows")
    ax.plot(pos, loo[order], "x", color="C3", label="prediction of the model trained without row $i$")
    ax.vlines(pos, fit[order], loo[order], color="C3", lw=1)
    for t, name, color in _ROW_KINDS:
        where = pos[kind[order] == t]
        if where.size:
            ax.axvspan(where[0] - 0.5, where[-1] + 0.5, color=color, alpha=0.08)
            ax.text(where.mean(), 3.3, name, ha="center", va="bottom", fontsize=8)
    ax.set_ylim(-3.5, 4.3)
    ax.set_xlabel("training row (grouped by type)")
    ax.set_ylabel("value")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def plot_mislabel(deltas: Any, d_ood: Any, d_in: Any, predicted: Any, measured: Any, m_row: Any) -> Figure:
    """A wrong label on the one row holding a once-seen feature, and its effect.

    Left: against |delta| (positive ``deltas`` only), the RMS prediction error added on
    compositions with the feature, sqrt(``d_ood``), and in distribution, sqrt(``d_in``),
    beside |delta|. Right: measured against ``predicted`` coefficient changes of every
    once-seen feature, coloured by ``m_row`` (private features in its row, 1 or 2).
    """
    deltas, d_ood, d_in = (np.asarray(v, float) for v in (deltas, d_ood, d_in))
    predicted, measured, m_row = np.asarray(predicted, float), np.asarray(measured, float), np.asarray(m_row)
    pos = deltas > 0
    ad = deltas[pos]
    fig = Figure(figsize=(12, 4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.loglog(ad, np.sqrt(d_ood[pos]), "o-", color="C1", label="compositions with $j$: $\\sqrt{\\Delta L_F}$")
    ax1.loglog(ad, np.sqrt(d_in[pos]), "s-", color="C4", label="in-distribution: $\\sqrt{\\Delta L}$")
    ax1.loglog(ad, ad, "k:", label="$|\\delta|$ (slope 1)")
    ax1.set_xlabel("label error $|\\delta|$ of the one row holding $j$")
    ax1.set_ylabel("RMS prediction error added")
    ax1.set_title("A wrong rare label breaks its compositions")
    ax1.legend(fontsize=8)
    for m, color in ((1, "C0"), (2, "C3")):
        sel = m_row == m
        ax2.plot(predicted[sel], measured[sel], "o", color=color,
                 label=f"row with m = {m} private feature{'s' if m > 1 else ''}")
    lim = 1.1 * float(np.max(np.abs(predicted), initial=0.5))
    ax2.plot([-lim, lim], [-lim, lim], "k:", lw=1)
    ax2.set_xlabel("predicted $x_{ij}\\delta/m$ (fail-mislabel)")
    ax2.set_ylabel("measured change of $\\hat\\beta_j$")
    ax2.set_title("Every once-seen feature, $\\delta = 0.5$")
    ax2.legend(fontsize=8)
    return fig


def plot_ridge_memorization(lams: Any, curves: dict[float, dict[str, Any]], penalty_pred: Any, n: int) -> Figure:
    """Ridge against the min-norm interpolator: training fit, memorized features, test losses.

    ``curves[sigma][key]`` holds one value per penalty, entry 0 for the min-norm solution
    (lambda = 0) and entries 1: for ``lams``; keys ``train_mse_tail_rows``,
    ``train_mse_head_rows``, ``recovered_fraction``, ``ood_loss`` and ``test_loss`` (the
    fields of :func:`memcomp.linear.failures.ridge_path_summary`). ``penalty_pred`` is the
    predicted compositional penalty per penalty (eq. ridge-ood) at sigma = 0, ``n`` the
    number of rows.
    """
    lams = np.asarray(lams, float)
    sigmas = sorted(curves)
    styles = ("-", "--", ":", "-.")
    fig = Figure(figsize=(15, 4.2), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    for s, ls in zip(sigmas, styles):
        c = curves[s]
        ax1.loglog(lams, c["train_mse_tail_rows"][1:], ls, color="C3",
                   label=f"rows with a tail feature, $\\sigma$ = {s:g}")
        ax1.loglog(lams, c["train_mse_head_rows"][1:], ls, color="C0", label=f"head-only rows, $\\sigma$ = {s:g}")
        ax2.semilogx(lams, c["recovered_fraction"][1:], ls, color="C2", label=f"$\\sigma$ = {s:g}")
        ax3.loglog(lams, c["ood_loss"][1:], ls, color="C1", label=f"OOD (compositional), $\\sigma$ = {s:g}")
        ax3.loglog(lams, c["test_loss"][1:], ls, color="C4", label=f"in-distribution, $\\sigma$ = {s:g}")
    ax1.set_xlabel(r"ridge penalty $\lambda$")
    ax1.set_ylabel("mean squared training residual")
    ax1.set_title("Training fit: the tail rows go first")
    ax1.legend(fontsize=7)
    ax2.axvline(0.1 / n, color="0.6", lw=1)
    ax2.text(0.12 / n, 0.5, r"$1/(1+n\lambda) = 0.9$", color="0.4", fontsize=8)
    ax2.set_xlabel(r"ridge penalty $\lambda$")
    ax2.set_ylabel("fraction of once-seen features within 10%")
    ax2.set_title("Memorized rare features")
    ax2.legend(fontsize=8)
    base = curves[sigmas[0]]
    ax3.loglog(lams, base["test_loss"][1:] + np.asarray(penalty_pred, float), ":", color="k", lw=2,
               label=f"prediction (ridge-ood), $\\sigma$ = {sigmas[0]:g}")
    ax3.axhline(base["ood_loss"][0], color="0.5", lw=1, label=f"min-norm ($\\lambda$ = 0), $\\sigma$ = {sigmas[0]:g}")
    ax3.set_xlabel(r"ridge penalty $\lambda$")
    ax3.set_ylabel("exact excess test loss")
    ax3.set_title("Composition degrades as memorization is forbidden")
    ax3.legend(fontsize=7)
    return fig



def plot_self_influence(
    mem: Any,
    kind: Any,
    types: Any,
    sigma: float,
    *,
    title: str = "",
    rng: int = 0,
    ax: Any = None,
) -> Figure:
    """Self-influence of every training row, one jittered column per row type, with medians.

    ``types`` is a sequence of ``(kind, label)`` pairs in the order of the columns; ``kind``
    gives each row's type and ``mem`` its self-influence (floored at 1e-8 on the log axis).
    The dotted line marks the noise level ``sigma``. ``rng`` seeds the horizontal jitter.
    """
    mem = np.asarray(mem, float)
    kind = np.asarray(kind, dtype=object)
    types = [(t, str(name)) for t, name in types]
    if mem.shape != kind.shape or mem.ndim != 1:
        raise ValueError(f"mem and kind must be 1-dimensional of one length; got shapes {mem.shape}, {kind.shape}")
    gen = np.random.default_rng(rng)
    fig, ax = _new_axes(ax, (8, 4.5))
    for x_pos, (t, _) in enumerate(types):
        v = mem[kind == t]
        ax.plot(x_pos + 0.25 * gen.uniform(-1, 1, v.size), np.maximum(v, 1e-8), ".", ms=3, alpha=0.6,
                color=f"C{x_pos}")
        if v.size:
            ax.plot([x_pos - 0.35, x_pos + 0.35], [np.median(v)] * 2, "k-", lw=2)
    ax.set_yscale("log")
    ax.set_ylim(1e-8, 3)
    ax.set_xticks(range(len(types)), [f"{name}\n({int(np.sum(kind == t))} rows)" for t, name in types])
    ax.axhline(sigma, color="0.5", ls=":", lw=1)
    ax.text(len(types) - 0.55, sigma * 1.2, r"$\sigma$", color="0.4")
    ax.set_ylabel(r"self-influence $|x_i^\top\hat\beta - x_i^\top\hat\beta_{-i}|$")
    if title:
        ax.set_title(title)
    return fig


def plot_loo_effect(eff_with: Any, eff_without: Any, beta_j: float, j: int, row: int, *, ax: Any = None) -> Figure:
    """|Change of prediction| on test inputs with and without feature ``j`` when ``row`` is removed.

    ``eff_with`` / ``eff_without``: the changes on inputs that contain / do not contain
    feature ``j``; the dotted line is ``|beta_j|``, the change predicted for the former.
    """
    eff_with, eff_without = np.abs(np.asarray(eff_with, float)), np.abs(np.asarray(eff_without, float))
    fig, ax = _new_axes(ax, (8, 3.8))
    n1 = eff_with.size
    ax.plot(np.arange(n1), eff_with, ".", color="C3", label=f"test inputs containing feature {j}")
    ax.plot(np.arange(n1, n1 + eff_without.size), eff_without, ".", color="C0",
            label=f"test inputs without feature {j}")
    ax.axhline(abs(beta_j), color="k", ls=":", lw=1, label=r"$|\hat\beta_j|$")
    ax.set_xlabel("compositional test input")
    ax.set_ylabel("|change of prediction| when row $i$ is removed")
    ax.set_title(f"Removing the one row that holds feature {j} (row {row})")
    ax.legend(fontsize=8)
    return fig


def plot_recovery_by_alpha(alphas: Any, mean_rec: Any, std_rec: Any, rate: Any, nolog: Any) -> Figure:
    """Noiseless recovery of seen tail features against alpha, and the unrecovered fraction.

    Left: the mean recovered fraction with +-1 sd error bars. Right (log scale): the
    unrecovered fraction 1 - ``mean_rec`` where positive, beside the predicted ``rate``
    (constant 1) and the same rate without its ln^2 d factor (``nolog``).
    """
    alphas, mean_rec, std_rec = (np.asarray(v, float) for v in (alphas, mean_rec, std_rec))
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.errorbar(alphas, mean_rec, yerr=std_rec, fmt="o-", capsize=3)
    ax1.set_xlabel(r"power-law exponent $\alpha$")
    ax1.set_ylabel("fraction of seen tail features recovered")
    ax1.set_title("Recovery of the tail (noiseless, n = 1000, d = 10000)")
    ax1.set_ylim(0, 1.05)
    unrec = 1 - mean_rec
    pos = unrec > 0
    ax2.semilogy(alphas[pos], unrec[pos], "o-", label="simulation")
    ax2.semilogy(alphas, rate, "s--", color="0.4", label=r"rate $\max(p_k/p_{>k},\ p_{>k}^2\ln^2 d)$, constant 1")
    ax2.semilogy(alphas, nolog, "^:", color="0.4", label=r"same without $\ln^2 d$")
    ax2.set_xlabel(r"power-law exponent $\alpha$")
    ax2.set_ylabel("fraction of seen tail features not recovered")
    ax2.set_title("Shape, not constants")
    ax2.legend(fontsize=8)
    return fig


def plot_composition_losses(alphas: Any, loss: Any, ood: Any, ood_head_only: Any, unseen: Any, *, ax: Any = None) -> Figure:
    """Noiseless test losses against alpha: in distribution, compositional, head-only, unseen mass."""
    fig, ax = _new_axes(ax, (6.5, 4))
    ax.semilogy(alphas, loss, "o-", label=r"in-distribution $L(X^+y)$")
    ax.semilogy(alphas, ood, "x--", ms=9, label=r"compositional $L_F(X^+y)$")
    ax.semilogy(alphas, ood_head_only, "s-", label=r"compositional, head-only model")
    ax.semilogy(alphas, unseen, "k:", label="mass of unseen features")
    ax.set_xlabel(r"power-law exponent $\alpha$")
    ax.set_ylabel("test loss ($\\sigma$ = 0)")
    ax.set_title("Memorizing rare features makes composition free")
    ax.legend(fontsize=8)
    return fig



_GROUP_STYLES = (
    ("head", "head", "C0"),
    ("tail_more", "tail, seen 2+ times", "C2"),
    ("tail_once", "tail, seen once", "C3"),
    ("tail_unseen", "tail, never seen", "0.75"),
)


def plot_feature_errors(
    err: Any,
    groups: Any,
    *,
    sigma: float | None = None,
    k: int | None = None,
    title: str = "",
    floor: float = 1e-4,
    ax: Any = None,
) -> Figure:
    """Per-feature error |beta_hat_i - beta*_i| against the feature index, coloured by group.

    ``groups`` is a :class:`~memcomp.linear.FeatureGroups` (0-based index arrays ``head``,
    ``tail_more``, ``tail_once``, ``tail_unseen``); errors are floored at ``floor`` on the
    log axis. Optional: a dotted line at the noise level ``sigma`` and a dashed one at the
    head / tail boundary ``k``.
    """
    err = np.asarray(err, float)
    floor = float(floor)
    if not floor > 0:
        raise ValueError(f"floor must be > 0 (a log axis); got {floor!r}")
    fig, ax = _new_axes(ax, (9, 4))
    idx = np.arange(1, err.size + 1)
    for attr, name, color in _GROUP_STYLES:
        G = np.asarray(getattr(groups, attr))
        ax.loglog(idx[G], np.maximum(err[G], floor), ".", ms=4 if G.size < 1000 else 1, color=color,
                  label=f"{name} ({G.size})")
    if sigma is not None:
        ax.axhline(sigma, color="k", ls=":", lw=1, label=rf"$\sigma$ = {sigma:g}")
    if k is not None:
        ax.axvline(k + 0.5, color="k", ls="--", lw=1)
    ax.set_xlabel("feature index $i$ (most to least frequent)")
    power = np.log10(floor)
    shown = f"$10^{{{int(power)}}}$" if power == int(power) else f"{floor:g}"
    ax.set_ylabel(rf"$|\hat\beta_i - \beta^*_i|$ (floored at {shown})")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, loc="lower left", markerscale=3)
    return fig


# =========================================================================== end of linear model
