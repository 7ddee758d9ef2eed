"""Table 1's report: the paper's numbers, summaries of the records, markdown tables.

Pure numpy on tidy records (see :mod:`memcomp.experiments.table1`); the figures are in
:mod:`memcomp.plots.neural`. Every function takes a :class:`~memcomp.experiments.table1.Table1Result`,
a JSON payload (a mapping with ``"records"``) or the records themselves.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from memcomp.checks import ParameterError
from memcomp.nets.architectures import ARCH_LABELS

#: The paper's Table 1 (Omniglot symbols, ResNet-18, 32,000 samples): (test, train) loss.
PAPER_TABLE1: dict[str, dict[float, tuple[float, float]]] = {
    "sum": {0.0: (0.1760, 0.0004), 0.5: (2.8744, 0.0245)},
    "linear": {0.0: (0.1662, 0.0004), 0.5: (1.5539, 0.0505)},
    "two_layer": {0.0: (0.1351, 0.0010), 0.5: (0.6447, 0.0264)},
    "cross_channel": {0.0: (22.9671, 0.0023), 0.5: (23.6506, 0.0375)},
}

#: The weight decays of the paper's table.
PAPER_WEIGHT_DECAYS: tuple[float, float] = (0.0, 0.5)


def records_of(result: Any) -> Sequence[Mapping[str, Any]]:
    """The records of a result object (``.records``), a payload (``["records"]``) or the records."""
    if hasattr(result, "records"):
        return result.records
    if isinstance(result, Mapping):
        return result["records"]
    return result


def table_weight_decays(result: Any) -> tuple[float, ...]:
    """The table's columns: the config's ``weight_decays`` when ``result`` carries its config,
    else every weight decay of the records that every architecture was trained with."""
    config = getattr(result, "config", None)
    if config is None and isinstance(result, Mapping):
        config = result.get("config")
    if config is not None:
        wds = config["weight_decays"] if isinstance(config, Mapping) else config.weight_decays
        return tuple(float(w) for w in wds)
    records = records_of(result)
    per_arch: dict[str, set[float]] = {}
    for r in records:
        per_arch.setdefault(r["architecture"], set()).add(float(r["weight_decay"]))
    common = set.intersection(*per_arch.values()) if per_arch else set()
    return tuple(sorted(common))


def table1_summary(result: Any, key: str = "test_loss") -> dict[str, dict[float, float]]:
    """{architecture: {weight_decay: mean of ``key`` over seeds}}, architectures in record order,
    weight decays sorted; records whose ``key`` is None are skipped.

    Raises
    ------
    ValueError
        If there are no records.
    """
    records = records_of(result)
    if not records:
        raise ParameterError("records", "records must hold at least one run; got none")
    out: dict[str, dict[float, list[float]]] = {}
    for r in records:
        if r.get(key) is None:
            continue
        out.setdefault(r["architecture"], {}).setdefault(float(r["weight_decay"]), []).append(float(r[key]))
    return {a: {w: float(np.mean(v)) for w, v in sorted(d.items())} for a, d in out.items()}


def loss_by_largest_digit(split: Any, errors: np.ndarray) -> list[float | None]:
    """Mean of the per-row ``errors`` over the rows of ``split`` that hold no rare symbol,
    grouped by the row's largest digit.

    Under the Zipf law P(j) ~ (j + 1)^-2 a larger digit is a rarer one, so entry d is the loss
    on the rows whose rarest class is d: plotted against ``split.digit_draws()[d]`` it shows how
    the fit depends on how often a row's rarest content was seen (the one-shot rows are the
    extreme, seen once).

    Parameters
    ----------
    split : DigitSumSplit
        With ``digits`` and ``rare`` (N, 3).
    errors : array of shape (N,)
        Per-row squared errors (:func:`memcomp.nets.evaluation.row_errors`).

    Returns
    -------
    list of 10 float or None
        Entry d: the mean over rows with max(digits) = d (None where there is none).
    """
    errors = np.asarray(errors, dtype=np.float64)
    if errors.shape != (len(split),):
        raise ParameterError("errors", f"errors must have shape ({len(split)},), one per row of split; got {errors.shape}")
    largest = np.where(split.rare.any(axis=1), -1, split.digits.max(axis=1))
    return [float(errors[largest == d].mean()) if np.any(largest == d) else None for d in range(10)]


def loss_by_frequency(result: Any, architecture: str, weight_decay: float) -> tuple[np.ndarray, np.ndarray]:
    """(draws, loss), each shape (10,), means over seeds, for one architecture and weight decay.

    ``draws[d]``: how many training slots hold digit d; ``loss[d]``: the training MSE on the
    rows whose largest digit is d (nan where no seed has such a row).

    Raises
    ------
    ValueError
        If no record has that architecture and weight decay, or records lack the per-digit losses.
    """
    records = records_of(result)
    chosen = [r for r in records if r["architecture"] == architecture and float(r["weight_decay"]) == float(weight_decay)]
    if not chosen:
        raise ParameterError(
            "architecture", f"records hold no run of architecture {architecture!r} with weight_decay {weight_decay!r}"
        )
    if any(r.get("train_loss_by_largest_digit") is None for r in chosen):
        raise ParameterError("records", "records must have train_loss_by_largest_digit (written by run_table1)")
    draws = np.mean([r["train_digit_draws"] for r in chosen], axis=0)
    loss = np.array([[np.nan if v is None else v for v in r["train_loss_by_largest_digit"]] for r in chosen], float)
    return draws, np.array([np.nan if np.all(np.isnan(c)) else np.nanmean(c) for c in loss.T])


def table1_markdown(result: Any, *, paper: bool = True) -> str:
    """The table as markdown: test / train loss (means over seeds) per architecture and weight decay.

    The columns are the config's ``weight_decays`` (see :func:`table_weight_decays`; extra
    curve points are not columns), then, with two of them, the ratio of the test losses. The
    paper's numbers are added when ``paper`` and the columns are the paper's (0 and 0.5).
    Every architecture gets a row; a missing value shows as ``-``.
    """
    records = records_of(result)
    test, train = table1_summary(records, "test_loss"), table1_summary(records, "train_loss")
    wds = table_weight_decays(result)
    ratio = len(wds) == 2
    show_paper = paper and wds == PAPER_WEIGHT_DECAYS
    head = "| model | " + " | ".join(f"WD = {w:g}: test / train" for w in wds) + " |"
    if ratio:
        head += " test ratio |"
    if show_paper:
        head += " paper WD = 0 | paper WD = 0.5 |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for arch in dict.fromkeys(r["architecture"] for r in records):
        t, tr = test.get(arch, {}), train.get(arch, {})
        cells = [f"{t[w]:.3f} / {tr[w]:.4f}" if w in t and w in tr else "-" for w in wds]
        row = f"| {ARCH_LABELS.get(arch, arch)} | " + " | ".join(cells) + " |"
        if ratio:
            lo, hi = wds
            row += f" {t[hi] / t[lo]:.1f}x |" if lo in t and hi in t and t[lo] > 0 else " - |"
        if show_paper:
            p = PAPER_TABLE1.get(arch)
            row += f" {p[0.0][0]:.4f} / {p[0.0][1]:.4f} | {p[0.5][0]:.4f} / {p[0.5][1]:.4f} |" if p else " | |"
        lines.append(row)
    return "\n".join(lines)


def influence_markdown(records: Sequence[Mapping[str, Any]]) -> str:
    """Leave-one-out results as markdown: per weight decay and kind of row, the mean (min to max)
    of the self-influence, and for one-shot rows the test-pair loss with and without the row."""
    from memcomp.nets.influence import summarize_influence

    mem = summarize_influence(records, "self_influence")
    full = summarize_influence(records, "pair_loss_full")
    loo = summarize_influence(records, "pair_loss_loo")
    lines = [
        "| model | WD | rows | rows x seeds | self-influence: mean (min to max) | test-pair loss with / without the row |",
        "|---|---|---|---|---|---|",
    ]
    for (arch, wd, kind), v in sorted(mem.items()):
        pair = f"{full[(arch, wd, kind)]['mean']:.2f} / {loo[(arch, wd, kind)]['mean']:.2f}" if (arch, wd, kind) in full else "-"
        lines.append(
            f"| {ARCH_LABELS.get(arch, arch)} | {wd:g} | {'one-shot' if kind == 'rare' else 'ordinary'} | {v['count']} "
            f"| {v['mean']:.2f} ({v['min']:.2f} to {v['max']:.2f}) | {pair} |"
        )
    return "\n".join(lines)
