"""Evaluation: predictions, per-row squared errors and the mean squared error, in fp32.

One loop (:func:`_predictions`) runs a model over a split in batches, in evaluation mode,
without gradients and without autocast (float32 on every device; mixed precision is only
ever used inside a training step, see :mod:`memcomp.nets.train`). The model's training mode
is restored afterwards.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from memcomp.checks import ParameterTypeError, check_int

#: Rows per forward pass.
EVAL_BATCH = 1024


def as_tensors(split: Any, name: str = "split") -> tuple[torch.Tensor, torch.Tensor]:
    """(images float32 (N, 3, H, W), targets float32 (N,)) of a split.

    Parameters
    ----------
    split : DigitSumSplit or (images, targets)
        A split with ``tensors()`` (e.g. :class:`memcomp.data.DigitSumSplit`) or a pair.
    name : str
        The parameter's name in error messages.

    Raises
    ------
    TypeError
        If ``split`` is neither.
    ValueError
        If the shapes disagree, the split is empty or holds nan/inf.
    """
    if hasattr(split, "tensors"):
        images, targets = split.tensors()
    elif isinstance(split, (tuple, list)) and len(split) == 2:
        images, targets = split
    else:
        raise ParameterTypeError(
            name, f"{name} must be a split with .tensors() or an (images, targets) pair; got {type(split).__name__}"
        )
    images = torch.as_tensor(images, dtype=torch.float32)
    targets = torch.as_tensor(targets, dtype=torch.float32)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"{name} images must have shape (N, 3, H, W); got {tuple(images.shape)}")
    if targets.shape != (images.shape[0],):
        raise ValueError(f"{name} targets must have shape ({images.shape[0]},); got {tuple(targets.shape)}")
    if images.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample; got 0")
    if not (torch.isfinite(images).all() and torch.isfinite(targets).all()):
        raise ValueError(f"{name} must contain only finite numbers (no nan or inf)")
    return images, targets


def _check_model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ParameterTypeError("model", f"model must be a torch.nn.Module; got {type(model).__name__}")
    return model


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return torch.device("cpu") if param is None else param.device


@torch.no_grad()
def _predictions(model: nn.Module, images: torch.Tensor, batch: int) -> Iterator[tuple[slice, torch.Tensor]]:
    """(rows, float32 predictions on the model's device) for consecutive batches of ``images``."""
    device = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        for i in range(0, images.shape[0], batch):
            rows = slice(i, i + batch)
            yield rows, model(images[rows].to(device)).float().detach()
    finally:
        model.train(was_training)


def squared_error_mean(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, *, batch: int = EVAL_BATCH) -> float:
    """Mean of (f(x_i) - y_i)^2 over tensors already checked by :func:`as_tensors`
    (float32 errors summed per batch, accumulated in float64)."""
    total = torch.zeros((), dtype=torch.float64, device=_model_device(model))
    for rows, pred in _predictions(model, images, batch):
        total += ((pred - targets[rows].to(pred.device)) ** 2).sum().double()
    return float(total) / images.shape[0]


def evaluate(model: nn.Module, split: Any, *, device: str | None = None, batch: int = EVAL_BATCH) -> float:
    """Mean squared error of ``model`` on ``split`` (evaluation mode, no gradients, fp32).

    Parameters
    ----------
    model : torch.nn.Module
        Maps (B, 3, 28, 28) to (B,).
    split : DigitSumSplit or (images, targets)
        See :func:`as_tensors`.
    device : {"cpu", "cuda", "auto"}, optional
        Moves the model there first; default: where its parameters are.
    batch : int
        Rows per forward pass (>= 1).

    Returns
    -------
    float
        (1/N) sum_i (f(x_i) - y_i)^2.
    """
    _check_model(model)
    batch = check_int("batch", batch, low=1)
    images, targets = as_tensors(split, "split")
    if device is not None:
        from memcomp.config import resolve_device

        model.to(resolve_device(device))
    return squared_error_mean(model, images, targets, batch=batch)


def predict(model: nn.Module, split: Any, *, batch: int = EVAL_BATCH) -> np.ndarray:
    """Predictions of ``model`` on every row of ``split``, in evaluation mode and fp32.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (B, 3, 28, 28) to (B,); runs on the device its parameters are on.
    split : DigitSumSplit or (images, targets)
        See :func:`as_tensors` (the targets are not used).
    batch : int
        Rows per forward pass (>= 1).

    Returns
    -------
    numpy.ndarray
        float64, shape (N,).
    """
    _check_model(model)
    batch = check_int("batch", batch, low=1)
    images, _ = as_tensors(split, "split")
    out = [pred.cpu() for _, pred in _predictions(model, images, batch)]
    return torch.cat(out).double().numpy()


def row_errors(model: nn.Module, split: Any, *, batch: int = EVAL_BATCH) -> np.ndarray:
    """Squared error (f(x_i) - y_i)^2 of every row of ``split``.

    Returns
    -------
    numpy.ndarray
        float64, shape (N,); its mean is :func:`evaluate` up to float32 rounding.
    """
    _, targets = as_tensors(split, "split")
    return (predict(model, split, batch=batch) - targets.numpy().astype(np.float64)) ** 2
