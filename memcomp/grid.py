"""Run a grid of independent cells, in-process or on a Dask cluster, saving each as it ends.

The neural experiments (Figure 2, Table 1) are grids of independent trainings: one *cell*
per (seed, setting, architecture). :func:`run_grid` runs a list of cells through one
function and returns their records in the order of the cells, whichever way they ran:

- by default, one after the other in this process (as a plain loop would);
- ``jobs=N``: on a local Dask cluster of ``N`` worker processes with one thread each
  (``distributed.LocalCluster`` on 127.0.0.1), each worker's torch and BLAS on one thread;
- ``scheduler=ADDRESS``: on an existing Dask cluster (``dask scheduler`` and ``dask worker``
  by hand, SLURM through dask-jobqueue, Kubernetes, ...; see the book's page "Running the
  paper-scale grids").

With an output folder ``out``, each finished cell is written at once, atomically, to
``out/cells/<hash>.json`` (the hash of the experiment's configuration ``key`` and of the
cell), holding the key, the cell and its records. A rerun with the same key reuses those
files and computes only the missing cells, so an interrupted run loses at most the cells in
flight. A file that cannot be read, or whose key or cell differ, is recomputed, not trusted.
A cell whose worker dies is run again (Dask reschedules the tasks of a lost worker, and
``retries`` more attempts follow a failure).

Records are identical whichever way the cells ran, provided each cell seeds its own
randomness and torch runs on the same number of threads (the workers use one; run the
sequential comparison with ``MEMCOMP_THREADS=1``): records always go through JSON, so a
reused cell and a computed one look the same.

Example
-------
>>> from memcomp.grid import run_grid
>>> def square(cell):
...     return [{"x": cell["x"], "x2": cell["x"] ** 2}]
>>> result = run_grid([{"x": 1}, {"x": 2}], square, key={"experiment": "demo"}, out=None)
>>> [r["x2"] for r in result.records], result.computed, result.reused
([1, 4], 2, 0)
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from memcomp.checks import ParameterError, ParameterTypeError, check_int

__all__ = [
    "GridResult",
    "GridWarning",
    "MAX_JOBS",
    "add_grid_arguments",
    "cell_path",
    "grid_options",
    "run_grid",
]

#: The most worker processes ``jobs`` may ask for on one machine.
MAX_JOBS = 256
#: Version of the cell file format (a file of another version is recomputed).
CELL_FORMAT = 1
#: Seconds to wait for an existing scheduler to answer.
CONNECT_TIMEOUT = 20

_ADDRESS = re.compile(r"^(?:(?P<protocol>[a-z][a-z0-9+.-]*)://)?(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})$")
_PROTOCOLS = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
# What a worker process runs with: one thread everywhere, no progress bars of its own.
_WORKER_ENV = {
    "MEMCOMP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MEMCOMP_PROGRESS": "0",
}


class GridWarning(UserWarning):
    """A saved cell file could not be trusted and its cell is computed again."""


@dataclass(frozen=True)
class GridResult:
    """What :func:`run_grid` returns.

    Attributes
    ----------
    records : list of dict
        Every cell's records, flattened, in the order of the cells.
    cell_records : list of list of dict
        The records of each cell, in the order of the cells.
    computed : int
        Cells computed by this run.
    reused : int
        Cells read back from ``out/cells/`` (finished by an earlier run with the same key).
    runner : str
        ``"in-process"``, ``"local cluster, N workers"`` or ``"scheduler ADDRESS"``.
    seconds : float
        Wall time of the run.
    """

    records: list[dict[str, Any]]
    cell_records: list[list[dict[str, Any]]] = field(repr=False)
    computed: int
    reused: int
    runner: str
    seconds: float

    def summary(self) -> dict[str, Any]:
        """``{"cells", "computed", "reused", "runner"}``: a block for the result's JSON payload."""
        return {
            "cells": len(self.cell_records),
            "computed": self.computed,
            "reused": self.reused,
            "runner": self.runner,
        }


# --------------------------------------------------------------------------- validation


def _check_jobs(jobs: Any) -> int | None:
    if jobs is None:
        return None
    return check_int("jobs", jobs, low=1, high=MAX_JOBS)


def _check_scheduler(scheduler: Any) -> str | None:
    if scheduler is None:
        return None
    if not isinstance(scheduler, str):
        raise ParameterTypeError(
            "scheduler", f"scheduler must be a Dask scheduler address such as 'tcp://HOST:8786'; got {scheduler!r}"
        )
    match = _ADDRESS.match(scheduler.strip())
    problem = None
    if match is None:
        problem = "it is not of the form [PROTOCOL://]HOST:PORT"
    elif match.group("protocol") and match.group("protocol") not in _PROTOCOLS:
        problem = f"the protocol must be one of {', '.join(_PROTOCOLS)}"
    elif not 1 <= int(match.group("port")) <= 65535:
        problem = "the port must be in [1, 65535]"
    if problem:
        raise ParameterError(
            "scheduler",
            f"scheduler must be a Dask scheduler address such as 'tcp://HOST:8786' ({problem}); got {scheduler!r}",
        )
    return scheduler.strip()


def _canonical(name: str, value: Any) -> str:
    from memcomp.results import _plain

    try:
        return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ParameterTypeError(name, f"{name} must be JSON-serialisable (no NaN): {exc}; got {value!r}") from None


def cell_path(out: str | os.PathLike, key: dict[str, Any], cell: dict[str, Any]) -> Path:
    """The file that holds ``cell``'s records for the experiment configured by ``key``."""
    digest = hashlib.sha256((_canonical("key", key) + "\n" + _canonical("cell", cell)).encode()).hexdigest()
    return Path(out) / "cells" / f"{digest[:24]}.json"


# --------------------------------------------------------------------------- cell files


def _as_json(records: Any, cell: dict[str, Any]) -> list[dict[str, Any]]:
    """``records`` after a round trip through JSON (as a reused cell's would be)."""
    from memcomp.results import _plain

    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise TypeError(f"the compute function must return a list of dicts (records); for cell {cell} it returned {type(records).__name__}")
    return json.loads(json.dumps(_plain(records)))


def _read_cell(path: Path, key_json: str, cell_json: str) -> list[dict[str, Any]] | None:
    """The records saved in ``path``, or None if it is missing or cannot be trusted."""
    if not path.exists():
        return None
    problem = None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        saved, problem = None, f"unreadable ({type(exc).__name__}: {exc})"
    if problem is None:
        if not isinstance(saved, dict) or saved.get("format") != CELL_FORMAT:
            problem = f"not a cell file of format {CELL_FORMAT}"
        elif not _same_json(saved.get("key"), key_json) or not _same_json(saved.get("cell"), cell_json):
            problem = "its key or cell differ from this run's"
        elif not isinstance(saved.get("records"), list) or not all(isinstance(r, dict) for r in saved["records"]):
            problem = "its records are not a list of dicts"
    if problem:
        warnings.warn(f"{path}: {problem}; computing the cell again", GridWarning, stacklevel=3)
        return None
    return saved["records"]


def _same_json(value: Any, canonical: str) -> bool:
    try:
        return _canonical("saved", value) == canonical
    except (TypeError, ValueError):  # NaN or worse in a damaged file
        return False


def _write_cell(path: Path, key: Any, cell: dict[str, Any], records: list[dict[str, Any]]) -> None:
    from memcomp.results import _plain, atomic_write_bytes

    payload = {"format": CELL_FORMAT, "key": _plain(key), "cell": _plain(cell), "records": records}
    atomic_write_bytes(path, (json.dumps(payload, indent=1) + "\n").encode("utf-8"))


# --------------------------------------------------------------------------- running a cell


def _run_cell(compute: Callable[[dict], list[dict]], cell: dict[str, Any], worker_env: dict[str, str] | None) -> Any:
    """Run one cell (on a worker: with one thread and no progress bars)."""
    if worker_env:
        os.environ.update(worker_env)
        if "torch" in sys.modules:  # imported by an earlier cell: set its threads now
            import torch

            torch.set_num_threads(int(worker_env["MEMCOMP_THREADS"]))
    return compute(cell)


@contextlib.contextmanager
def _client(jobs: int | None, scheduler: str | None) -> Iterator[tuple[Any, str]]:
    import logging

    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"scheduler={scheduler!r}: no Dask scheduler answered within {CONNECT_TIMEOUT} s ({exc}); "
                "start one with `dask scheduler` and its workers with `dask worker ADDRESS`"
            ) from None
        with client:
            yield client, f"scheduler {scheduler}"
        return
    cluster = LocalCluster(
        n_workers=jobs,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        env=dict(_WORKER_ENV),
    )
    with cluster, Client(cluster, set_as_default=False) as client:
        yield client, f"local cluster, {jobs} worker{'s' if jobs > 1 else ''}"


def run_grid(
    cells: Sequence[dict[str, Any]],
    compute: Callable[[dict[str, Any]], list[dict[str, Any]]],
    *,
    key: dict[str, Any],
    out: str | os.PathLike | None,
    jobs: int | None = None,
    scheduler: str | None = None,
    retries: int = 2,
    desc: str = "cells",
) -> GridResult:
    """Compute every cell's records, reusing cells an earlier run with the same ``key`` saved.

    Parameters
    ----------
    cells : sequence of dict
        The grid: JSON-serialisable dicts (``{"seed": 0, "nines": 60, "architecture": "sum"}``),
        all different.
    compute : callable
        ``compute(cell) -> list of dict``: the records of one cell. To run on workers it
        must pickle: a module-level function or a ``functools.partial`` of one (for example
        ``partial(figure2_cell, config)``). It should seed its randomness from the cell.
    key : dict
        The experiment's configuration as JSON (for example ``{"experiment": "figure2",
        "config": asdict(config)}``). Cells saved under another key are not reused.
    out : path or None
        Folder of the results: cell files go to ``out/cells/``. None: nothing is saved.
    jobs : int, optional
        Run on a local Dask cluster of this many worker processes (1 to 256), one thread
        each, on 127.0.0.1. Not together with ``scheduler``.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://HOST:8786``) to run the cells on.
    retries : int
        Further attempts for a cell that fails on a worker (0 to 10); a cell whose worker
        dies is also rescheduled by Dask itself.
    desc : str
        Label of the progress bar (one bar over cells; ``MEMCOMP_PROGRESS=0`` hides it).

    Returns
    -------
    GridResult
        ``records`` (flattened, in the order of ``cells``), ``computed``, ``reused``,
        ``runner``, ``seconds``; ``summary()`` gives a block for the JSON payload.

    Raises
    ------
    ValueError
        If ``jobs`` or ``scheduler`` is out of range, if both are given, if cells repeat,
        or (as ``ConnectionError``, an ``OSError``) if no scheduler answers at ``scheduler``.
    TypeError
        If ``cells``, ``key`` or a cell is not JSON-serialisable, or ``compute`` returns
        something other than a list of dicts.
    RuntimeError
        If a cell still fails after its retries; the cells finished before are saved.
    """
    jobs = _check_jobs(jobs)
    scheduler = _check_scheduler(scheduler)
    if jobs is not None and scheduler is not None:
        raise ParameterError("jobs", f"give jobs or scheduler, not both; got jobs={jobs}, scheduler={scheduler!r}")
    retries = check_int("retries", retries, low=0, high=10)
    if not callable(compute):
        raise ParameterTypeError("compute", f"compute must be a function of one cell; got {compute!r}")
    if isinstance(cells, (str, bytes, dict)) or not isinstance(cells, Sequence):
        raise ParameterTypeError("cells", f"cells must be a list of dicts; got {type(cells).__name__}")
    for cell in cells:
        if not isinstance(cell, dict):
            raise ParameterTypeError("cells", f"cells must be a list of dicts; got an element {cell!r}")
    key_json = _canonical("key", key)
    cell_jsons = [_canonical("cell", cell) for cell in cells]
    if len(set(cell_jsons)) != len(cell_jsons):
        repeated = next(c for c in cell_jsons if cell_jsons.count(c) > 1)
        raise ParameterError("cells", f"cells must all differ; {repeated} appears more than once")

    from memcomp.config import progress_enabled

    start = time.perf_counter()
    out_dir = Path(out) if out is not None else None
    paths = [cell_path(out_dir, key, cell) if out_dir is not None else None for cell in cells]
    results: list[list[dict[str, Any]] | None] = [None] * len(cells)
    if out_dir is not None:
        for i, path in enumerate(paths):
            results[i] = _read_cell(path, key_json, cell_jsons[i])
    todo = [i for i, r in enumerate(results) if r is None]
    reused = len(cells) - len(todo)

    def finish(i: int, records: Any) -> None:
        results[i] = _as_json(records, cells[i])
        if paths[i] is not None:
            _write_cell(paths[i], key, cells[i], results[i])

    bar = None
    if progress_enabled() and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(cells), initial=reused, desc=desc, unit="cell", leave=True)
    try:
        if jobs is None and scheduler is None:
            runner = "in-process"
            for i in todo:
                finish(i, compute(cells[i]))
                if bar is not None:
                    bar.update(1)
        elif not todo:
            runner = f"local cluster, {jobs} workers" if jobs is not None else f"scheduler {scheduler}"
        else:
            runner = _run_on_cluster(cells, compute, todo, jobs, scheduler, retries, finish, bar)
    finally:
        if bar is not None:
            bar.close()
    cell_records = [r for r in results if r is not None]
    assert len(cell_records) == len(cells)
    return GridResult(
        records=[record for rs in cell_records for record in rs],
        cell_records=cell_records,
        computed=len(todo),
        reused=reused,
        runner=runner,
        seconds=time.perf_counter() - start,
    )


