"""Input validation shared by every public function.

Each check raises a :class:`ParameterError` (a :class:`ValueError`) that names the
parameter, the value it got and the allowed range, before any work starts; a value of the
wrong type raises :class:`ParameterTypeError`, which is also a :class:`TypeError`. The
error's ``name`` attribute is the parameter's name, so that the command line can name the
flag the user typed instead (``--train-size`` for ``n_train``).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Iterable

import numpy as np


class ParameterError(ValueError):
    """A parameter has a value outside its allowed range.

    Attributes
    ----------
    name : str
        The parameter's name; the message starts with it.
    """

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class ParameterTypeError(ParameterError, TypeError):
    """A parameter has a value of the wrong type (both a ``TypeError`` and a ``ValueError``)."""


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    if low is None:
        left = "("
    if high is None:
        right = ")"
    return f"{left}{lo}, {hi}{right}"


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer within ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ParameterTypeError(
            name, f"{name} must be an integer in {_range_text(low, high, False, False)}; got {value!r}"
        )
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(
            name,
            f"{name} must be an integer in {_range_text(low, high, False, False)}; got {value!r}"
        )
    return value


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite real number in the given range."""
    allowed = _range_text(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ParameterTypeError(name, f"{name} must be a finite number in {allowed}; got {value!r}")
    if not math.isfinite(float(value)):
        raise ParameterError(name, f"{name} must be a finite number in {allowed}; got {value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise ParameterError(name, f"{name} must be a finite number in {allowed}; got {value!r}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ParameterError(name, f"{name} must be one of {allowed}; got {value!r}")
    return value


def check_array(
    name: str,
    value: Any,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    finite: bool = True,
) -> np.ndarray:
    """Return ``value`` as a float64 array after checking its dimension, shape and values."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterTypeError(name, f"{name} must be an array of real numbers; got {type(value).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ParameterError(name, f"{name} must be a {ndim}-dimensional array; got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ParameterError(name, f"{name} must have shape {want}; got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ParameterError(name, f"{name} must contain only finite numbers (no nan or inf)")
    return arr


def check_seed(name: str, value: Any) -> int:
    """Seeds are non-negative integers."""
    return check_int(name, value, low=0, high=2**63 - 1)
