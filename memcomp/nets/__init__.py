"""Neural side of memcomp: encoders, the four composition architectures, training.

- :mod:`memcomp.nets.encoders`  small CNN (fast scale) and ResNet-18 for 28x28 (paper scale)
- :mod:`memcomp.nets.models`    ``sum``, ``linear``, ``two_layer``, ``cross_channel``
- :mod:`memcomp.nets.train`     square-loss training and evaluation
"""

from memcomp.nets.encoders import ENCODERS, build_encoder
from memcomp.nets.models import ARCHITECTURES, build_model
from memcomp.nets.train import TrainConfig, TrainResult, evaluate, train_model

__all__ = [
    "ARCHITECTURES",
    "ENCODERS",
    "TrainConfig",
    "TrainResult",
    "build_encoder",
    "build_model",
    "evaluate",
    "train_model",
]