def _run_on_cluster(cells, compute, todo, jobs, scheduler, retries, finish, bar) -> str:
    from distributed import as_completed

    with _client(jobs, scheduler) as (client, runner):
        futures = {}
        for i in todo:
            digest = hashlib.sha256(_canonical("cell", cells[i]).encode()).hexdigest()[:12]
            future = client.submit(
                _run_cell, compute, cells[i], _WORKER_ENV, key=f"memcomp-cell-{i}-{digest}-{os.getpid()}-{time.time_ns()}",
                retries=retries, pure=False,
            )
            futures[future] = i
        try:
            for future in as_completed(list(futures), loop=client.loop):
                i = futures[future]
                try:
                    records = future.result()
                except Exception as exc:
                    raise RuntimeError(
                        f"cell {cells[i]} failed after {retries} retries ({type(exc).__name__}: {exc}); "
                        "the cells finished so far are saved and a rerun reuses them"
                    ) from exc
                finish(i, records)
                if bar is not None:
                    bar.update(1)
        finally:
            client.cancel(list(futures))  # nothing left running when we stop early
    return runner


# --------------------------------------------------------------------------- command line


def _jobs_arg(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in [1, {MAX_JOBS}] (worker processes); got {text!r}") from None
    if not 1 <= n <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"must be an integer in [1, {MAX_JOBS}] (worker processes); got {text!r}")
    return n


def _scheduler_arg(text: str) -> str:
    try:
        return _check_scheduler(text)
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("scheduler ")) from None


def add_grid_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--jobs N`` and ``--scheduler ADDRESS`` (mutually exclusive) to ``parser``.

    A bad value is a usage error naming the flag: ``argument --jobs: must be an integer in
    [1, 256] (worker processes); got '0'``. :func:`grid_options` turns the parsed arguments
    into keyword arguments of :func:`run_grid`.
    """
    group = parser.add_argument_group("running the grid (see the book's page 'Running the paper-scale grids')")
    exclusive = group.add_mutually_exclusive_group()
    exclusive.add_argument(
        "--jobs",
        type=_jobs_arg,
        default=None,
        metavar="N",
        help=f"run the grid's cells on a local Dask cluster of N worker processes, one thread each (1 to {MAX_JOBS})",
    )
    exclusive.add_argument(
        "--scheduler",
        type=_scheduler_arg,
        default=None,
        metavar="ADDRESS",
        help="run the cells on an existing Dask scheduler, e.g. tcp://HOST:8786 (dask-jobqueue, Kubernetes, ...)",
    )


def grid_options(args: argparse.Namespace) -> dict[str, Any]:
    """``{"jobs": ..., "scheduler": ...}`` from arguments parsed with :func:`add_grid_arguments`."""
    return {"jobs": getattr(args, "jobs", None), "scheduler": getattr(args, "scheduler", None)}
