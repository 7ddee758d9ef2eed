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
    gives each row's type and ``mem`` its self-influence ``mem(i) = l_i(beta_{-i}) - l_i(beta)``
    (:func:`memcomp.linear.influence.self_influence`; floored at 1e-10 on the log axis).
    The dotted line marks the noise variance ``sigma**2``. ``rng`` seeds the horizontal jitter.
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
        ax.plot(x_pos + 0.25 * gen.uniform(-1, 1, v.size), np.maximum(v, 1e-10), ".", ms=3, alpha=0.6,
                color=f"C{x_pos}")
        if v.size:
            ax.plot([x_pos - 0.35, x_pos + 0.35], [np.median(v)] * 2, "k-", lw=2)
    ax.set_yscale("log")
    ax.set_ylim(1e-10, 3)
    ax.set_xticks(range(len(types)), [f"{name}\n({int(np.sum(kind == t))} rows)" for t, name in types])
    ax.axhline(sigma**2, color="0.5", ls=":", lw=1)
    ax.text(len(types) - 0.55, sigma**2 * 1.3, r"$\sigma^2$", color="0.4")
    ax.set_ylabel(r"self-influence $\mathrm{mem}(i) = \ell_i(\hat\beta_{-i}) - \ell_i(\hat\beta)$")
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



# --------------------------------------------------------------------------- Part II
# (the long-tail world, min-norm memorization, the structure lemma, composition)


