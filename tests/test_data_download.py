"""Downloads against local servers on 127.0.0.1 (fixtures in conftest.py).

Covered: clean download and cache hit; a corrupt file (sha256 mismatch); a body cut short
(Content-Length larger than what is sent); a server that accepts and never answers
(timeout); an unreachable host; an exception in the middle of writing; the second mirror
used when the first fails. In every failure the cache keeps no file and the error is one
readable line naming the file, the addresses tried and how to go on offline. Also the
full-MNIST (IDX .gz) and Omniglot (zip) loaders, fed files generated here in the real formats.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

import memcomp.data.download as download
from memcomp.data import ChecksumError, DownloadError, fetch, load_mnist, rare_symbols, write_idx
from memcomp.data.omniglot import fetch_omniglot, omniglot_symbols

PAYLOAD = bytes(range(256)) * 1000  # 256,000 bytes: several read chunks


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_in(folder: Path) -> list[str]:
    """Names in ``folder`` (hidden temporary files included); [] if it does not exist."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def assert_one_clear_line(error: DownloadError, filename: str, urls: list[str]) -> str:
    """The message is one line naming the file and each URL, and is no advice to call Python."""
    message = str(error)
    assert "\n" not in message and "Traceback" not in message
    assert f"could not download {filename}: tried " in message
    for url in urls:
        assert url in message
    assert [u for u, _ in error.attempts] == urls and error.filename == filename
    return message


def test_clean_download_then_cache_hit(http_server, data_cache):
    (http_server.root / "blob.bin").write_bytes(PAYLOAD)
    path = fetch(f"{http_server.url}/blob.bin", sha(PAYLOAD))
    assert path == data_cache / "blob.bin" and path.read_bytes() == PAYLOAD
    assert files_in(data_cache) == ["blob.bin"]  # no temporary file left
    again = fetch(f"{http_server.url}/blob.bin", sha(PAYLOAD))
    assert again == path and http_server.log == ["/blob.bin"]  # served from the cache


def test_dest_dir_and_filename_override_the_cache(http_server, data_cache, tmp_path):
    (http_server.root / "x.txt").write_bytes(b"hello")
    path = fetch(f"{http_server.url}/x.txt", sha(b"hello"), tmp_path / "elsewhere", filename="y.txt")
    assert path == tmp_path / "elsewhere" / "y.txt" and path.read_bytes() == b"hello"
    assert files_in(data_cache) == []


def test_corrupt_download_is_rejected_and_leaves_no_file(http_server, data_cache):
    bad = b"these are not the bytes you are looking for"
    (http_server.root / "data.gz").write_bytes(bad)
    url = f"{http_server.url}/data.gz"
    with pytest.raises(ChecksumError) as info:
        fetch(url, sha(b"the real bytes"))
    message = assert_one_clear_line(info.value, "data.gz", [url])
    assert sha(b"the real bytes") in message and sha(bad) in message
    assert files_in(data_cache) == []
    # no broken cache: once the server has the right bytes, the same call succeeds
    (http_server.root / "data.gz").write_bytes(b"the real bytes")
    assert fetch(url, sha(b"the real bytes")).read_bytes() == b"the real bytes"


def test_truncated_body_is_a_download_error(http_server, data_cache):
    (http_server.root / "big.bin").write_bytes(PAYLOAD)
    http_server.truncate["big.bin"] = 1000  # announce 1,000 bytes more than are sent
    url = f"{http_server.url}/big.bin"
    with pytest.raises(DownloadError) as info:
        fetch(url, sha(PAYLOAD))
    assert not isinstance(info.value, ChecksumError)
    message = assert_one_clear_line(info.value, "big.bin", [url])
    assert f"cut short: got {len(PAYLOAD)} of {len(PAYLOAD) + 1000} bytes" in message
    assert files_in(data_cache) == []


