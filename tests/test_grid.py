"""memcomp.grid: cells in-process or on a Dask cluster (127.0.0.1 only), saved as they end.

The compute functions here are toys (a few numbers from a seeded generator, a short sleep to
shuffle the order in which cells finish); they travel to the workers by value.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import time
from functools import partial
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

from memcomp import grid
from memcomp.grid import GridWarning, add_grid_arguments, cell_path, grid_options, run_grid

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this file

KEY = {"experiment": "toy", "config": {"n": 3, "scale": 0.5}}
CELLS = [{"seed": s, "setting": m} for s in range(2) for m in ("a", "b", "c")]


def toy(cell: dict) -> list[dict]:
    """Two records per cell from a generator seeded by the cell; later cells finish first."""
    rng = np.random.default_rng([cell["seed"], ord(cell["setting"])])
    time.sleep(0.05 * (len(CELLS) - CELLS.index(cell)) / len(CELLS))
    values = rng.normal(size=3)
    return [
        {"seed": cell["seed"], "setting": cell["setting"], "part": p, "value": np.float64(values[p]), "pair": (p, p + 1)}
        for p in range(2)
    ]


def fail_at(bad: dict, cell: dict) -> list[dict]:
    """``toy``, except that the cell ``bad`` raises (an interrupted run)."""
    if cell == bad:
        raise RuntimeError("interrupted")
    return toy(cell)


def die_once(marker: str, cell: dict) -> list[dict]:
    """``toy``, except that the first cell to run kills its worker process outright."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return toy(cell)
    os.close(fd)
    os._exit(17)  # the worker dies mid-cell: no exception, no result


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMCOMP_PROGRESS", "0")
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker"):
        logging.getLogger(name).setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def scheduler():
    """A local Dask cluster on 127.0.0.1 (two one-thread worker processes): its address."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def sequential() -> grid.GridResult:
    return run_grid(CELLS, toy, key=KEY, out=None)


# --------------------------------------------------------------------------- same records every way


def test_sequential_run_computes_every_cell_in_order(sequential):
    assert (sequential.computed, sequential.reused, sequential.runner) == (6, 0, "in-process")
    assert [(r["seed"], r["setting"], r["part"]) for r in sequential.records] == [
        (c["seed"], c["setting"], p) for c in CELLS for p in range(2)
    ]
    # records went through JSON: numpy floats are floats, tuples are lists
    assert type(sequential.records[0]["value"]) is float and sequential.records[0]["pair"] == [0, 1]


def test_jobs_2_gives_the_sequential_records(sequential, tmp_path: Path):
    result = run_grid(CELLS, toy, key=KEY, out=tmp_path, jobs=2)
    assert result.records == sequential.records
    assert (result.computed, result.reused, result.runner) == (6, 0, "local cluster, 2 workers")
    assert len(list((tmp_path / "cells").glob("*.json"))) == 6
    again = run_grid(CELLS, toy, key=KEY, out=tmp_path, jobs=2)  # everything reused, no cluster needed
    assert (again.computed, again.reused) == (0, 6) and again.records == sequential.records


def test_a_scheduler_address_gives_the_sequential_records(sequential, scheduler, tmp_path: Path):
    result = run_grid(CELLS, toy, key=KEY, out=tmp_path, scheduler=scheduler)
    assert result.records == sequential.records and result.runner == f"scheduler {scheduler}"


def test_cell_file_holds_key_cell_and_records(tmp_path: Path, sequential):
    run_grid(CELLS[:1], toy, key=KEY, out=tmp_path)
    saved = json.loads(cell_path(tmp_path, KEY, CELLS[0]).read_text())
    assert saved["key"] == KEY and saved["cell"] == CELLS[0] and saved["records"] == sequential.records[:2]
    assert not [p for p in (tmp_path / "cells").iterdir() if not p.name.endswith(".json")]  # no temporary left


# --------------------------------------------------------------------------- interrupted, killed, corrupt


def test_an_interrupted_run_resumes_with_only_the_missing_cells(sequential, tmp_path: Path):
    with pytest.raises(RuntimeError, match="interrupted"):
        run_grid(CELLS, partial(fail_at, CELLS[4]), key=KEY, out=tmp_path)
    assert len(list((tmp_path / "cells").glob("*.json"))) == 4
    resumed = run_grid(CELLS, toy, key=KEY, out=tmp_path)
    assert (resumed.computed, resumed.reused) == (2, 4)
    assert resumed.records == sequential.records


def test_an_interrupted_cluster_run_resumes_on_the_cluster(sequential, scheduler, tmp_path: Path):
    with pytest.raises(RuntimeError, match="failed after 0 retries"):
        run_grid(CELLS, partial(fail_at, CELLS[0]), key=KEY, out=tmp_path, scheduler=scheduler, retries=0)
    saved = len(list((tmp_path / "cells").glob("*.json")))
    assert saved < 6
    resumed = run_grid(CELLS, toy, key=KEY, out=tmp_path, scheduler=scheduler)
    assert (resumed.computed, resumed.reused) == (6 - saved, saved)
    assert resumed.records == sequential.records


def test_a_worker_killed_mid_cell_does_not_lose_the_run(sequential, scheduler, tmp_path: Path):
    marker = tmp_path / "died"
    result = run_grid(CELLS, partial(die_once, str(marker)), key=KEY, out=tmp_path / "out", scheduler=scheduler)
    assert marker.exists(), "no worker died: the test did not test anything"
    assert (result.computed, result.reused) == (6, 0)
    assert result.records == sequential.records


def test_a_corrupt_or_foreign_cell_file_is_recomputed(sequential, tmp_path: Path):
    run_grid(CELLS, toy, key=KEY, out=tmp_path)
    truncated = cell_path(tmp_path, KEY, CELLS[1])
    truncated.write_text(truncated.read_text()[:40])
    foreign = cell_path(tmp_path, KEY, CELLS[2])
    payload = json.loads(foreign.read_text())
    payload["cell"] = CELLS[3]  # a file that claims to hold another cell
    foreign.write_text(json.dumps(payload))
    damaged = cell_path(tmp_path, KEY, CELLS[4])
    payload = json.loads(damaged.read_text())
    payload["key"] = float("nan")  # valid JSON to Python, not to the grid
    damaged.write_text(json.dumps(payload))
    with pytest.warns(GridWarning) as caught:
        result = run_grid(CELLS, toy, key=KEY, out=tmp_path)
    assert len(caught) == 3 and "computing the cell again" in str(caught[0].message)
    assert (result.computed, result.reused) == (3, 3)
    assert result.records == sequential.records
    assert json.loads(truncated.read_text())["records"] == sequential.records[2:4]


def test_another_key_reuses_nothing(tmp_path: Path):
    run_grid(CELLS, toy, key=KEY, out=tmp_path)
    other = run_grid(CELLS, toy, key={**KEY, "config": {"n": 4, "scale": 0.5}}, out=tmp_path)
    assert (other.computed, other.reused) == (6, 0)


def test_one_progress_bar_over_cells(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path):
    monkeypatch.setenv("MEMCOMP_PROGRESS", "1")
    run_grid(CELLS, toy, key=KEY, out=tmp_path, desc="toy grid")
    err = capsys.readouterr().err
    assert "toy grid" in err and "6/6" in err
    monkeypatch.setenv("MEMCOMP_PROGRESS", "0")
    run_grid(CELLS, toy, key={"other": 1}, out=tmp_path, desc="toy grid")
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"jobs": 0}, ValueError, r"jobs must be an integer in \[1, 256\]; got 0"),
        ({"jobs": 257}, ValueError, r"jobs must be an integer in \[1, 256\]; got 257"),
        ({"jobs": "2"}, TypeError, r"jobs must be an integer in \[1, 256\]; got '2'"),
        ({"jobs": True}, TypeError, r"jobs must be an integer"),
        ({"scheduler": "localhost"}, ValueError, r"scheduler must be a Dask scheduler address .*\[PROTOCOL://\]HOST:PORT"),
        ({"scheduler": "tcp://127.0.0.1:70000"}, ValueError, r"port must be in \[1, 65535\]"),
        ({"scheduler": "http://127.0.0.1:8786"}, ValueError, r"protocol must be one of tcp"),
        ({"scheduler": 8786}, TypeError, r"scheduler must be a Dask scheduler address"),
        ({"jobs": 2, "scheduler": "tcp://127.0.0.1:8786"}, ValueError, r"give jobs or scheduler, not both"),
        ({"retries": -1}, ValueError, r"retries must be an integer in \[0, 10\]"),
    ],
)
def test_bad_options_are_refused_before_any_work(kwargs, error, message, tmp_path: Path):
    with pytest.raises(error, match=message):
        run_grid(CELLS, toy, key=KEY, out=tmp_path, **kwargs)
    assert not (tmp_path / "cells").exists()


def test_bad_cells_and_keys_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="cells must all differ"):
        run_grid([CELLS[0], dict(CELLS[0])], toy, key=KEY, out=tmp_path)
    with pytest.raises(TypeError, match="key must be JSON-serialisable"):
        run_grid(CELLS, toy, key={"path": Path(".")}, out=tmp_path)
    with pytest.raises(TypeError, match="cells must be a list of dicts"):
        run_grid({"seed": 0}, toy, key=KEY, out=tmp_path)
    with pytest.raises(TypeError, match="must return a list of dicts"):
        run_grid(CELLS[:1], lambda cell: {"not": "a list"}, key=KEY, out=tmp_path)


def test_an_unreachable_scheduler_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with socket.socket() as probe:  # a port on 127.0.0.1 where nothing listens
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setattr(grid, "CONNECT_TIMEOUT", 1)
    with pytest.raises(ConnectionError, match=r"no Dask scheduler answered within 1 s"):
        run_grid(CELLS, toy, key=KEY, out=tmp_path, scheduler=address)


# --------------------------------------------------------------------------- command-line flags


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="memcomp reproduce figure2")
    add_grid_arguments(parser)
    return parser


def test_flags_parse_into_run_grid_options():
    assert grid_options(_parser().parse_args([])) == {"jobs": None, "scheduler": None}
    assert grid_options(_parser().parse_args(["--jobs", "4"])) == {"jobs": 4, "scheduler": None}
    args = _parser().parse_args(["--scheduler", "tcp://10.1.2.3:8786"])
    assert grid_options(args) == {"jobs": None, "scheduler": "tcp://10.1.2.3:8786"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--jobs", "0"], r"argument --jobs: must be an integer in [1, 256] (worker processes); got '0'"),
        (["--jobs", "two"], r"argument --jobs: must be an integer in [1, 256] (worker processes); got 'two'"),
        (["--scheduler", "nowhere"], r"argument --scheduler: must be a Dask scheduler address"),
        (["--jobs", "2", "--scheduler", "tcp://127.0.0.1:8786"], r"argument --scheduler: not allowed with argument --jobs"),
    ],
)
def test_bad_flags_are_usage_errors_naming_the_flag(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
