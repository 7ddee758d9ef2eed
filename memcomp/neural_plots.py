"""Figures of the neural experiments (Figure 2)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

ARCH_LABELS = {"sum": "Sum", "linear": "Linear", "two_layer": "2-layer", "cross_channel": "Cross-channel"}


def figure2_summary(records: Sequence[Mapping[str, Any]], key: str = "ood_test_loss") -> dict[str, dict[str, np.ndarray]]:
    """Per architecture: ``nines`` (sorted), and ``mean``, ``min``, ``max`` of ``key`` over seeds."""
    if not records:
        raise ValueError("records must hold at least one run; got none")
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


def plot_figure2(payload: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, ax=None, key: str = "ood_test_loss"):
    """OOD test loss against the number of 9s in training, one line per architecture
    (mean over seeds, shaded min-max band), log y axis. Takes a ``run_figure2`` payload or
    its ``records``; returns the matplotlib Figure."""
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.5, 4))
    else:
        fig = ax.figure
    records = payload["records"] if isinstance(payload, Mapping) else payload
    for arch, s in figure2_summary(records, key).items():
        (line,) = ax.plot(s["nines"], s["mean"], marker="o", label=ARCH_LABELS.get(arch, arch))
        ax.fill_between(s["nines"], s["min"], s["max"], color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of 9s in training")
    ax.set_ylabel("OOD test loss (MSE)" if key == "ood_test_loss" else key)
    ax.set_title("Sum of three digits: test samples contain 9s")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig
