"""A pytest plugin for nbval runs: every chapter's peak memory, printed as a table.

After the last cell of a notebook has run, and before nbval stops its kernel, the plugin
asks the kernel for its peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``
through a ``user_expressions`` request: nothing is printed in the notebook, and its outputs
are untouched), and the largest of the processes it started and waited for
(``RUSAGE_CHILDREN``: the Figure 1 sweep's worker processes, for example). A chapter whose
kernel peaks at or above the limit (default 1.5 GB, so that a 2 GB Binder session runs
any chapter) fails in the teardown of its last cell. The table closes the run's report;
with ``MEMCOMP_MEMORY_LOG=PATH`` its rows are also appended to ``PATH`` (tab-separated).

Use: ``pytest -p tests.nbval_memory --nbval ...`` (``make test`` does), from the repository
root. Options: ``--nbval-memory-limit-mb`` (default 1500).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DEFAULT_LIMIT_MB = 1500.0  # 1.5 GB (decimal); Binder sessions have 2 GB
_PROBE = {
    "kernel": "__import__('resource').getrusage(__import__('resource').RUSAGE_SELF).ru_maxrss",
    "children": "__import__('resource').getrusage(__import__('resource').RUSAGE_CHILDREN).ru_maxrss",
}
_KEY = pytest.StashKey[list]()


@dataclass
class Peak:
    chapter: str
    kernel_mb: float | None
    children_mb: float | None
    limit_mb: float

    @property
    def over(self) -> bool:
        return self.kernel_mb is not None and self.kernel_mb >= self.limit_mb


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--nbval-memory-limit-mb",
        type=float,
        default=DEFAULT_LIMIT_MB,
        help="fail a notebook whose kernel's peak resident memory reaches this many MB (default 1500)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_KEY] = []


def _kilobytes_to_mb(value: str) -> float:
    return int(value) * 1024 / 1e6  # ru_maxrss is in KiB on Linux


def measure(kernel, timeout: float = 60.0) -> tuple[float | None, float | None]:
    """``(kernel MB, largest child MB)`` of a running nbval kernel (None where unknown)."""
    if kernel is None or not kernel.is_alive():
        return None, None
    msg_id = kernel.kc.execute("", silent=True, store_history=False, user_expressions=_PROBE, allow_stdin=False)
    deadline = time.monotonic() + timeout
    while True:
        msg = kernel.get_message(stream="shell", timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            break
    found = msg["content"].get("user_expressions", {})
    values = []
    for name in ("kernel", "children"):
        entry = found.get(name, {})
        text = entry.get("data", {}).get("text/plain") if entry.get("status") == "ok" else None
        values.append(_kilobytes_to_mb(text) if text is not None else None)
    return values[0], values[1]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After a notebook's last cell (before nbval stops the kernel): measure and check."""
    notebook = item.parent
    if not hasattr(notebook, "kernel") or (nextitem is not None and nextitem.parent is notebook):
        return
    limit = item.config.getoption("--nbval-memory-limit-mb")
    try:
        kernel_mb, children_mb = measure(notebook.kernel)
    except Exception:  # a dead or silent kernel: nothing to measure (nbval reports the cell)
        kernel_mb, children_mb = None, None
    chapter = os.path.relpath(str(notebook.path), str(item.config.rootpath))
    peak = Peak(chapter, kernel_mb, children_mb, limit)
    item.config.stash[_KEY].append(peak)
    log = os.environ.get("MEMCOMP_MEMORY_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{chapter}\t{_fmt(kernel_mb)}\t{_fmt(children_mb)}\n")
    if peak.over:
        raise AssertionError(
            f"{chapter}: the kernel's peak resident memory is {kernel_mb:.0f} MB, at or above the "
            f"{limit:.0f} MB limit (a 2 GB Binder session must run every chapter)"
        )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def table(peaks: list[Peak]) -> list[str]:
    """The report's lines: one row per chapter, MB = 10^6 bytes."""
    width = max([len("chapter")] + [len(p.chapter) for p in peaks])
    lines = [f"{'chapter':<{width}}  {'kernel peak MB':>14}  {'largest child MB':>16}"]
    for p in peaks:
        flag = "  OVER THE LIMIT" if p.over else ""
        lines.append(f"{p.chapter:<{width}}  {_fmt(p.kernel_mb):>14}  {_fmt(p.children_mb):>16}{flag}")
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    peaks = config.stash.get(_KEY, [])
    if not peaks:
        return
    limit = config.getoption("--nbval-memory-limit-mb")
    terminalreporter.section(f"peak memory of each notebook's kernel (limit {limit:.0f} MB)")
    for line in table(peaks):
        terminalreporter.write_line(line)
