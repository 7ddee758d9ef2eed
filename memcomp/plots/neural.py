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
    "per_seed_ratio",
    "plot_figure2",
    "plot_loss_by_frequency",
    "plot_architectures",
    "plot_digit_frequencies",
    "plot_digit_samples",
    "plot_image_rows",
    "plot_influence_by_symbol",
    "plot_nearest_distances",
    "plot_rarest_share",
    "plot_self_influence",
    "plot_symbol_task",
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


def per_seed_ratio(records: Any, numerator: str, denominator: str) -> dict[str, np.ndarray]:
    """Per architecture, ``numerator / denominator`` of each Figure 2 run as an array of shape
    (seeds, settings): rows in seed order, columns in the order of ``nines_in_train``.

    With ``numerator="ood_test_loss"`` and ``denominator="seen_combo_test_loss"`` this is the
    composition effect on the 9s: near 1 for a model that composes, large for one that does not.

    Raises
    ------
    ValueError
        If there are no records, a key is not a record field, or the runs do not cover every
        (seed, setting) once.
    """
    records = _records(records)
    if not records:
        raise ParameterError("records", "records must hold at least one run; got none")
    for name, key in (("numerator", numerator), ("denominator", denominator)):
        if key not in records[0]:
            fields = sorted(k for k, v in records[0].items() if isinstance(v, (int, float)))
            raise ParameterError(name, f"{name} must be one of {', '.join(fields)}; got {key!r}")
    seeds = sorted({int(r["seed"]) for r in records})
    nines = sorted({int(r["nines_in_train"]) for r in records})
    out: dict[str, np.ndarray] = {}
    for arch in dict.fromkeys(r["architecture"] for r in records):
        ratio = np.full((len(seeds), len(nines)), np.nan)
        for r in records:
            if r["architecture"] == arch:
                i, j = seeds.index(int(r["seed"])), nines.index(int(r["nines_in_train"]))
                if not np.isnan(ratio[i, j]):
                    raise ParameterError("records", f"records must hold one run per (seed, setting); {arch} has two for seed {seeds[i]}, {nines[j]} nines")
                ratio[i, j] = float(r[numerator]) / float(r[denominator])
        if np.isnan(ratio).any():
            raise ParameterError("records", f"records must cover every (seed, setting); {arch} misses some")
        out[arch] = ratio
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


# --- Figures of the Part IV chapters (presentation; the lessons stay in the chapters) -----


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                fc=color, ec="black", lw=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax: Axes, x0: float, y0: float, x1: float, y1: float) -> None:
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle="->", lw=1))


def plot_architectures(architectures: Sequence[str] = ARCHITECTURES) -> Figure:
    """Block diagrams of the architectures: where do the three digits meet?

    The composing models read each channel with one shared encoder phi and differ in their
    head; Cross-channel reads the stacked 3-channel image with one encoder psi.
    """
    for arch in architectures:
        if arch not in ARCH_LABELS:
            raise ParameterError("architectures", f"architectures must be among {', '.join(ARCH_LABELS)}; got {arch!r}")
    enc, head_color, inp, out = "#cfe2f3", "#fce5cd", "#eeeeee", "#d9ead3"
    heads = {"sum": "add: $\\sum_c w^\\top\\phi(x_c) + b$",
             "linear": "linear layer on\n$[\\phi(x_1);\\phi(x_2);\\phi(x_3)]$",
             "two_layer": "two-layer MLP on\n$[\\phi(x_1);\\phi(x_2);\\phi(x_3)]$"}
    fig = Figure(figsize=(3 * len(architectures), 4.2))
    axes = np.atleast_1d(fig.subplots(1, len(architectures)))
    for ax, arch in zip(axes, architectures):
        ax.set_xlim(0, 3)
        ax.set_ylim(0, 4.2)
        ax.axis("off")
        ax.set_title(ARCH_LABELS[arch], fontsize=11)
        if arch == "cross_channel":
            _box(ax, 1.5, 0.4, 2.6, 0.45, "image $(x_1, x_2, x_3)$: 3 x 28 x 28", inp)
            _box(ax, 1.5, 1.7, 2.6, 1.1, "one encoder $\\psi$ on all\n3 channels at once\n(digits mixed in layer 1)", enc)
            _box(ax, 1.5, 3.0, 2.6, 0.5, "linear readout $w^\\top \\psi(x) + b$", head_color)
            _arrow(ax, 1.5, 0.63, 1.5, 1.15)
            _arrow(ax, 1.5, 2.25, 1.5, 2.75)
            _arrow(ax, 1.5, 3.25, 1.5, 3.77)
        else:
            for i, xc in enumerate((0.5, 1.5, 2.5)):
                _box(ax, xc, 0.4, 0.8, 0.45, f"$x_{i + 1}$", inp)
                _box(ax, xc, 1.7, 0.8, 0.8, "$\\phi$\n(shared)", enc)
                _arrow(ax, xc, 0.63, xc, 1.3)
                _arrow(ax, xc, 2.1, 1.5 + 0.5 * (xc - 1.5), 2.7)
            _box(ax, 1.5, 3.0, 2.8, 0.6, heads[arch], head_color)
            _arrow(ax, 1.5, 3.3, 1.5, 3.77)
        _box(ax, 1.5, 3.95, 1.4, 0.35, "$\\hat y$ = predicted sum", out)
    fig.suptitle("The four architectures: where do the three digits meet?")
    fig.tight_layout()
    return fig


