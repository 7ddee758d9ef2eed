"""The paper's figures and tables as runnable experiments.

Each experiment is a module in this package exposing

- ``DESCRIPTION``: one line for ``memcomp reproduce --list``;
- ``add_arguments(parser)``: its command-line options;
- ``run_from_args(args) -> dict``: runs it and returns the JSON payload it wrote.

``EXPERIMENTS`` maps the name used on the command line to the module path; an
experiment becomes available by adding one line here.
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXPERIMENTS: dict[str, str] = {
    "figure1": "memcomp.experiments.figure1",
    "figure2": "memcomp.experiments.figure2",
    "table1": "memcomp.experiments.table1",
}


def load(name: str) -> ModuleType:
    """Import the module of experiment ``name``."""
    if name not in EXPERIMENTS:
        allowed = ", ".join(sorted(EXPERIMENTS)) or "(none registered)"
        raise ValueError(f"experiment must be one of {allowed}; got {name!r}")
    return importlib.import_module(EXPERIMENTS[name])
