"""Fixtures shared by the test files."""

from __future__ import annotations

import http.server
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

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


# --------------------------------------------------------------------------- data (downloads)
# Every server listens on 127.0.0.1 only, on a port the system picks, and stops by itself:
# at the end of its test, and in any case after SERVER_LIFETIME seconds.

SERVER_LIFETIME = 120.0


@pytest.fixture
def data_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty download cache: ``$MEMCOMP_DATA`` points at it during the test (no progress bars)."""
    cache = tmp_path / "memcomp-data"
    monkeypatch.setenv("MEMCOMP_DATA", str(cache))
    monkeypatch.setenv("MEMCOMP_PROGRESS", "0")
    return cache


@dataclass
class LocalServer:
    """A file server on 127.0.0.1 (see the ``http_server`` fixture).

    ``url``: its address; ``root``: the folder it serves; ``log``: request paths, in order;
    ``truncate``: file name -> extra bytes announced in Content-Length but never sent (the
    server sends the file, then closes the connection).
    """

    url: str
    root: Path
    log: list[str] = field(default_factory=list)
    truncate: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[LocalServer]:
    """Serve ``tmp_path / "www"`` over HTTP on 127.0.0.1."""
    root = tmp_path / "www"
    root.mkdir()
    state = LocalServer(url="", root=root)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            state.log.append(self.path)
            extra = state.truncate.get(self.path.lstrip("/"))
            if extra is None:
                super().do_GET()
                return
            data = (root / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data) + extra))
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    limit = threading.Timer(SERVER_LIFETIME, httpd.shutdown)
    limit.daemon = True
    thread.start()
    limit.start()
    try:
        yield state
    finally:
        limit.cancel()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Address of a server on 127.0.0.1 that accepts connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        deadline = time.monotonic() + SERVER_LIFETIME
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = listener.accept()
            except OSError:  # timeout: look at the flags again
                continue
            held.append(conn)  # keep it open, read nothing, answer nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.fixture
def unreachable_url() -> str:
    """Address of a port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
