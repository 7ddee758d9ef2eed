"""The names of the four architectures of Figure 2 and Table 1 (no torch import).

Defined once here; :mod:`memcomp.nets.models` builds them, experiments and plots name them.
"""

from __future__ import annotations

#: Every architecture, in the order the experiments train and plot them.
ARCHITECTURES: tuple[str, ...] = ("sum", "linear", "two_layer", "cross_channel")

#: The architectures that compose per-digit features (all but ``cross_channel``).
COMPOSING: tuple[str, ...] = ("sum", "linear", "two_layer")

#: Display names, as in the paper.
ARCH_LABELS: dict[str, str] = {
    "sum": "Sum",
    "linear": "Linear",
    "two_layer": "2-layer",
    "cross_channel": "Cross-channel",
}
