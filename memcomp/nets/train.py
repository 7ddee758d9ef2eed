"""Training with the square loss.

Loss: (1/B) sum_b (f(x_b) - y_b)^2 on minibatches; :func:`memcomp.nets.evaluation.evaluate`
reports the same mean squared error over a whole split.

Precision: with ``TrainConfig.amp`` on CUDA, the forward pass of a training step runs under
bfloat16 autocast; the loss is computed in float32, and everything reported after training
(``TrainResult.train_loss``, every evaluation) runs in float32 without autocast.

Weight decay: three readings of "weight decay lambda" (``TrainConfig.weight_decay_mode``).

- ``"l2"``: *coupled* L2, the optimizer's ``weight_decay`` argument, which adds
  ``lambda * theta`` to the gradient of every parameter, biases and norm scales included (for
  SGD, gradient descent on loss + (lambda / 2) ||theta||^2; in Adam the term is then divided
  by the adaptive scale like the rest of the gradient).
- ``"l2_no_norm"``: the same on weight matrices and conv kernels only; biases and
  normalisation parameters (every parameter with fewer than 2 dimensions) are not decayed.
- ``"decoupled"``: AdamW (Loshchilov and Hutter): after each step every parameter shrinks by
  the factor ``1 - lr_t * lambda``, outside the adaptive scale, so over a run the decay alone
  would shrink it by about ``exp(-lambda * sum_t lr_t)``. Adam only.

Determinism: the model's initial weights come from :func:`memcomp.nets.build_model`'s
``seed``; the minibatch order comes from a ``torch.Generator`` seeded with
``TrainConfig.seed``. On a CPU the same seeds give bit-identical losses.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from memcomp.checks import ParameterError, ParameterTypeError, check_choice, check_float, check_int, check_seed
from memcomp.config import progress, resolve_device
from memcomp.nets.evaluation import as_tensors, evaluate, squared_error_mean

__all__ = ["WEIGHT_DECAY_MODES", "TrainConfig", "TrainResult", "as_tensors", "evaluate", "random_shift", "train_model"]

OPTIMIZERS = ("adam", "sgd")
WEIGHT_DECAY_MODES = ("l2", "l2_no_norm", "decoupled")
SCHEDULES = ("cosine", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """How to train one model.

    ``lr_schedule='cosine'`` anneals the learning rate to 0 over the run (helps the
    model fit every training example, rare ones included). ``amp`` uses bfloat16 autocast
    in the training step's forward pass on CUDA only (ignored on CPU; evaluation is always
    float32). ``cudnn_benchmark`` lets cuDNN pick its fastest kernels during this training
    (CUDA only; off by default, the previous setting is restored afterwards).
    ``device=None`` means ``$MEMCOMP_DEVICE`` or cpu.
    ``augment_shift=s > 0`` translates each training sample (all three channels together)
    by a random integer offset in [-s, s] pixels per axis, drawn from the same seeded
    generator as the minibatch order (our choice; off by default).
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    seed: int = 0
    device: str | None = None
    lr_schedule: str = "cosine"
    momentum: float = 0.9
    amp: bool = True
    augment_shift: int = 0
    cudnn_benchmark: bool = False
    weight_decay_mode: str = "l2"

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, low=1, high=100_000)
        check_int("batch_size", self.batch_size, low=1, high=1_000_000)
        check_float("lr", self.lr, low=0.0, high=100.0, low_open=True)
        check_float("weight_decay", self.weight_decay, low=0.0, high=1000.0)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_seed("seed", self.seed)
        if self.device is not None:
            check_choice("device", self.device, ("cpu", "cuda", "auto"))
        check_choice("lr_schedule", self.lr_schedule, SCHEDULES)
        check_float("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        check_choice("amp", self.amp, (True, False))
        check_int("augment_shift", self.augment_shift, low=0, high=8)
        check_choice("cudnn_benchmark", self.cudnn_benchmark, (True, False))
        check_choice("weight_decay_mode", self.weight_decay_mode, WEIGHT_DECAY_MODES)
        if self.weight_decay_mode == "decoupled" and self.optimizer != "adam":
            raise ParameterError(
                "weight_decay_mode", f"weight_decay_mode 'decoupled' needs optimizer 'adam' (AdamW); got optimizer {self.optimizer!r}"
            )


@dataclass(frozen=True)
class TrainResult:
    """``epoch_losses``: mean minibatch loss of each epoch (as seen during training);
    ``train_loss``: mean squared error on the whole training set after training."""

    epoch_losses: tuple[float, ...]
    train_loss: float
    seconds: float
    device: str
    config: TrainConfig = field(repr=False)


def random_shift(x: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image of ``x`` (B, C, H, W) by its own integer offset in [-shift, shift]
    pixels along each axis, filling with zeros (the same offset for all channels of a sample)."""
    b, c, h, w = x.shape
    offsets = torch.randint(-shift, shift + 1, (2, b), generator=generator).to(x.device)
    padded = torch.nn.functional.pad(x, (shift, shift, shift, shift))
    rows = (torch.arange(h, device=x.device)[None, :] + shift - offsets[0][:, None])  # (B, H)
    cols = (torch.arange(w, device=x.device)[None, :] + shift - offsets[1][:, None])  # (B, W)
    rows = rows[:, None, :, None].expand(b, c, h, w + 2 * shift)
    out = padded.gather(2, rows)
    cols = cols[:, None, None, :].expand(b, c, h, w)
    return out.gather(3, cols)


def _parameter_groups(model: nn.Module, config: TrainConfig) -> list[dict[str, Any]]:
    """One group decayed by ``config.weight_decay``; with ``l2_no_norm`` a second, undecayed
    group holds the biases and normalisation parameters (fewer than 2 dimensions)."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.weight_decay_mode != "l2_no_norm":
        return [{"params": params, "weight_decay": config.weight_decay}]
    return [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    groups = _parameter_groups(model, config)
    if config.weight_decay_mode == "decoupled":
        return torch.optim.AdamW(groups, lr=config.lr)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr)
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)


def _autocast(device: str, amp: bool):
    if device == "cuda" and amp:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def uses_mixed_precision(config: TrainConfig, device: str) -> bool:
    """Whether a training step of ``config`` on ``device`` runs under bfloat16 autocast."""
    return bool(config.amp) and device == "cuda"


def train_model(model: nn.Module, train_split: Any, config: TrainConfig, *, desc: str | None = None) -> TrainResult:
    """Train ``model`` in place on ``train_split`` with the square loss.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (B, 3, 28, 28) to (B,); moved to the config's device.
    train_split : DigitSumSplit or (images, targets)
        The training rows (see :func:`memcomp.nets.evaluation.as_tensors`).
    config : TrainConfig
        Optimizer, schedule, epochs, seed and device.
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    TrainResult
        Epoch losses as seen in training and the float32 training MSE afterwards.

    Raises
    ------
    TypeError
        If ``model`` or ``config`` has the wrong type.
    """
    if not isinstance(model, nn.Module):
        raise ParameterTypeError("model", f"model must be a torch.nn.Module; got {type(model).__name__}")
    if not isinstance(config, TrainConfig):
        raise ParameterTypeError("config", f"config must be a TrainConfig; got {type(config).__name__}")
    images, targets = as_tensors(train_split, "train_split")
    device = resolve_device(config.device)
    benchmark = device == "cuda" and config.cudnn_benchmark
    before = torch.backends.cudnn.benchmark
    if benchmark:
        torch.backends.cudnn.benchmark = True
    try:
        return _train(model, images, targets, config, device, desc)
    finally:
        torch.backends.cudnn.benchmark = before


def _train(
    model: nn.Module, images: torch.Tensor, targets: torch.Tensor, config: TrainConfig, device: str, desc: str | None
) -> TrainResult:
    start = time.perf_counter()
    model.to(device)
    images, targets = images.to(device), targets.to(device)
    n = images.shape[0]
    batch = min(config.batch_size, n)
    steps_per_epoch = math.ceil(n / batch)
    total_steps = steps_per_epoch * config.epochs
    opt = _optimizer(model, config)
    sched = None
    if config.lr_schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    gen = torch.Generator().manual_seed(config.seed)
    losses: list[float] = []
    model.train()
    for _ in progress(range(config.epochs), desc=desc or "training", total=config.epochs):
        order = torch.randperm(n, generator=gen).to(device)
        running = torch.zeros((), device=device)
        for i in range(steps_per_epoch):
            idx = order[i * batch : (i + 1) * batch]
            x = images[idx]
            if config.augment_shift:
                x = random_shift(x, config.augment_shift, gen)
            with _autocast(device, config.amp):
                pred = model(x).float()
            loss = torch.mean((pred - targets[idx]) ** 2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            running += loss.detach() * idx.numel()
        losses.append(float(running) / n)
    train_loss = squared_error_mean(model, images, targets)  # float32, no autocast
    return TrainResult(tuple(losses), train_loss, time.perf_counter() - start, device, config)