def _no_ticks(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def plot_digit_samples(split: Any, rows: Sequence[int], title: str) -> Figure:
    """Rows of a digit-sum split: each channel, and the three stacked as one colour image."""
    fig = Figure(figsize=(6.4, 1.7 * len(rows)))
    axes = fig.subplots(len(rows), 4, squeeze=False)
    for r, i in enumerate(rows):
        for c in range(3):
            axes[r, c].imshow(split.images[i, c], cmap="gray_r")
            axes[r, c].set_title(f"channel {c + 1}: digit {split.digits[i, c]}", fontsize=8)
        axes[r, 3].imshow(np.moveaxis(split.images[i], 0, -1))
        d = split.digits[i]
        axes[r, 3].set_title(f"{d[0]} + {d[1]} + {d[2]} = {split.target[i]:.0f}", fontsize=9)
        for ax in axes[r]:
            _no_ticks(ax)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_digit_frequencies(expected: np.ndarray, observed: np.ndarray, *, ax: Axes | None = None) -> Figure:
    """Bars of each digit's expected (Zipf law) and observed count in the training slots."""
    fig, (ax,), own = _axes(None if ax is None else [ax], 1, (6.5, 3.8))
    digits = np.arange(len(expected))
    ax.bar(digits - 0.2, expected, width=0.4, label="Zipf law (exponent 2) x slots")
    ax.bar(digits + 0.2, observed, width=0.4, label="observed in our training set")
    ax.set_yscale("log")
    ax.set_xticks(digits)
    ax.set_xlabel("digit")
    ax.set_ylabel("occurrences in the training slots")
    ax.set_title("Training digit frequencies: 0 most common, 9 rarest")
    ax.legend()
    if own:
        fig.tight_layout()
    return fig


def plot_image_rows(rows: Mapping[str, np.ndarray], title: str, *, columns: int = 8) -> Figure:
    """A gallery: one row of up to ``columns`` images per entry of ``rows`` (label -> images)."""
    fig = Figure(figsize=(columns, 1.2 * len(rows)))
    axes = fig.subplots(len(rows), columns, squeeze=False)
    for r, (name, images) in enumerate(rows.items()):
        for c in range(columns):
            _no_ticks(axes[r, c])
            if c < len(images):
                axes[r, c].imshow(images[c], cmap="gray_r")
        axes[r, 0].set_ylabel(name, fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_symbol_task(task: Any, *, pair: int = 0) -> Figure:
    """Top: the one-shot symbols with their labels. Bottom: a training row holding a symbol
    and a test pair of two symbols, channel by channel."""
    k = len(task.symbol_images)
    fig = Figure(figsize=(11, 2.9))
    axes = fig.subplots(2, max(k, 8))
    for j in range(k):
        axes[0, j].imshow(task.symbol_images[j], cmap="gray")
        axes[0, j].set_title(f"label {task.symbol_labels[j]}", fontsize=8)
    row = int(task.rare_rows[0])
    for c in range(3):
        axes[1, c].imshow(task.train.images[row, c], cmap="gray")
        axes[1, 5 + c].imshow(task.test.images[pair, c], cmap="gray")
    for split, i, col, name in ((task.train, row, 1, "a training row"), (task.test, pair, 6, "a test pair")):
        axes[1, col].set_title(f"{name}: {' + '.join(map(str, split.digits[i]))} = {split.target[i]:.0f}", fontsize=8)
    for ax in axes.ravel():
        _no_ticks(ax)
        if not ax.images:
            ax.axis("off")
    fig.suptitle("Top: the one-shot symbols. Bottom: a training row and a test pair", fontsize=9)
    return fig


def plot_nearest_distances(ordinary: np.ndarray, pairs: np.ndarray, *, ax: Axes | None = None) -> Figure:
    """Histograms of the distance from each test row to its nearest training row."""
    fig, (ax,), own = _axes(None if ax is None else [ax], 1, (6, 3.5))
    bins = np.linspace(0, max(np.max(pairs), np.max(ordinary)), 40)
    ax.hist(ordinary, bins=bins, alpha=0.6, label="ordinary test rows")
    ax.hist(pairs, bins=bins, alpha=0.6, label="test pairs of two rare symbols")
    ax.set_xlabel("Euclidean distance to the nearest training row")
    ax.set_ylabel("test rows")
    ax.set_title("Test pairs are not near-copies of training rows")
    ax.legend()
    if own:
        fig.tight_layout()
    return fig


def plot_rarest_share(runs: Mapping[str, Any], *, architecture: str = "sum", weight_decay: float = 0.5,
                      ax: Axes | None = None) -> Figure:
    """Training MSE against the share of the digits held by a row's rarest class, one line per
    run (label -> Table 1 result, payload or records), one-shot rows as stars at one slot."""
    from memcomp.experiments.table1_report import loss_by_frequency, table1_summary

    fig, (ax,), own = _axes(None if ax is None else [ax], 1, (6.5, 4))
    for k, (label, run) in enumerate(runs.items()):
        records = _records(run)
        draws, loss = loss_by_frequency(records, architecture, weight_decay)
        ax.plot(draws / draws.sum(), loss, "o-", color=f"C{k}", label=label)
        one_shot = table1_summary(records, "train_loss_rare")[architecture][weight_decay]
        ax.plot([1 / draws.sum()], [one_shot], "*", ms=13, color=f"C{k}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_xlabel("share of the digits: row's rarest class")
    ax.set_ylabel(f"training MSE at weight decay {weight_decay:g}")
    ax.set_title(f"{ARCH_LABELS.get(architecture, architecture)} model: digit rows (lines) and one-shot rows (stars)")
    ax.legend(fontsize=8)
    if own:
        fig.tight_layout()
    return fig


def plot_self_influence(influence: Sequence[Mapping[str, Any]], test_loss: Mapping[float, float], *,
                        axes: Sequence[Axes] | None = None) -> Figure:
    """Left: self-influence of one-shot and ordinary rows at each weight decay. Right: mean
    self-influence of the one-shot rows against the test-pair loss (``test_loss``: weight
    decay -> loss), one point per weight decay."""
    fig, axes, own = _axes(axes, 2, (10, 3.8))
    wds = sorted({float(r["weight_decay"]) for r in influence})
    mean_rare = []
    for k, wd in enumerate(wds):
        for kind, color, label in (("rare", "C3", "one-shot symbol rows"), ("ordinary", "C0", "ordinary rows")):
            vals = [r["self_influence"] for r in influence if r["weight_decay"] == wd and r["kind"] == kind]
            axes[0].scatter(np.full(len(vals), k) + (0.1 if kind == "rare" else -0.1), vals, color=color,
                            label=label if k == 0 else None)
            if kind == "rare":
                mean_rare.append(float(np.mean(vals)))
    axes[0].set_xticks(range(len(wds)), [f"WD {w:g}" for w in wds])
    axes[0].set_yscale("symlog", linthresh=0.1)
    axes[0].set_ylabel("mem(i): own loss without row minus with")
    axes[0].set_title("Self-influence")
    axes[0].legend()
    axes[0].grid(True, alpha=0.3)
    losses = [test_loss[w] for w in wds]
    axes[1].plot(mean_rare, losses, "o-", color="C3")
    for w, x, y in zip(wds, mean_rare, losses):
        axes[1].annotate(f"WD {w:g}", (x, y), textcoords="offset points", xytext=(6, 4))
    axes[1].set_xscale("symlog", linthresh=0.1)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("mean self-influence of the one-shot rows")
    axes[1].set_ylabel("test-pair loss")
    axes[1].set_title("High memorization, low test-pair loss")
    axes[1].grid(True, which="both", alpha=0.3)
    if own:
        fig.tight_layout()
    return fig


def plot_influence_by_symbol(influence: Sequence[Mapping[str, Any]], *, ax: Axes | None = None) -> Figure:
    """One point per one-shot symbol row (and seed): its self-influence mem(i) against the rise
    of the loss on the test pairs that hold its symbol when the row is removed
    (``pair_influence``). Colour: architecture; filled: the smallest weight decay, open: the
    largest."""
    rows = [r for r in influence if r["kind"] == "rare" and r.get("pair_influence") is not None]
    if not rows:
        raise ParameterError("influence", "influence must hold leave-one-out records of one-shot rows with pair losses")
    fig, (ax,), own = _axes(None if ax is None else [ax], 1, (6.5, 4.5))
    wds = sorted({float(r["weight_decay"]) for r in rows})
    archs = [a for a in ARCHITECTURES if any(r["architecture"] == a for r in rows)]
    for k, arch in enumerate(archs):
        for wd in wds:
            pts = [(r["self_influence"], r["pair_influence"]) for r in rows if r["architecture"] == arch and r["weight_decay"] == wd]
            x, y = np.array(pts).T
            filled = wd == wds[0]
            ax.scatter(x, y, s=36, color=f"C{k}", facecolors=f"C{k}" if filled else "none",
                       label=f"{ARCH_LABELS[arch]}, WD {wd:g}")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_xlabel("self-influence mem(i) of the symbol's row")
    ax.set_ylabel("rise of the symbol's test-pair loss without the row")
    ax.set_title("One point per one-shot row")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    if own:
        fig.tight_layout()
    return fig