def _vector(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value, float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional; got shape {arr.shape}")
    return arr


def _same_length(**arrays: np.ndarray) -> None:
    sizes = {name: a.size for name, a in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"{', '.join(sizes)} must have one length; got {sizes}")


def _csr(name: str, X: Any) -> Any:
    if not hasattr(X, "tocsr") or len(getattr(X, "shape", ())) != 2:
        raise TypeError(f"{name} must be a 2-dimensional scipy.sparse matrix; got "
                        f"{type(X)}")
    return X.tocsr()


def _check_k(k: int, d: int) -> int:
    if not 0 <= int(k) <= d:
        raise ValueError(f"k must be between 0 and d = {d}; got {k!r}")
    return int(k)


def plot_sampled_design(X: Any, k: int, *, rows: int = 200, axes: Any = None) -> Figure:
    """A sampled design: its non-zeros, and the number of tail features per row.

    Parameters
    ----------
    X : scipy.sparse matrix, shape (n, d)
        The design, entries in {-1, 0, +1}.
    k : int
        Head size: features ``0 .. k-1`` are the head.
    rows : int
        Left panel: the non-zeros of the first ``rows`` rows (blue +1, orange -1)
        against the feature index on a log axis, features seen once in all of X circled.
    axes : pair of Axes, optional
        Where to draw; a new Figure when None.

    Returns
    -------
    Figure
        Right panel: histogram of the number of tail features per row (log counts).
    """
    X = _csr("X", X)
    n, d = X.shape
    k = _check_k(k, d)
    if not 1 <= int(rows) <= n:
        raise ValueError(f"rows must be between 1 and n = {n}; got {rows!r}")
    if axes is None:
        fig = Figure(figsize=(11, 4), layout="constrained")
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    else:
        ax1, ax2 = axes
        fig = ax1.figure
    sub = X[: int(rows)].tocoo()
    counts = np.bincount(X.indices, minlength=d)
    once = counts[sub.col] == 1
    colors = np.where(sub.data > 0, "C0", "C1")
    ax1.scatter(sub.col + 1, sub.row, s=6, c=colors, marker="s")
    ax1.scatter(sub.col[once] + 1, sub.row[once], s=40, facecolors="none",
                edgecolors="C3", label="feature seen once in all n rows")
    ax1.axvline(k + 0.5, color="k", lw=1, ls="--",
                label=f"head | tail boundary (k = {k})")
    ax1.set_xscale("log")
    ax1.set_xlim(0.8, d)
    ax1.invert_yaxis()
    ax1.set_xlabel("feature index (log scale)")
    ax1.set_ylabel("training row")
    ax1.set_title(f"Non-zeros of X (first {int(rows)} rows; blue +1, orange -1)")
    ax1.legend(loc="upper right", fontsize=8, framealpha=0.9)
    tail_per_row = np.diff(X[:, k:].tocsr().indptr)
    bins = np.arange(-0.5, tail_per_row.max() + 1.5)
    ax2.hist(tail_per_row, bins=bins, rwidth=0.8)
    ax2.set_yscale("log")
    ax2.set_xlabel("number of tail features in a row")
    ax2.set_ylabel(f"rows (of {n})")
    ax2.set_title("Tail features per row")
    return fig

def plot_expected_counts(models: Any, *, ax: Any = None) -> Figure:
    """Expected count n p_i of every feature, one curve per model, head boundary marked.

    Parameters
    ----------
    models : sequence of LongTailModel
        Objects with ``n``, ``p``, ``k`` and ``alpha`` (for example
        :class:`memcomp.linear.LongTailModel`), all with the same ``n``; a dot marks
        each model's last head feature k.
    ax : Axes, optional
        Where to draw; a new Figure when None. Dashed line: n p = 10 (the head / tail
        boundary); dotted: n p = 1 (seen about once).

    Returns
    -------
    Figure
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one model")
    sizes = {int(m.n) for m in models}
    if len(sizes) != 1:
        raise ValueError(f"models must share one n; got {sorted(sizes)}")
    (n,) = sizes
    fig, ax = _new_axes(ax, (6.5, 4))
    for m in models:
        p = np.asarray(m.p, float)
        i = np.arange(1, p.size + 1)
        (line,) = ax.plot(i, n * p, label=rf"$\alpha$ = {m.alpha:g}, k = {m.k}")
        ax.plot(m.k, n * p[m.k - 1], "o", color=line.get_color())
    ax.axhline(10, color="k", ls="--", lw=1)
    ax.text(1.2, 12, "n p = 10 (head / tail boundary)")
    ax.axhline(1, color="k", ls=":", lw=1)
    ax.text(1.2, 1.2, "n p = 1 (seen about once)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("feature index $i$")
    ax.set_ylabel(f"expected count $n p_i$ in n = {n} samples")
    ax.set_title("Expected number of times each feature is seen")
    ax.legend(fontsize=9)
    return fig


def plot_sampled_frequencies(
    counts: Any, n_samples: int, p: Any, *, title: str = "", ax: Any = None
) -> Figure:
    """Empirical feature frequencies ``counts / n_samples`` beside probabilities ``p``.

    Parameters
    ----------
    counts : array, shape (d,)
        How many of the ``n_samples`` rows hold each feature; features never seen are
        left out (no log of 0).
    n_samples : int
        Number of sampled rows, > 0.
    p : array, shape (d,)
        The feature probabilities p_i, drawn as a black line.
    title, ax
        Axes title; Axes to draw on (a new Figure when None).

    Returns
    -------
    Figure
    """
    counts, p = _vector("counts", counts), _vector("p", p)
    _same_length(counts=counts, p=p)
    if not int(n_samples) > 0:
        raise ValueError(f"n_samples must be > 0; got {n_samples!r}")
    fig, ax = _new_axes(ax, (6.5, 4))
    i = np.arange(1, p.size + 1)
    seen = counts > 0
    ax.plot(i[seen], counts[seen] / n_samples, ".", ms=3, alpha=0.5,
            label=f"empirical frequency C_i / N (N = {int(n_samples)})")
    ax.plot(i, p, "k", lw=1.5, label="$p_i$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("feature index $i$")
    ax.set_ylabel("frequency")
    if title:
        ax.set_title(title)
    ax.legend()
    return fig


def plot_min_norm_toy(
    row: Any,
    target: float,
    path: Any,
    b_plus: Any,
    *,
    xlim: tuple[float, float] = (-1, 3),
    ylim: tuple[float, float] = (-0.5, 2.2),
    ax: Any = None,
) -> Figure:
    """One equation ``row . b = target`` in two unknowns: interpolants and the GD path.

    Parameters
    ----------
    row : array of 2 floats
        The single row of X; its second entry must be non-zero (the solution line is
        drawn as b_2 against b_1).
    target : float
        The label y.
    path : array, shape (steps, 2)
        Gradient descent iterates from 0.
    b_plus : array of 2 floats
        The minimum-norm solution X^+ y, drawn as a star.
    xlim, ylim, ax
        Axis limits (the Axes has equal aspect); Axes to draw on.

    Returns
    -------
    Figure
        Also drawn: the interpolant with b_2 = 0 (when ``row[0]`` is non-zero) and the
        row of X as an arrow from the origin.
    """
    row, b_plus = _vector("row", row), _vector("b_plus", b_plus)
    path = np.asarray(path, float)
    if row.size != 2 or b_plus.size != 2:
        raise ValueError(f"row and b_plus must hold 2 entries; got {row.size}, "
                         f"{b_plus.size}")
    if path.ndim != 2 or path.shape[1] != 2:
        raise ValueError(f"path must have shape (steps, 2); got {path.shape}")
    if row[1] == 0:
        raise ValueError("row[1] must be non-zero (the line is drawn as b_2 of b_1)")
    fig, ax = _new_axes(ax, (5.5, 4.5))
    a1, a2 = row
    t = np.asarray(xlim, float)
    equation = f"{a1:g} b_1 + {a2:g} b_2" if a1 != 1 else f"b_1 + {a2:g} b_2"
    ax.plot(t, (target - a1 * t) / a2, "k",
            label=f"all interpolants: ${equation} = {target:g}$")
    ax.plot(path[:, 0], path[:, 1], "o-", ms=3, color="C0",
            label="gradient descent from 0")
    ax.plot(*b_plus, "*", ms=14, color="C3",
            label=f"$X^+y$ = ({b_plus[0]:.1f}, {b_plus[1]:.1f})")
    if a1 != 0:
        ax.plot(target / a1, 0, "s", color="0.5",
                label=f"another interpolant, ({target / a1:g}, 0)")
    ax.annotate("", xy=(a1, a2), xytext=(0, 0),
                arrowprops=dict(arrowstyle="->", color="C2"))
    ax.text(0.45 * a1, 0.65 * a2, "row of X", color="C2")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_xlabel("$b_1$")
    ax.set_ylabel("$b_2$")
    ax.set_title("Gradient descent finds the shortest interpolant")
    ax.legend(fontsize=8, loc="upper right")
    return fig


def plot_gd_convergence(
    steps: Any,
    observed: Any,
    predicted: Any,
    train_loss: Any,
    noisy_train_loss: Any,
    *,
    sigma: float,
    floor: float,
    axes: Any = None,
) -> Figure:
    """Gradient descent to X^+ y: distance to the limit, and the training loss.

    Parameters
    ----------
    steps : array
        The recorded gradient steps.
    observed, predicted : array
        ||beta_t - X^+ y|| measured and predicted by (mnm-rate), one per step.
    train_loss, noisy_train_loss : array
        Training loss per step for noiseless targets (floored at 1e-32 on the log axis)
        and for targets with noise level ``sigma``.
    sigma : float
        The noise level of the second run.
    floor : float
        The training loss of X^+ y on the noisy targets (dotted line).
    axes : pair of Axes, optional
        Where to draw; a new Figure when None.

    Returns
    -------
    Figure
    """
    arrays = {name: _vector(name, v) for name, v in (
        ("steps", steps), ("observed", observed), ("predicted", predicted),
        ("train_loss", train_loss), ("noisy_train_loss", noisy_train_loss))}
    _same_length(**arrays)
    steps = arrays["steps"]
    if axes is None:
        fig = Figure(figsize=(11, 4), layout="constrained")
        ax1, ax2 = fig.subplots(1, 2)
    else:
        ax1, ax2 = axes
        fig = ax1.figure
    ax1.semilogy(steps, arrays["observed"], label="observed")
    ax1.semilogy(steps, arrays["predicted"], "--", label="predicted by (mnm-rate)")
    ax1.set_xlabel("gradient step $t$")
    ax1.set_ylabel(r"$\|\beta_t - X^+ y\|$")
    ax1.set_title("Gradient descent converges to $X^+ y$")
    ax1.legend()
    ax2.semilogy(steps, np.maximum(arrays["train_loss"], 1e-32), label=r"$\sigma = 0$")
    ax2.semilogy(steps, arrays["noisy_train_loss"], label=rf"$\sigma = {sigma:g}$")
    ax2.axhline(floor, color="C1", ls=":",
                label=rf"training loss of $X^+ y$, $\sigma$ = {sigma:g}")
    ax2.set_xlabel("gradient step $t$")
    ax2.set_ylabel("training loss $L(\\beta_t)$")
    ax2.set_title("Training loss")
    ax2.legend()
    return fig


def plot_ridge_path(
    lams: Any,
    loss_once_rows: Any,
    loss_head_rows: Any,
    distance: Any,
    kept: Any,
    n: int,
    *,
    n_once_rows: int,
    n_head_rows: int,
    axes: Any = None,
) -> Figure:
    """The ridge path from X^+ y: which rows lose their fit, how rare features shrink.

    Parameters
    ----------
    lams : array
        Ridge penalties lambda > 0 (log axis).
    loss_once_rows, loss_head_rows : array
        Training loss on the rows holding a once-seen feature and on the head-only rows,
        one per penalty.
    distance : array
        ||beta_lambda - X^+ y|| / ||X^+ y|| per penalty.
    kept : array
        Mean beta_lambda_j / beta*_j over recovered once-seen features j, drawn beside
        1 / (1 + n lambda) (eq. mnm-shrink).
    n : int
        Number of training rows.
    n_once_rows, n_head_rows : int
        How many rows of each kind (for the legend).
    axes : pair of Axes, optional
        Where to draw; a new Figure when None.

    Returns
    -------
    Figure
    """
    arrays = {name: _vector(name, v) for name, v in (
        ("lams", lams), ("loss_once_rows", loss_once_rows),
        ("loss_head_rows", loss_head_rows), ("distance", distance), ("kept", kept))}
    _same_length(**arrays)
    lams = arrays["lams"]
    if not np.all(lams > 0):
        raise ValueError("lams must be > 0 (a log axis)")
    if axes is None:
        fig = Figure(figsize=(11, 4), layout="constrained")
        ax1, ax2 = fig.subplots(1, 2)
    else:
        ax1, ax2 = axes
        fig = ax1.figure
    ax1.loglog(lams, arrays["loss_once_rows"], "o-",
               label=f"rows with a once-seen feature ({n_once_rows})")
    ax1.loglog(lams, arrays["loss_head_rows"], "s-",
               label=f"rows with head features only ({n_head_rows})")
    ax1.loglog(lams, arrays["distance"], "k--",
               label=r"$\|\beta_\lambda - X^+y\| / \|X^+y\|$")
    ax1.set_xlabel(r"ridge penalty $\lambda$")
    ax1.set_ylabel("training loss on the rows / distance")
    ax1.set_title("Ridge stops interpolating the tail first")
    ax1.legend(fontsize=8)
    ax2.semilogx(lams, arrays["kept"], "o",
                 label=r"mean $\beta_{\lambda,j} / \beta^*_j$ over recovered "
                       r"once-seen $j$")
    ax2.semilogx(lams, 1 / (1 + n * lams), "k-",
                 label=r"$1/(1 + n\lambda)$, eq. (mnm-shrink)")
    ax2.set_xlabel(r"ridge penalty $\lambda$")
    ax2.set_ylabel("fraction of the coefficient kept")
    ax2.set_title("Shrinkage of features seen once")
    ax2.legend(fontsize=8)
    return fig

def plot_at_most_one_tail(
    alphas: Any,
    exact: Any,
    approx: Any,
    sim_alphas: Any,
    simulated: Any,
    *,
    n_sets: int | None = None,
    ax: Any = None,
) -> Figure:
    """Fraction of rows with at most one tail feature against alpha: theory, simulation.

    Parameters
    ----------
    alphas : array
        Grid of power-law exponents for the two curves.
    exact, approx : array
        Eq. (sl-atmostone) and its approximation exp(-p_>k)(1 + p_>k) on ``alphas``.
    sim_alphas, simulated : array
        Simulated fractions (red dots) at their exponents.
    n_sets : int, optional
        Number of training sets averaged per dot (for the legend).
    ax : Axes, optional
        Where to draw; a new Figure when None.

    Returns
    -------
    Figure
    """
    alphas, exact, approx = (_vector(name, v) for name, v in (
        ("alphas", alphas), ("exact", exact), ("approx", approx)))
    _same_length(alphas=alphas, exact=exact, approx=approx)
    sim_alphas = _vector("sim_alphas", sim_alphas)
    simulated = _vector("simulated", simulated)
    _same_length(sim_alphas=sim_alphas, simulated=simulated)
    fig, ax = _new_axes(ax, (6.5, 4))
    ax.plot(alphas, exact, "k-", label="exact, eq. (sl-atmostone)")
    ax.plot(alphas, approx, "k--", label=r"approximation $e^{-p_{>k}}(1 + p_{>k})$")
    what = f"mean of {int(n_sets)} training sets" if n_sets else "mean of training sets"
    ax.plot(sim_alphas, simulated, "o", color="C3", label=f"simulation ({what})")
    ax.set_xlabel(r"power-law exponent $\alpha$")
    ax.set_ylabel("fraction of rows with at most one tail feature")
    ax.set_title("Step 1 of the lemma: rows rarely mix two rare features")
    ax.legend()
    return fig


def plot_sorted_design(
    X: Any, groups: Any, *, title: str = "", ax: Any = None
) -> Figure:
    """The design, rows sorted by their number of tail features, unseen columns dropped.

    Parameters
    ----------
    X : scipy.sparse matrix, shape (n, d)
        The design.
    groups : FeatureGroups
        :func:`memcomp.linear.feature_groups` of ``X`` (0-based ``head``, ``tail_once``,
        ``tail_more``). Columns: head, then the once-seen features in the order of their
        rows, then the features seen 2+ times; rows: head-only, one tail feature, two or
        more (stable order within each), with red lines between the blocks.
    title, ax
        Axes title; Axes to draw on (a new Figure when None).

    Returns
    -------
    Figure
    """
    X = _csr("X", X)
    n, d = X.shape
    head, once, more = (np.asarray(getattr(groups, a)) for a in ("head", "tail_once",
                                                                   "tail_more"))
    k = head.size
    if not np.array_equal(head, np.arange(k)) or np.any(once >= d) or np.any(more >= d):
        raise ValueError("groups must be feature_groups(X, k) of this X")
    tail_per_row = np.diff(X[:, k:].tocsr().indptr)
    row_order = np.argsort(np.minimum(tail_per_row, 2), kind="stable")
    rank_of_row = np.empty(n, int)
    rank_of_row[row_order] = np.arange(n)
    csc = X.tocsc()
    once_row = csc.indices[csc.indptr[once]]  # the single row of each once-seen feature
    cols = np.r_[head, once[np.argsort(rank_of_row[once_row], kind="stable")], more]
    Xs = X[row_order][:, cols].tocoo()
    fig, ax = _new_axes(ax, (7, 5))
    ax.plot(Xs.col, Xs.row, "s", ms=1.5, color="C0")
    n0, n1 = np.sum(tail_per_row == 0), np.sum(tail_per_row == 1)
    for yv in (n0, n0 + n1):
        ax.axhline(yv - 0.5, color="C3", lw=0.8)
    for xv in (k, k + once.size):
        ax.axvline(xv - 0.5, color="C3", lw=0.8)
    ax.text(k + 3, n0 / 2, "rows with head features only", fontsize=9, color="C3")
    ax.text(k + 30, n0 + 45, "rows with one tail feature", fontsize=9, color="C3")
    ax.set_xticks(
        [k / 2, k + once.size / 2, k + once.size + more.size / 2],
        [
            f"head\n({k})",
            f"tail seen once\n({once.size})",
            f"tail seen 2+\n({more.size})",
        ],
    )
    ax.invert_yaxis()
    ax.set_ylabel("training rows, sorted by number of tail features")
    if title:
        ax.set_title(title)
    return fig


def plot_contributions(
    features: Any,
    values: Any,
    betas: dict[str, Any],
    *,
    forced: Any = (),
    title: str = "",
    ax: Any = None,
) -> Figure:
    """Per-feature contributions x_i beta_i of one input, one group of bars per feature.

    Parameters
    ----------
    features : array of int
        0-based indices of the input's non-zero features (the tick labels are 1-based).
    values : array
        The input's entries x_i on those features.
    betas : dict
        Legend label -> coefficient vector (length d); one bar per entry and feature.
    forced : sequence of int
        Features marked "(rare, forced)" on the axis.
    title, ax
        Axes title; Axes to draw on (a new Figure when None).

    Returns
    -------
    Figure
    """
    features = np.asarray(features, int)
    values = _vector("values", values)
    if features.ndim != 1 or features.size != values.size:
        raise ValueError(f"features and values must be 1-dimensional of one length; "
                         f"got shapes {features.shape}, {values.shape}")
    if not betas:
        raise ValueError("betas must hold at least one coefficient vector")
    fig, ax = _new_axes(ax, (7, 3.8))
    pos = np.arange(features.size)
    width = 0.8 / len(betas)
    for j, (label, beta) in enumerate(betas.items()):
        beta = _vector(f"betas[{label!r}]", beta)
        offset = (j - (len(betas) - 1) / 2) * width
        ax.bar(pos + offset, values * beta[features], width=width, label=label)
    forced = {int(f) for f in forced}
    ax.set_xticks(pos, [f"{i + 1}" + ("\n(rare, forced)" if i in forced else "")
                        for i in features])
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("features present in the test input (index)")
    ax.set_ylabel("contribution to the prediction")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


# --------------------------------------------------------------------------- Part III
# (ridge, when composition fails)


def plot_ridge_shrinkage(
    lams: Any, n: int, *, counts: tuple[int, ...] = (1, 10, 100), ax: Any = None
) -> Figure:
    """The fraction C / (C + n lambda) of a coefficient that ridge keeps, per count C.

    Parameters
    ----------
    lams : array
        Ridge penalties lambda > 0 (log axis).
    n : int
        Number of training rows, > 0; a grey line marks n lambda = 1.
    counts : tuple of int
        How many times the feature is seen, one curve each (up to four line styles).
    ax : Axes, optional
        Where to draw; a new Figure when None.

    Returns
    -------
    Figure
    """
    lams = _vector("lams", lams)
    if not np.all(lams > 0):
        raise ValueError("lams must be > 0 (a log axis)")
    if not int(n) > 0:
        raise ValueError(f"n must be > 0; got {n!r}")
    styles = ("-", "--", ":", "-.")
    if not 1 <= len(counts) <= len(styles):
        raise ValueError(f"counts must hold 1 to {len(styles)} counts; got "
                         f"{len(counts)}")
    fig, ax = _new_axes(ax, (6.5, 3.8))
    for C, style in zip(counts, styles):
        ax.semilogx(lams, C / (C + n * lams), style, lw=2,
                    label=f"feature seen $m_i = {C}$ time{'s' if C > 1 else ''}: "
                          "$m_i/(m_i + n\\lambda)$")
    ax.axvline(1 / n, color="0.6", lw=1)
    ax.text(1.2 / n, 0.05, r"$n\lambda = 1$", color="0.4")
    ax.set_xlabel(rf"ridge penalty $\lambda$ ($n = {int(n)}$)")
    ax.set_ylabel("fraction of the coefficient kept")
    ax.set_title("A norm penalty gives up rare features first")
    ax.legend(fontsize=8)
    return fig


def plot_labelled_bars(
    values: dict[str, float],
    *,
    colors: Any = None,
    ylabel: str = "",
    ylim: tuple[float, float] | None = None,
    title: str = "",
    ax: Any = None,
) -> Figure:
    """One bar per entry of ``values`` (label -> height), its height written above it.

    Parameters
    ----------
    values : dict
        Bar label -> height; at least one entry.
    colors : sequence of str, optional
        One colour per bar.
    ylabel, ylim, title, ax
        Axis label and limits, title; Axes to draw on (a new Figure when None).

    Returns
    -------
    Figure
    """
    if not values:
        raise ValueError("values must hold at least one bar")
    names, heights = list(values), [float(v) for v in values.values()]
    if colors is not None and len(colors) != len(names):
        raise ValueError(f"colors must hold one colour per bar ({len(names)}); "
                         f"got {len(colors)}")
    fig, ax = _new_axes(ax, (7, 3.8))
    ax.bar(names, heights, color=colors)
    for x_pos, v in enumerate(heights):
        ax.text(x_pos, v * 1.02, f"{v:.3f}", ha="center", va="bottom")
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if title:
        ax.set_title(title)
    return fig


def plot_interaction_loss(
    ws: Any,
    additive: Any,
    interaction: Any,
    *,
    sampled: tuple[float, float] | None = None,
    ax: Any = None,
) -> Figure:
    """Compositional loss of the additive and the interaction target against weight w.

    Parameters
    ----------
    ws : array
        Interaction weights w.
    additive, interaction : array
        Exact OOD excess loss for the additive target and with interaction w x_a x_b,
        one per weight; the dotted line is ``additive + ws**2`` (eq. fail-xor).
    sampled : (w, loss), optional
        One loss measured on a sampled test set, drawn as a star.
    ax : Axes, optional
        Where to draw; a new Figure when None.

    Returns
    -------
    Figure
    """
    ws, additive = _vector("ws", ws), _vector("additive", additive)
    interaction = _vector("interaction", interaction)
    _same_length(ws=ws, additive=additive, interaction=interaction)
    fig, ax = _new_axes(ax, (6.5, 3.8))
    ax.plot(ws, additive, "o-", color="C2", label="additive target")
    ax.plot(ws, interaction, "s-", color="C3", label="with interaction $w\\,x_a x_b$")
    ax.plot(ws, additive + ws**2, "k:", label="additive + $w^2$ (fail-xor)")
    if sampled is not None:
        w, loss = sampled
        ax.plot([w], [loss], "*", ms=12, color="C1",
                label=f"sampled test set, $w = {w:g}$")
    ax.set_xlabel("interaction weight $w$")
    ax.set_ylabel("compositional (OOD) excess loss on $\\{a, b\\}$")
    ax.set_title("Correct parts, wrong combination")
    ax.legend(fontsize=8)
    return fig


def plot_shared_credit(
    predicted: Any, measured: Any, same_sign: Any, *, ax: Any = None
) -> Figure:
    """Rare features seen only in pairs: measured against predicted coefficient errors.

    Parameters
    ----------
    predicted, measured : array
        Per feature: the error predicted by (fail-share) and beta_hat_a - beta*_a.
    same_sign : array of bool
        Whether the feature's sign agrees with its partner's in their shared row.
    ax : Axes, optional
        Where to draw; a new Figure when None. The dotted line is the diagonal.

    Returns
    -------
    Figure
    """
    predicted, measured = _vector("predicted", predicted), _vector("measured", measured)
    same_sign = np.asarray(same_sign)
    if same_sign.dtype != bool:
        raise TypeError(f"same_sign must be boolean; got dtype {same_sign.dtype}")
    _same_length(predicted=predicted, measured=measured, same_sign=same_sign)
    fig, ax = _new_axes(ax, (6, 4))
    ax.plot(predicted[same_sign], measured[same_sign], "o", color="C0",
            label="signs agree")
    ax.plot(predicted[~same_sign], measured[~same_sign], "s", color="C3",
            label="signs disagree")
    both = np.r_[predicted, measured]
    lo = min(float(both.min(initial=0.0)), 0.0) - 0.05
    hi = max(float(both.max(initial=0.0)), 0.0) + 0.05
    ax.plot([lo, hi], [lo, hi], "k:", lw=1)
    ax.set_xlabel("predicted error (fail-share)")
    ax.set_ylabel(r"measured $\hat\beta_a - \beta^*_a$")
    ax.set_title("Rare features seen only together share the credit")
    ax.legend(fontsize=8)
    return fig


# =========================================================================== end of linear model
