"""Numbers from neural training, checked against a committed reference.

Training in torch rounds differently on different processors (AVX-512 or AVX2, Intel or
AMD) and with different thread counts, so after a few thousand Adam steps the losses a
chapter prints drift in the second decimal. Deterministic numbers (numpy, scipy) are
compared digit for digit by nbval; the printed numbers of a training run are not. A
chapter prints them inside :func:`checked`:

.. code-block:: python

    with checked("figure2", "summary"):
        print(f"Sum OOD loss {loss:.2f}")

The text printed inside the block is shown as usual and captured. Every number in it is
then compared with the same block's text in the committed reference
``memcomp/references/<chapter>.json``: integers exactly, decimals within

.. math:: |x - r| \\le \\max(\\mathrm{atol}, \\mathrm{rtol}\\,|r|) + 10^{-\\mathrm{decimals}},

where the last term is the rounding of the printed value, and the words around the numbers
must match. ``rtol`` and ``atol`` belong to each block and were chosen from the spread
measured across thread counts and kernel settings by ``scripts/measure_reference_spread.py``;
the reference file records that spread.

The environment variable ``MEMCOMP_REFERENCE`` switches the mode: unset or ``check``
compares (the default), ``write`` stores the printed text as the new reference (keeping the
block's tolerance), ``dump:DIR`` writes the text to ``DIR/<chapter>.<block>.txt`` without
checking (for measuring the spread). ``MEMCOMP_REFERENCE_LOG=FILE`` appends a one-line
summary of each check to ``FILE`` (give an absolute path: a chapter's kernel runs in the
chapter's folder).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterator

__all__ = ["NUMBER", "Comparison", "Printer", "checked", "compare_text", "load_reference",
           "numbers_in", "reference_path", "skeleton"]

#: A printed number: optional sign, digits with optional thousands commas, optional
#: decimals, optional exponent, optional percent sign.
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?%?")
MODES = ("check", "write", "dump:DIR")


@dataclass(frozen=True)
class Printed:
    """One number as printed: its value, its decimals (``None`` for an integer) and text."""

    value: float
    decimals: int | None
    text: str


def numbers_in(text: str) -> list[Printed]:
    """Every number printed in ``text``, in order.

    >>> [p.value for p in numbers_in("Sum 7.52 at 60 nines, ratio 5.2x, 1,000 rows, 64.6%")]
    [7.52, 60.0, 5.2, 1000.0, 64.6]
    """
    found = []
    for match in NUMBER.finditer(text):
        token = match.group()
        body = token.rstrip("%").replace(",", "")
        mantissa = re.split(r"[eE]", body)[0]
        if "." in mantissa:
            decimals: int | None = len(mantissa.split(".")[1])
            if "e" in body.lower():
                decimals -= int(re.split(r"[eE]", body)[1])
        else:
            decimals = None if "e" not in body.lower() else -int(re.split(r"[eE]", body)[1])
        found.append(Printed(float(body), decimals, token))
    return found


def skeleton(text: str) -> str:
    """``text`` with every number replaced by ``#`` and runs of white space collapsed.

    >>> skeleton("Sum     7.52 at  60 nines")
    'Sum # at # nines'
    """
    return re.sub(r"\s+", " ", NUMBER.sub("#", text)).strip()


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing printed text with its reference."""

    n_numbers: int
    n_differ: int
    largest: float  # largest deviation in units of the allowed deviation (<= 1 passes)
    largest_at: str  # 'printed (reference)' of the number with that deviation
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def compare_text(text: str, reference: str, rtol: float, atol: float) -> Comparison:
    """Compare the numbers of ``text`` with those of ``reference`` (see the module doc)."""
    if skeleton(text) != skeleton(reference):
        return Comparison(0, 0, math.inf, "", (
            "the printed words differ from the reference:\n"
            f"  printed:   {skeleton(text)[:400]}\n  reference: {skeleton(reference)[:400]}",))
    got, want = numbers_in(text), numbers_in(reference)
    failures, n_differ, largest, largest_at = [], 0, 0.0, ""
    for index, (g, w) in enumerate(zip(got, want)):
        if g.text == w.text:
            continue
        n_differ += 1
        if g.decimals is None and w.decimals is None:
            allowed = 0.0
        else:
            unit = 10.0 ** -max(g.decimals or 0, w.decimals or 0)
            allowed = max(atol, rtol * abs(w.value)) + unit
        ratio = abs(g.value - w.value) / allowed if allowed > 0 else math.inf
        if ratio > largest:
            largest, largest_at = ratio, f"{g.text} ({w.text})"
        if ratio > 1 + 1e-9:  # float rounding of the difference itself
            failures.append(f"number {index + 1}: printed {g.text}, reference {w.text}, "
                            f"allowed deviation {allowed:.3g}")
    return Comparison(len(got), n_differ, largest, largest_at, tuple(failures))


