"""The four architectures of Figure 2 and Table 1.

Input: (B, 3, 28, 28), three digits stacked as channels. Output: (B,), the predicted sum.
Let phi be one encoder shared by the three channels (our choice) and x_1, x_2, x_3 the channels.

- ``sum``:           f(x) = sum_c  w^T phi(x_c) + b             (exactly additive over channels)
- ``linear``:        f(x) = W [phi(x_1); phi(x_2); phi(x_3)] + b (additive, a weight per position)
- ``two_layer``:     f(x) = MLP([phi(x_1); phi(x_2); phi(x_3)])  (composes features non-linearly)
- ``cross_channel``: f(x) = w^T psi(x) + b, psi one network on the 3-channel image, so the
  digits are mixed in its first layer.
"""

from __future__ import annotations

import torch
from torch import nn

from memcomp.checks import check_choice, check_int, check_seed
from memcomp.nets.architectures import ARCHITECTURES
from memcomp.nets.encoders import ENCODERS, build_encoder

__all__ = ["ARCHITECTURES", "build_model"]

CHANNELS = 3


def _check_input(x: torch.Tensor) -> None:
    if x.ndim != 4 or x.shape[1] != CHANNELS:
        raise ValueError(f"x must have shape (batch, {CHANNELS}, height, width); got {tuple(x.shape)}")


class _PerChannel(nn.Module):
    """Runs the shared encoder on every channel at once: (B, 3, H, W) -> (B, 3, F)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        return self.encoder(x.reshape(b * c, 1, h, w)).reshape(b, c, -1)


class SumModel(nn.Module):
    """Each digit to one number; the prediction is their sum."""

    def __init__(self, encoder: nn.Module, feature_dim: int) -> None:
        super().__init__()
        self.features = _PerChannel(encoder)
        self.readout = nn.Linear(feature_dim, 1)

    def per_channel(self, x: torch.Tensor) -> torch.Tensor:
        """The value assigned to each channel, (B, 3)."""
        _check_input(x)
        return self.readout(self.features(x)).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.per_channel(x).sum(dim=1)


class ConcatModel(nn.Module):
    """Per-digit features concatenated, then a head (one linear layer or a two-layer MLP)."""

    def __init__(self, encoder: nn.Module, feature_dim: int, hidden: int | None) -> None:
        super().__init__()
        self.features = _PerChannel(encoder)
        width = CHANNELS * feature_dim
        if hidden is None:
            self.head: nn.Module = nn.Linear(width, 1)
        else:
            self.head = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x)
        return self.head(self.features(x).flatten(1)).squeeze(-1)


class CrossChannelModel(nn.Module):
    """One network on the whole 3-channel image."""

    def __init__(self, encoder: nn.Module, feature_dim: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.readout = nn.Linear(feature_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x)
        return self.readout(self.encoder(x)).squeeze(-1)


def build_model(
    architecture: str,
    encoder: str = "small_cnn",
    feature_dim: int = 64,
    *,
    width: int | None = None,
    hidden: int | None = None,
    seed: int | None = None,
) -> nn.Module:
    """One of ``sum``, ``linear``, ``two_layer``, ``cross_channel`` on a ``small_cnn``, ``plain_cnn`` or
    ``resnet18`` encoder; input (B, 3, 28, 28), output (B,).

    ``hidden`` is the two-layer head's width (default ``feature_dim``). With ``seed`` the
    initial weights are drawn from ``torch.manual_seed(seed)`` inside a forked RNG, so the
    global torch RNG is left untouched.
    """
    check_choice("architecture", architecture, ARCHITECTURES)
    check_choice("encoder", encoder, ENCODERS)
    feature_dim = check_int("feature_dim", feature_dim, low=1, high=65536)
    if hidden is not None:
        hidden = check_int("hidden", hidden, low=1, high=65536)
    if width is not None:
        width = check_int("width", width, low=2, high=4096)
    if seed is not None:
        seed = check_seed("seed", seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return _build(architecture, encoder, feature_dim, width, hidden)
    return _build(architecture, encoder, feature_dim, width, hidden)


def _build(architecture: str, encoder: str, feature_dim: int, width: int | None, hidden: int | None) -> nn.Module:
    in_channels = CHANNELS if architecture == "cross_channel" else 1
    enc = build_encoder(encoder, in_channels=in_channels, feature_dim=feature_dim, width=width)
    if architecture == "sum":
        return SumModel(enc, feature_dim)
    if architecture == "linear":
        return ConcatModel(enc, feature_dim, hidden=None)
    if architecture == "two_layer":
        return ConcatModel(enc, feature_dim, hidden=feature_dim if hidden is None else hidden)
    return CrossChannelModel(enc, feature_dim)
