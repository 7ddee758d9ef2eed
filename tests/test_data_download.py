"""Downloads against a local HTTP server on 127.0.0.1: clean, cached, corrupt, unreachable.

Also the full-MNIST (IDX .gz) and Omniglot (zip) loaders, fed files generated here in the
real formats.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import socket
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from memcomp.data import ChecksumError, DownloadError, fetch, load_mnist, rare_symbols, write_idx
from memcomp.data.omniglot import fetch_omniglot, omniglot_symbols


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www on an ephemeral port; yields (base_url, folder, request_log)."""
    root = tmp_path / "www"
    root.mkdir()
    log: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            log.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root, log
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_clean_download_then_cache_hit(server, tmp_path):
    base, root, log = server
    payload = bytes(range(256)) * 1000
    (root / "blob.bin").write_bytes(payload)
    cache = tmp_path / "cache"
    path = fetch(f"{base}/blob.bin", sha(payload), cache)
    assert path == cache / "blob.bin" and path.read_bytes() == payload
    assert sorted(p.name for p in cache.iterdir()) == ["blob.bin"]  # no temp files left
    again = fetch(f"{base}/blob.bin", sha(payload), cache)
    assert again == path and log == ["/blob.bin"]  # served from the cache


def test_default_cache_dir_is_memcomp_data(server, tmp_path, monkeypatch):
    base, root, _ = server
    (root / "x.txt").write_bytes(b"hello")
    monkeypatch.setenv("MEMCOMP_DATA", str(tmp_path / "envcache"))
    path = fetch(f"{base}/x.txt", sha(b"hello"), filename="y.txt")
    assert path == tmp_path / "envcache" / "y.txt"


def test_corrupt_download_is_rejected_and_leaves_no_file(server, tmp_path):
    base, root, _ = server
    (root / "data.gz").write_bytes(b"these are not the bytes you are looking for")
    expected = sha(b"the real bytes")
    cache = tmp_path / "cache"
    url = f"{base}/data.gz"
    with pytest.raises(ChecksumError) as info:
        fetch(url, expected, cache)
    message = str(info.value)
    assert url in message and expected in message
    assert sha(b"these are not the bytes you are looking for") in message
    assert "source='bundled'" in message
    assert list(cache.iterdir()) == []


def test_bad_cached_file_is_replaced_not_trusted(server, tmp_path):
    base, root, log = server
    good = b"good data" * 100
    (root / "f.bin").write_bytes(good)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "f.bin").write_bytes(b"half a downl")  # e.g. left by some other tool
    path = fetch(f"{base}/f.bin", sha(good), cache)
    assert path.read_bytes() == good and log == ["/f.bin"]


def test_bad_cached_file_is_removed_even_when_download_fails(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "f.bin").write_bytes(b"wrong")
    with pytest.raises(DownloadError):
        fetch(f"http://127.0.0.1:{closed_port()}/f.bin", sha(b"right"), cache, timeout=5)
    assert list(cache.iterdir()) == []


def test_unreachable_host_gives_clear_error(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/train-images-idx3-ubyte.gz"
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError) as info:
        fetch(url, "0" * 64, cache, timeout=5)
    message = str(info.value)
    assert url in message and "load_mnist(source='bundled')" in message
    assert isinstance(info.value, OSError)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_http_error_is_a_download_error(server, tmp_path):
    base, _, _ = server
    with pytest.raises(DownloadError, match=r"HTTP 404"):
        fetch(f"{base}/missing.gz", "0" * 64, tmp_path)


def test_fetch_validates_arguments(tmp_path):
    with pytest.raises(ValueError, match="sha256 must be 64 hexadecimal"):
        fetch("http://127.0.0.1/x", "abc", tmp_path)
    with pytest.raises(ValueError, match="url must be an http"):
        fetch("ftp://example.org/x", "0" * 64, tmp_path)
    with pytest.raises(ValueError, match="timeout"):
        fetch("http://127.0.0.1/x", "0" * 64, tmp_path, timeout=0)
    with pytest.raises(ValueError, match="filename must be a plain file name"):
        fetch("http://127.0.0.1/x", "0" * 64, tmp_path, filename="../x")