def test_server_that_never_answers_times_out(silent_server, data_cache):
    url = f"{silent_server}/train-images-idx3-ubyte.gz"
    with pytest.raises(DownloadError) as info:
        fetch(url, sha(PAYLOAD), timeout=1)
    message = assert_one_clear_line(info.value, "train-images-idx3-ubyte.gz", [url])
    assert "no answer within 1 s" in message
    assert files_in(data_cache) == []


def test_default_timeout_is_finite():
    assert 0 < download.DEFAULT_TIMEOUT <= 120


def test_unreachable_host_gives_clear_error(unreachable_url, data_cache):
    url = f"{unreachable_url}/train-images-idx3-ubyte.gz"
    with pytest.raises(DownloadError) as info:
        fetch(url, "0" * 64, timeout=5)
    message = assert_one_clear_line(info.value, "train-images-idx3-ubyte.gz", [url])
    assert "connection refused" in message.lower()
    assert "Check the network connection and the address." in message  # the default hint
    assert isinstance(info.value, OSError) and not isinstance(info.value, ChecksumError)
    assert files_in(data_cache) == []


def test_http_error_is_a_download_error(http_server, data_cache):
    with pytest.raises(DownloadError, match=r"missing\.gz \(HTTP 404 "):
        fetch(f"{http_server.url}/missing.gz", "0" * 64)


