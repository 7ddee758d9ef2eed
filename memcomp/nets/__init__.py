"""Neural side of memcomp: encoders, the four composition architectures, training, evaluation.

- :mod:`memcomp.nets.architectures`  the architecture names and labels (no torch import)
- :mod:`memcomp.nets.encoders`  small CNN (fast scale) and ResNet-18 for 28x28 (paper scale)
- :mod:`memcomp.nets.models`    ``sum``, ``linear``, ``two_layer``, ``cross_channel``
- :mod:`memcomp.nets.train`     square-loss training
- :mod:`memcomp.nets.evaluation`  predictions, per-row errors and the mean squared error (fp32)
- :mod:`memcomp.nets.influence`  leave-one-out self-influence by retraining

Names are imported on first use, so ``import memcomp.nets.architectures`` does not load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "ARCHITECTURES": "memcomp.nets.architectures",
    "ARCH_LABELS": "memcomp.nets.architectures",
    "COMPOSING": "memcomp.nets.architectures",
    "ENCODERS": "memcomp.nets.encoders",
    "build_encoder": "memcomp.nets.encoders",
    "build_model": "memcomp.nets.models",
    "TrainConfig": "memcomp.nets.train",
    "TrainResult": "memcomp.nets.train",
    "train_model": "memcomp.nets.train",
    "evaluate": "memcomp.nets.evaluation",
    "predict": "memcomp.nets.evaluation",
    "row_errors": "memcomp.nets.evaluation",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'memcomp.nets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
