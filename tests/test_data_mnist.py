"""Bundled MNIST and the IDX parser."""

from __future__ import annotations

import gzip
import hashlib
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from memcomp.data import load_bundled_mnist, load_mnist, read_idx, write_idx

SOURCES = Path(__file__).resolve().parents[1] / "memcomp" / "data" / "SOURCES.md"


def test_bundled_shapes_dtypes_and_balance():
    train_x, train_y, test_x, test_y = load_bundled_mnist()
    assert train_x.shape == (20000, 28, 28) and test_x.shape == (5000, 28, 28)
    assert train_x.dtype == np.uint8 and test_x.dtype == np.uint8
    assert train_y.dtype == np.int64 and test_y.dtype == np.int64
    assert np.bincount(train_y, minlength=10).tolist() == [2000] * 10
    assert np.bincount(test_y, minlength=10).tolist() == [500] * 10
    # MNIST look: black background, white ink, ~13% mean intensity, ink reaching 255
    assert train_x.max() == 255 and train_x[:, 0, :].mean() < 1  # border almost always empty
    assert 0.11 < train_x.mean() / 255 < 0.15 and 0.11 < test_x.mean() / 255 < 0.15
    # classes differ on average: a per-class mean image classifies its own class best
    means = np.stack([train_x[train_y == c].mean(axis=0) for c in range(10)]).reshape(10, -1)
    d = ((test_x.reshape(len(test_x), 1, -1) / 255.0 - means[None] / 255.0) ** 2).sum(axis=2)
    assert (d.argmin(axis=1) == test_y).mean() > 0.75
    # no test image is also a training image
    assert not set(map(bytes, train_x.reshape(len(train_x), -1))) & set(map(bytes, test_x.reshape(len(test_x), -1)))


def test_bundled_is_a_copy_and_matches_load_mnist():
    a = load_bundled_mnist()
    a[0][0, 0, 0] = 77
    b = load_mnist("bundled")
    assert b[0][0, 0, 0] == 0
    assert all(np.array_equal(x, y) for x, y in zip(b[1:], a[1:]))


def test_bundled_file_hash_is_recorded_in_sources():
    raw = resources.files("memcomp.data").joinpath("mnist_subset.npz").read_bytes()
    assert len(raw) <= 8_000_000
    digest = hashlib.sha256(raw).hexdigest()
    recorded = re.search(r"`mnist_subset.npz`: [\d,]+ bytes, sha256\s+`([0-9a-f]{64})`", SOURCES.read_text())
    assert recorded is not None and recorded.group(1) == digest
    assert f"{len(raw):,} bytes" in SOURCES.read_text()


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(dtype):
    rng = np.random.default_rng(0)
    arr = (rng.normal(size=(4, 3, 5)) * 50).astype(dtype)
    data = write_idx(arr)
    for blob in (data, gzip.compress(data)):
        back = read_idx(blob)
        assert back.dtype == np.dtype(dtype) and np.array_equal(back, arr)


def test_idx_header_layout_and_path_input(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    data = write_idx(labels)
    assert data[:8] == bytes([0, 0, 0x08, 1, 0, 0, 0, 10])  # MNIST label magic 2049, count 10
    path = tmp_path / "labels.idx.gz"
    path.write_bytes(gzip.compress(data))
    assert np.array_equal(read_idx(path), labels)
    assert np.array_equal(read_idx(str(path)), labels)


def test_idx_errors_are_clear():
    good = write_idx(np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="bad IDX magic number 0x01000803"):
        read_idx(b"\x01" + good[1:])
    with pytest.raises(ValueError, match="bad IDX magic"):
        read_idx(b"\x00\x00\x07\x03" + good[4:])  # unknown type byte
    with pytest.raises(ValueError, match=r"need 1568 data bytes; found 1567"):
        read_idx(good[:-1])
    with pytest.raises(ValueError, match="truncated IDX header"):
        read_idx(good[:10])
    with pytest.raises(ValueError, match="corrupt gzip"):
        read_idx(gzip.compress(good)[:-20])
    with pytest.raises(ValueError, match="IDX dtype"):
        write_idx(np.zeros(3, np.uint64))


def test_load_mnist_rejects_unknown_source():
    with pytest.raises(ValueError, match="source must be one of 'bundled', 'full'; got 'kaggle'"):
        load_mnist("kaggle")