@pytest.mark.parametrize(
    "failure",
    [KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left on device")],
    ids=["ctrl-c", "disk-full"],
)
def test_exception_mid_write_leaves_no_partial_file(http_server, data_cache, monkeypatch, failure):
    (http_server.root / "big.bin").write_bytes(PAYLOAD)
    seen_partial = []

    def failing_progress(chunks, **kwargs):
        iterator = iter(chunks)
        yield next(iterator)  # the first chunk is written to the temporary file ...
        seen_partial.extend(p for p in files_in(data_cache) if p.endswith(".part"))
        raise failure  # ... then the process is interrupted or the disk fills up

    original = download.progress
    monkeypatch.setattr(download, "progress", failing_progress)
    with pytest.raises(type(failure)) as info:
        fetch(f"{http_server.url}/big.bin", sha(PAYLOAD))
    assert info.value is failure  # not disguised as a network error
    assert len(seen_partial) == 1  # a partial file did exist ...
    assert files_in(data_cache) == []  # ... and is gone
    monkeypatch.setattr(download, "progress", original)
    assert fetch(f"{http_server.url}/big.bin", sha(PAYLOAD)).read_bytes() == PAYLOAD


def test_second_mirror_is_used_when_the_first_fails(http_server, unreachable_url, data_cache):
    (http_server.root / "f.bin").write_bytes(PAYLOAD)
    path = fetch([f"{unreachable_url}/f.bin", f"{http_server.url}/f.bin"], sha(PAYLOAD))
    assert path.read_bytes() == PAYLOAD and files_in(data_cache) == ["f.bin"]


def test_corrupt_first_mirror_falls_back_to_the_second(http_server, data_cache):
    (http_server.root / "bad").mkdir()
    (http_server.root / "bad" / "f.bin").write_bytes(b"corrupt")
    (http_server.root / "f.bin").write_bytes(PAYLOAD)
    path = fetch([f"{http_server.url}/bad/f.bin", f"{http_server.url}/f.bin"], sha(PAYLOAD))
    assert path.read_bytes() == PAYLOAD and http_server.log == ["/bad/f.bin", "/f.bin"]
    assert files_in(data_cache) == ["f.bin"]


def test_every_mirror_failing_names_each(http_server, unreachable_url, data_cache):
    (http_server.root / "f.bin").write_bytes(b"corrupt")
    urls = [f"{unreachable_url}/f.bin", f"{http_server.url}/f.bin"]
    with pytest.raises(DownloadError) as info:
        fetch(urls, sha(PAYLOAD), offline_hint="Use the bundled copy.")
    assert not isinstance(info.value, ChecksumError)  # one mirror failed on the network
    message = assert_one_clear_line(info.value, "f.bin", urls)
    assert "Use the bundled copy." in message and "sha256" in message
    assert files_in(data_cache) == []


def test_bad_cached_file_is_replaced_not_trusted(http_server, data_cache):
    data_cache.mkdir()
    (data_cache / "f.bin").write_bytes(b"half a downl")  # e.g. left by some other tool
    (http_server.root / "f.bin").write_bytes(PAYLOAD)
    path = fetch(f"{http_server.url}/f.bin", sha(PAYLOAD))
    assert path.read_bytes() == PAYLOAD and http_server.log == ["/f.bin"]


def test_bad_cached_file_is_removed_even_when_download_fails(unreachable_url, data_cache):
    data_cache.mkdir()
    (data_cache / "f.bin").write_bytes(b"wrong")
    with pytest.raises(DownloadError):
        fetch(f"{unreachable_url}/f.bin", sha(b"right"), timeout=5)
    assert files_in(data_cache) == []


def test_fetch_validates_arguments(tmp_path):
    with pytest.raises(ValueError, match="sha256 must be 64 hexadecimal"):
        fetch("http://127.0.0.1/x", "abc", tmp_path)
    with pytest.raises(ValueError, match="url must be an http"):
        fetch("ftp://example.org/x", "0" * 64, tmp_path)
    with pytest.raises(ValueError, match="url must be an http"):
        fetch(["http://127.0.0.1/x", 3], "0" * 64, tmp_path)
    with pytest.raises(ValueError, match="urls must be an http"):
        fetch([], "0" * 64, tmp_path)
    with pytest.raises(ValueError, match=r"timeout must be a finite number in \(0, inf\); got 0"):
        fetch("http://127.0.0.1/x", "0" * 64, tmp_path, timeout=0)
    with pytest.raises(ValueError, match="filename must be a plain file name"):
        fetch("http://127.0.0.1/x", "0" * 64, tmp_path, filename="../x")
    with pytest.raises(ValueError, match="filename must be given"):
        fetch("http://127.0.0.1/", "0" * 64, tmp_path)
    assert files_in(tmp_path) == []


# --------------------------------------------------------------------------- full MNIST


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


def test_load_full_mnist_from_local_mirror(http_server, data_cache):
    hashes, arrays = _write_fake_mnist(http_server.root)
    out = load_mnist("full", base_url=http_server.url, sha256=hashes)
    for got, want in zip(out, arrays):
        assert np.array_equal(got, want)
    assert out[1].dtype == np.int64 and out[3].dtype == np.int64
    assert files_in(data_cache / "mnist") == sorted(hashes)
    load_mnist("full", base_url=http_server.url, sha256=hashes)
    assert len(http_server.log) == 4  # the second call read the cache


def test_load_full_mnist_falls_back_to_the_second_mirror(http_server, data_cache):
    hashes, arrays = _write_fake_mnist(http_server.root)
    dead = f"{http_server.url}/gone"  # answers 404 for every file
    out = load_mnist("full", base_url=[dead, http_server.url], sha256=hashes)
    assert all(np.array_equal(g, w) for g, w in zip(out, arrays))
    # the first file tried the dead mirror, then the working one stayed first
    assert http_server.log == ["/gone/train-images-idx3-ubyte.gz"] + [f"/{n}" for n in hashes]


def test_load_full_mnist_offline_says_use_bundled(unreachable_url, silent_server, data_cache):
    with pytest.raises(DownloadError) as info:
        load_mnist("full", base_url=[unreachable_url, silent_server], timeout=1)
    name = "train-images-idx3-ubyte.gz"
    message = assert_one_clear_line(info.value, name, [f"{unreachable_url}/{name}", f"{silent_server}/{name}"])
    assert "--source bundled" in message and 'source="bundled"' in message
    assert "no answer within 1 s" in message and "load_mnist(" not in message
    assert files_in(data_cache / "mnist") == []


def test_load_full_mnist_corrupt_file(http_server, data_cache):
    hashes, _ = _write_fake_mnist(http_server.root)
    (http_server.root / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(ChecksumError, match="could not download t10k-labels-idx1-ubyte.gz"):
        load_mnist("full", base_url=http_server.url, sha256=hashes)
    # the good files are kept, the corrupt one is not
    assert files_in(data_cache / "mnist") == sorted(set(hashes) - {"t10k-labels-idx1-ubyte.gz"})


def test_load_mnist_validates_arguments():
    with pytest.raises(ValueError, match="base_url must be a URL, a non-empty list of URLs, or None"):
        load_mnist("full", base_url=[])
    with pytest.raises(ValueError, match=r"sha256 must give a hash for each of .*missing"):
        load_mnist("full", sha256={"train-images-idx3-ubyte.gz": "0" * 64})


# --------------------------------------------------------------------------- Omniglot


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
                    ink[20:85, 20 + 5 * c + d : 24 + 5 * c + d] = True  # a stem: character/drawer
                    name = f"images_evaluation/Alphabet_{a:02d}/character{c + 1:02d}/{a:02d}{c:02d}_{d + 1:02d}.png"
                    zf.writestr(name, _png(ink))
    return buf.getvalue()


def test_omniglot_download_parse_and_select(http_server, data_cache):
    data = _fake_omniglot_zip()
    (http_server.root / "images_evaluation.zip").write_bytes(data)
    opts = dict(base_url=http_server.url, sha256=sha(data))
    images, labels, names = rare_symbols("omniglot", images_per_symbol=2, seed=5, **opts)
    assert images.shape == (20, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [i // 2 for i in range(20)]
    assert len(names) == 10 and len({n.split(" / ")[0] for n in names}) == 10  # ten alphabets
    assert images.max() == 255 and images[:, 0, :].max() == 0  # white ink on black, margin kept
    assert http_server.log == ["/images_evaluation.zip"]
    assert files_in(data_cache / "omniglot") == ["images_evaluation.zip"]
    again = omniglot_symbols(images_per_symbol=2, seed=5, **opts)
    assert np.array_equal(again[0], images) and len(http_server.log) == 1  # deterministic, cached
    other = omniglot_symbols(images_per_symbol=2, seed=6, **opts)
    assert other[2] != names


def test_omniglot_corrupt_archive(http_server, data_cache):
    (http_server.root / "images_evaluation.zip").write_bytes(b"PK not really a zip")
    with pytest.raises(ChecksumError, match="could not download images_evaluation.zip") as info:
        fetch_omniglot(base_url=http_server.url, sha256=sha(b"something else"))
    assert "--symbols rendered" in str(info.value) and 'kind="rendered"' in str(info.value)
    assert files_in(data_cache / "omniglot") == []


def test_omniglot_falls_back_to_the_second_mirror(http_server, unreachable_url, data_cache):
    data = _fake_omniglot_zip(n_alphabets=10, drawers=1)
    (http_server.root / "images_evaluation.zip").write_bytes(data)
    path = fetch_omniglot(base_url=[unreachable_url, http_server.url], sha256=sha(data))
    assert path == data_cache / "omniglot" / "images_evaluation.zip" and path.read_bytes() == data


def test_omniglot_from_local_zip_needs_ten_alphabets(tmp_path):
    path = tmp_path / "small.zip"
    path.write_bytes(_fake_omniglot_zip(n_alphabets=9))
    with pytest.raises(ValueError, match="9 alphabets; ten are needed"):
        omniglot_symbols(path=path)
    path.write_bytes(_fake_omniglot_zip(n_alphabets=10, drawers=2))
    with pytest.raises(ValueError, match="images_per_symbol must be at most 2"):
        omniglot_symbols(path=path, images_per_symbol=3)
    with pytest.raises(ValueError, match="base_url must be a URL"):
        fetch_omniglot(base_url=[])