def _write_fake_mnist(root: Path) -> tuple[dict[str, str], tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(3)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.arange(30, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.arange(20, dtype=np.uint8) % 10,
    }
    hashes = {}
    for name, arr in arrays.items():
        data = gzip.compress(write_idx(arr), mtime=0)
        (root / name).write_bytes(data)
        hashes[name] = sha(data)
    return hashes, tuple(arrays.values())


def test_load_full_mnist_from_local_mirror(server, tmp_path):
    base, root, log = server
    hashes, arrays = _write_fake_mnist(root)
    out = load_mnist("full", base_url=base, cache_dir=tmp_path / "c", sha256=hashes)
    for got, want in zip(out, arrays):
        assert np.array_equal(got, want)
    assert out[1].dtype == np.int64
    assert sorted(p.name for p in (tmp_path / "c" / "mnist").iterdir()) == sorted(hashes)
    load_mnist("full", base_url=base, cache_dir=tmp_path / "c", sha256=hashes)
    assert len(log) == 4  # second call read the cache


def test_load_full_mnist_corrupt_file(server, tmp_path):
    base, root, _ = server
    hashes, _ = _write_fake_mnist(root)
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(ChecksumError, match="t10k-labels-idx1-ubyte.gz"):
        load_mnist("full", base_url=base, cache_dir=tmp_path / "c", sha256=hashes)
    assert "t10k-labels-idx1-ubyte.gz" not in {p.name for p in (tmp_path / "c" / "mnist").iterdir()}


def _png(ink: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(~ink).convert("1").save(buf, format="PNG")  # black strokes on white, 1-bit
    return buf.getvalue()


def _fake_omniglot_zip(n_alphabets: int = 11, characters: int = 2, drawers: int = 3) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for a in range(n_alphabets):
            for c in range(characters):
                for d in range(drawers):
                    ink = np.zeros((105, 105), bool)
                    ink[20 + 3 * a : 30 + 3 * a, 15:90] = True  # a bar whose height codes the alphabet
                    ink[20:85, 20 + 5 * c + d : 24 + 5 * c + d] = True  # a stem coding character/drawer
                    name = f"images_evaluation/Alphabet_{a:02d}/character{c + 1:02d}/{a:02d}{c:02d}_{d + 1:02d}.png"
                    zf.writestr(name, _png(ink))
    return buf.getvalue()


def test_omniglot_download_parse_and_select(server, tmp_path):
    base, root, log = server
    data = _fake_omniglot_zip()
    (root / "images_evaluation.zip").write_bytes(data)
    opts = dict(base_url=base, sha256=sha(data), cache_dir=tmp_path / "c")
    images, labels, names = rare_symbols("omniglot", images_per_symbol=2, seed=5, **opts)
    assert images.shape == (20, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [i // 2 for i in range(20)]
    assert len(names) == 10 and len({n.split(" / ")[0] for n in names}) == 10  # ten alphabets
    assert images.max() == 255 and images[:, 0, :].max() == 0  # white ink on black, margin kept
    assert log == ["/images_evaluation.zip"]
    again = omniglot_symbols(images_per_symbol=2, seed=5, **opts)
    assert np.array_equal(again[0], images) and len(log) == 1  # deterministic, cached
    other = omniglot_symbols(images_per_symbol=2, seed=6, **opts)
    assert other[2] != names


def test_omniglot_corrupt_archive(server, tmp_path):
    base, root, _ = server
    (root / "images_evaluation.zip").write_bytes(b"PK not really a zip")
    with pytest.raises(ChecksumError, match="images_evaluation.zip"):
        fetch_omniglot(base_url=base, sha256=sha(b"something else"), cache_dir=tmp_path / "c")
    assert list((tmp_path / "c" / "omniglot").iterdir()) == []


def test_omniglot_from_local_zip_needs_ten_alphabets(tmp_path):
    path = tmp_path / "small.zip"
    path.write_bytes(_fake_omniglot_zip(n_alphabets=9))
    with pytest.raises(ValueError, match="9 alphabets; ten are needed"):
        omniglot_symbols(path=path)
    path.write_bytes(_fake_omniglot_zip(n_alphabets=10, drawers=2))
    with pytest.raises(ValueError, match="images_per_symbol must be at most 2"):
        omniglot_symbols(path=path, images_per_symbol=3)
