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


# =========================================================================== end of linear model
