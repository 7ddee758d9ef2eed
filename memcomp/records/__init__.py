"""Recorded runs that CI cannot make (GPU, long CPU runs), shipped with the package.

Each folder holds the JSON (and figure) of one ``memcomp reproduce ...`` run; README.md in
this folder gives the command and the machine of each. They ship inside the package so that
a chapter opened anywhere (Colab, a student's folder) finds them:

>>> sorted(RECORDS)[:2]
['cpu-fast/table1', 'cpu-influence-decoupled/table1']
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from memcomp.results import read_json

__all__ = ["RECORDS", "load_record"]

RECORDS = (
    "cpu-fast/table1",
    "cpu-influence-decoupled/table1",
    "cpu-influence-rows8000-decoupled/table1",
    "cpu-influence-rows8000-decoupled-seed1/table1",
    "cpu-rows1000-layernorm/table1",
    "cpu-rows8000/table1",
    "cpu-rows8000-decoupled/table1",
    "cpu-rows8000-l2/table1",
    "cpu-rows8000-l2_no_norm/table1",
    "cpu-rows32000/table1",
    "cpu-wd-batchnorm-decoupled/table1",
    "cpu-wd-batchnorm-l2/table1",
    "cpu-wd-batchnorm-l2_no_norm/table1",
    "cpu-wd-plain-decoupled/table1",
    "cpu-wd-plain-l2/table1",
    "cpu-wd-plain-l2_no_norm/table1",
    "paper-gpu/figure2",
)


def load_record(name: str) -> dict[str, Any]:
    """The payload of the recorded run ``name`` (one of :data:`RECORDS`).

    Raises
    ------
    ValueError
        If ``name`` is not a recorded run.
    """
    if name not in RECORDS:
        raise ValueError(f"name must be one of {', '.join(RECORDS)}; got {name!r}")
    folder, experiment = name.split("/")
    return read_json(str(resources.files("memcomp.records") / folder / f"{experiment}.json"))
