"""Fixtures shared by the test files."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No progress bars (as under nbval)."""
    monkeypatch.setenv("MEMCOMP_PROGRESS", "0")


@pytest.fixture
def torch_threads(monkeypatch: pytest.MonkeyPatch):
    """Torch uses ``$MEMCOMP_THREADS`` threads (default 1) during the test, restored after.

    Also sets ``MEMCOMP_THREADS`` for the command line, which reads it. One thread by default:
    two threads on a busy 2-core machine are many times slower.
    """
    import torch

    n = int(os.environ.get("MEMCOMP_THREADS") or 1)
    monkeypatch.setenv("MEMCOMP_THREADS", str(n))
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    yield n
    torch.set_num_threads(before)
