"""Scales, devices, seeds, threads and progress bars.

Environment variables (all optional):

- ``MEMCOMP_SCALE``: ``fast`` (default) or ``paper``.
- ``MEMCOMP_DEVICE``: ``cpu`` (default), ``cuda``, or ``auto`` (cuda when available).
- ``MEMCOMP_PROGRESS``: ``0`` silences every progress bar (set for nbval).
- ``MEMCOMP_THREADS``: number of torch threads (default: the number of cores).
"""

from __future__ import annotations

import os
import random
from typing import Iterable, TypeVar

import numpy as np

from memcomp.checks import ParameterError, check_choice, check_int, check_seed

SCALES = ("fast", "paper")
DEVICES = ("cpu", "cuda", "auto")

T = TypeVar("T")


def resolve_scale(scale: str | None = None) -> str:
    """The scale to run at: the argument, else ``$MEMCOMP_SCALE``, else ``fast``."""
    if scale is None:
        scale = os.environ.get("MEMCOMP_SCALE", "fast") or "fast"
        return check_choice("MEMCOMP_SCALE", scale, SCALES)
    return check_choice("scale", scale, SCALES)


def resolve_device(device: str | None = None) -> str:
    """``cpu`` or ``cuda``: the argument, else ``$MEMCOMP_DEVICE``, else ``cpu``.

    ``auto`` picks ``cuda`` when torch sees a GPU. Asking for ``cuda`` without one is an error.
    """
    name = "device"
    if device is None:
        device, name = os.environ.get("MEMCOMP_DEVICE", "cpu") or "cpu", "MEMCOMP_DEVICE"
    check_choice(name, device, DEVICES)
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "auto":
        return "cpu"
    raise ValueError(f"{name}='cuda' was asked for but torch finds no CUDA device; use 'cpu' or 'auto'")


def progress_enabled() -> bool:
    """False when ``MEMCOMP_PROGRESS=0``."""
    return os.environ.get("MEMCOMP_PROGRESS", "1") not in ("0", "false", "False", "no")


def progress(iterable: Iterable[T], *, desc: str | None = None, total: int | None = None, leave: bool = False) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar (terminal or notebook) unless progress is silenced."""
    if not progress_enabled():
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=leave)


def threads_from_env() -> int:
    """``$MEMCOMP_THREADS`` as a positive integer, or the number of cores when it is unset.

    Raises
    ------
    ValueError
        If ``MEMCOMP_THREADS`` is set to anything but an integer in [1, 1024].
    """
    env = os.environ.get("MEMCOMP_THREADS", "").strip()
    if not env:
        return os.cpu_count() or 1
    try:
        n = int(env)
    except ValueError:
        raise ParameterError(
            "MEMCOMP_THREADS", f"MEMCOMP_THREADS must be an integer in [1, 1024] (torch threads); got {env!r}"
        ) from None
    return check_int("MEMCOMP_THREADS", n, low=1, high=1024)


def set_threads(n: int | None = None) -> None:
    """Fix torch's thread counts to ``n`` (default ``$MEMCOMP_THREADS`` or the number of cores).

    Two processes that each use every core can run many times slower than one: fix this
    explicitly. (numpy's BLAS threads follow ``OMP_NUM_THREADS``, read when numpy starts.)
    Nothing in memcomp calls this at import; the command line calls it before a run.

    Parameters
    ----------
    n : int, optional
        Threads, 1 to 1024.

    Raises
    ------
    ValueError
        If ``n`` or ``$MEMCOMP_THREADS`` is not an integer in [1, 1024].
    """
    n = threads_from_env() if n is None else check_int("threads", n, low=1, high=1024)
    import torch

    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:
        pass  # can only be set once, before any parallel work


def set_seed(seed: int) -> None:
    """Seed python, numpy's legacy global state and torch (CPU and CUDA) at once.

    numpy code in memcomp takes an explicit ``numpy.random.Generator`` instead; this is for torch.
    """
    seed = check_seed("seed", seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
