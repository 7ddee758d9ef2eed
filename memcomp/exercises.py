"""Self-checks for the book's exercises, without the answers.

The exercises live in the companion notebooks ``book/<part>/<chapter>_exercises.ipynb``; they
are graded with otter-grader (``make assignments``, ``make grade``). A student's self-check
compares a *digest* of the answer with the digest stored in the notebook's public test, so
neither this package nor the student notebook holds an answer. The hidden tests, which only
the instructor's autograder holds, recompute the answers from the package.

>>> d = answer_digest("q1", 146.2137)
>>> self_check("q1", 146.2137, d)          # correct: returns quietly
>>> self_check("q1", ..., d)               # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
AssertionError: not attempted: replace the ... with your answer.
>>> self_check("q1", 150.0, d, hint="count rows, not features")
Traceback (most recent call last):
AssertionError: incorrect: count rows, not features
"""

from __future__ import annotations

import hashlib
import numbers
from typing import Any, Mapping

import numpy as np

__all__ = ["answer_digest", "self_check", "NOT_ATTEMPTED"]

NOT_ATTEMPTED = "not attempted: replace the ... with your answer."
_REL = 1e-9  # a float answer is also tried at value * (1 +- _REL), so rounding ties do not matter


def _canonical(value: Any, sig: int) -> list[str]:
    """The strings a value is hashed as: one for integers, three for floats (see ``_REL``)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("a yes/no answer must be given as 0 or 1")
    if isinstance(value, numbers.Integral):
        return [f"int:{int(value)}"]
    if isinstance(value, numbers.Real):
        v = float(value)
        if not np.isfinite(v):
            raise ValueError(f"the answer must be a finite number; got {v}")
        return [f"float:{x:.{sig}g}" for x in (v, v * (1 + _REL), v * (1 - _REL))]
    arr = np.asarray(value)
    if arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))):
        return ["ints:" + ",".join(str(int(x)) for x in arr.ravel()) + f":{arr.shape}"]
    if arr.dtype.kind == "f":
        return ["floats:" + ",".join(f"{x:.{sig}g}" for x in arr.ravel()) + f":{arr.shape}"]
    raise TypeError(f"the answer must be a number or an array of numbers; got {type(value).__name__}")


def answer_digest(question: str, value: Any, sig: int = 4) -> str:
    """A short sha256 digest of ``value`` rounded to ``sig`` significant digits, salted by ``question``.

    Integers (and arrays of integers) are hashed exactly.
    """
    return _hash(question, _canonical(value, sig)[0])


def _hash(question: str, text: str) -> str:
    return hashlib.sha256(f"memcomp:{question}:{text}".encode()).hexdigest()[:16]


def self_check(
    question: str,
    value: Any,
    digest: str,
    *,
    sig: int = 4,
    hint: str = "check your computation against the exercise's formula.",
    hints: Mapping[str, str] | None = None,
) -> None:
    """Raise ``AssertionError`` saying "not attempted" or "incorrect: <hint>"; return if correct.

    ``hints`` maps digests of common wrong answers to targeted hints; ``hint`` is the
    message for any other wrong answer.
    """
    if value is Ellipsis or value is None:
        raise AssertionError(NOT_ATTEMPTED)
    try:
        forms = _canonical(value, sig)
    except (TypeError, ValueError) as err:
        raise AssertionError(f"incorrect: {err}") from None
    got = {_hash(question, f) for f in forms}
    if digest in got:
        return None
    for wrong, message in (hints or {}).items():
        if wrong in got:
            raise AssertionError(f"incorrect: {message}")
    raise AssertionError(f"incorrect: {hint}")
