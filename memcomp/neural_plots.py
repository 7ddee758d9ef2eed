"""Figures of the neural experiments (Figure 2 and Table 1).

Every function takes ``ax=`` (or ``axes=``) to draw into a caller's figure, and otherwise
makes its own :class:`matplotlib.figure.Figure` (no pyplot state: nothing to close, nothing
shown by ``plt.show()``; in a notebook show it with ``display(fig)`` or as the cell's last
expression). Each returns the figure it drew on. Inputs are tidy records, a JSON payload
holding them, or a :class:`~memcomp.experiments.table1.Table1Result`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from memcomp.checks import ParameterError
from memcomp.nets.architectures import ARCH_LABELS, ARCHITECTURES, COMPOSING

__all__ = [
    "ARCHITECTURES",
    "ARCH_LABELS",
    "COMPOSING",
    "figure2_summary",
    "plot_figure2",
    "plot_loss_by_frequency",
    "plot_table1",
]


def _records(result: Any) -> Sequence[Mapping[str, Any]]:
    from memcomp.experiments.table1_report import records_of

    return records_of(result)


def figure2_summary(records: Any, key: str = "ood_test_loss") -> dict[str, dict[str, np.ndarray]]:
    """Per architecture: ``nines`` (sorted), and ``mean``, ``min``, ``max`` of ``key`` over seeds.

    Parameters
    ----------
    records : sequence of dict or payload
        Figure 2 records (or a payload holding them).
    key : str
        The record field to summarise.

    Raises
    ------
    ValueError
        If there are no records.
    """
    records = _records(records)
    if not records:
        raise ParameterError("records", "records must hold at least one run; got none")
    out: dict[str, dict[str, np.ndarray]] = {}
    for arch in dict.fromkeys(r["architecture"] for r in records):
        rows = [r for r in records if r["architecture"] == arch]
        nines = np.array(sorted({int(r["nines_in_train"]) for r in rows}))
        values = [np.array([float(r[key]) for r in rows if int(r["nines_in_train"]) == m]) for m in nines]
        out[arch] = {
            "nines": nines,
            "mean": np.array([v.mean() for v in values]),
            "min": np.array([v.min() for v in values]),
            "max": np.array([v.max() for v in values]),
        }
    return out


def plot_figure2(payload: Any, *, ax: Axes | None = None, key: str = "ood_test_loss") -> Figure:
    """OOD test loss against the number of 9s in training, one line per architecture
    (mean over seeds, shaded min-max band), log axes.

    Parameters
    ----------
    payload : payload or records
        A ``run_figure2`` payload or its ``records``.
    ax : matplotlib Axes, optional
        Where to draw; default a new 5.5 x 4 inch figure.
    key : str
        The record field on the y axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    own = ax is None
    if ax is None:
        fig = Figure(figsize=(5.5, 4))
        ax = fig.add_subplot()
    fig = ax.figure
    for arch, s in figure2_summary(payload, key).items():
        (line,) = ax.plot(s["nines"], s["mean"], marker="o", label=ARCH_LABELS.get(arch, arch))
        ax.fill_between(s["nines"], s["min"], s["max"], color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of 9s in training")
    ax.set_ylabel("OOD test loss (MSE)" if key == "ood_test_loss" else key)
    ax.set_title("Sum of three digits: test samples contain 9s")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    if own:
        fig.tight_layout()
    return fig


def _axes(axes: Sequence[Axes] | None, n: int, size: tuple[float, float], **kwargs: Any) -> tuple[Figure, Sequence[Axes], bool]:
    if axes is None:
        fig = Figure(figsize=size)
        return fig, list(np.atleast_1d(fig.subplots(1, n, squeeze=False, **kwargs)[0])), True
    axes = list(np.atleast_1d(axes))
    if len(axes) < n:
        raise ParameterError("axes", f"axes must hold {n} Axes; got {len(axes)}")
    return axes[0].figure, axes, False


def plot_table1(result: Any, *, axes: Sequence[Axes] | None = None) -> Figure:
    """Two panels against weight decay, one line per architecture (means over seeds, log y):
    the rare-symbol pair test loss, and the training loss (all rows, solid; the one-shot
    rows, dotted). Weight decay 0 is drawn at the left edge of a symlog x axis.

    Parameters
    ----------
    result : Table1Result, payload or records
    axes : two matplotlib Axes, optional
        Where to draw; default a new 10 x 4 inch figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from memcomp.experiments.table1_report import table1_summary

    records = _records(result)
    fig, axes, own = _axes(axes, 2, (10, 4))
    test = table1_summary(records, "test_loss")
    train = table1_summary(records, "train_loss")
    rare = table1_summary(records, "train_loss_rare")
    for arch, curve in test.items():
        label = ARCH_LABELS.get(arch, arch)
        w = np.array(list(curve))
        (line,) = axes[0].plot(w, list(curve.values()), marker="o", label=label)
        axes[1].plot(w, [train[arch][x] for x in w], marker="o", color=line.get_color(), label=f"{label}: all rows")
        if arch in rare:
            axes[1].plot(w, [rare[arch][x] for x in w], marker="x", ls=":", color=line.get_color(), label=f"{label}: one-shot rows")
    for ax, title in zip(axes, ("Test pairs of two rare symbols", "Training loss")):
        ax.set_xscale("symlog", linthresh=0.05)
        ax.set_yscale("log")
        ax.set_xlabel("weight decay (coupled L2, Adam)")
        ax.set_ylabel("mean squared error")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    axes[1].legend(fontsize=7, ncol=2)
    if own:
        fig.tight_layout()
    return fig


def plot_loss_by_frequency(
    result: Any, *, architectures: Sequence[str] = COMPOSING, axes: Sequence[Axes] | None = None
) -> Figure:
    """One panel per architecture: training MSE against the share of the training digits that
    the row's rarest class holds (log-log), for the smallest and the largest weight decay:
    digits 0-9 as a line (rows grouped by their largest digit), the one-shot symbol rows as a
    star at the share of a single slot.

    Parameters
    ----------
    result : Table1Result, payload or records
    architectures : sequence of str
        One panel each (default the three composing models).
    axes : matplotlib Axes, optional
        One per architecture; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from memcomp.experiments.table1_report import loss_by_frequency, table1_summary

    records = _records(result)
    wds = sorted({float(r["weight_decay"]) for r in records})
    fig, axes, own = _axes(axes, len(architectures), (3.6 * len(architectures), 3.6), sharey=True)
    rare = table1_summary(records, "train_loss_rare")
    for ax, arch in zip(axes, architectures):
        for wd, color in ((wds[0], "C0"), (wds[-1], "C3")):
            draws, loss = loss_by_frequency(records, arch, wd)
            share = draws / draws.sum()
            ax.plot(share, loss, "o-", color=color, label=f"digit rows, WD {wd:g}")
            for d in (0, 9):
                if np.isfinite(loss[d]):
                    ax.annotate(str(d), (share[d], loss[d]), textcoords="offset points", xytext=(3, 3), fontsize=7)
            ax.plot([1 / draws.sum()], [rare[arch][wd]], "*", ms=12, color=color, label=f"one-shot rows, WD {wd:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("share of the digits: row's rarest class")
        ax.set_title(ARCH_LABELS.get(arch, arch))
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("training MSE")
    axes[0].legend(fontsize=7)
    if own:
        fig.tight_layout()
    return fig