def _mode() -> str:
    mode = os.environ.get("MEMCOMP_REFERENCE", "check") or "check"
    if mode not in ("check", "write") and not mode.startswith("dump:"):
        raise ValueError(f"MEMCOMP_REFERENCE must be one of {', '.join(MODES)}; got {mode!r}")
    return mode


def reference_path(chapter: str) -> Path:
    """The committed reference file of ``chapter`` (inside the installed package)."""
    if not re.fullmatch(r"[a-z0-9_]+", chapter):
        raise ValueError(f"chapter must be lower-case letters, digits and '_'; got {chapter!r}")
    return Path(str(resources.files("memcomp") / "references" / f"{chapter}.json"))


def load_reference(chapter: str) -> dict:
    """The reference of ``chapter``: ``{"blocks": {block: {"text", "rtol", "atol", ...}}}``."""
    path = reference_path(chapter)
    if not path.exists():
        return {"chapter": chapter, "blocks": {}}
    return json.loads(path.read_text(encoding="utf-8"))


class _Tee(io.TextIOBase):
    def __init__(self, stream):
        self.stream, self.buffer_ = stream, io.StringIO()

    def write(self, text: str) -> int:
        self.buffer_.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


class Printer:
    """Handed out by :func:`checked`: shows Markdown and captures its text for the check."""

    def __init__(self, tee: _Tee):
        self._tee = tee

    def markdown(self, text: str) -> None:
        """Display ``text`` as Markdown (plain text outside IPython) and check its numbers."""
        self._tee.buffer_.write(text + "\n")
        try:
            from IPython.display import Markdown, display
        except ImportError:  # pragma: no cover
            self._tee.stream.write(text + "\n")
            return
        display(Markdown(text))


@contextlib.contextmanager
def checked(chapter: str, block: str) -> Iterator[Printer]:
    """Show what the block prints and check its numbers against the chapter's reference.

    Parameters
    ----------
    chapter, block : str
        Name the reference: ``memcomp/references/<chapter>.json``, entry ``block``.

    Raises
    ------
    AssertionError
        If a printed number lies outside the block's tolerance, or the words differ.
    KeyError
        If the reference has no such block (write it with ``MEMCOMP_REFERENCE=write``).
    """
    mode = _mode()
    tee = _Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        yield Printer(tee)
    text = tee.buffer_.getvalue()
    if mode.startswith("dump:"):
        folder = Path(mode[len("dump:"):])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{chapter}.{block}.txt").write_text(text, encoding="utf-8")
        return
    if mode == "write":
        _write_block(chapter, block, text)
        return
    entry = load_reference(chapter)["blocks"].get(block)
    if entry is None:
        raise KeyError(f"no reference for block {block!r} of chapter {chapter!r} in "
                       f"{reference_path(chapter)}; write it with MEMCOMP_REFERENCE=write")
    result = compare_text(text, entry["text"], entry["rtol"], entry["atol"])
    summary = (f"reference check '{chapter}/{block}': {result.n_numbers} numbers, "
               f"{result.n_differ} differ from the stored run, largest deviation "
               f"{result.largest:.2f} of the allowed (rtol {entry['rtol']:.3g}, "
               f"atol {entry['atol']:.3g})")
    print(summary + (f" at {result.largest_at}" if result.n_differ else ""))
    log = os.environ.get("MEMCOMP_REFERENCE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(summary + ("" if result.passed else " FAILED") + "\n")
    assert result.passed, (f"'{chapter}/{block}' is outside the reference tolerance:\n"
                           + "\n".join(result.failures))


def _write_block(chapter: str, block: str, text: str) -> None:
    """Store ``text`` as the reference of ``block``, keeping its tolerance and spread."""
    from memcomp.results import write_json

    reference = load_reference(chapter)
    entry = reference["blocks"].setdefault(block, {"rtol": 0.0, "atol": 0.0})
    entry["text"] = text
    write_json(reference_path(chapter), reference)
