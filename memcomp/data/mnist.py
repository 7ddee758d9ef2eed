"""MNIST: the bundled subset (offline) and the full set (IDX files, downloaded on request).

MNIST is by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, licensed CC BY-SA 3.0.
The bundled file ``mnist_subset.npz`` holds 2,000 training and 500 test images per class
(real MNIST, uint8, chosen by ``scripts/build_mnist_subset.py``; provenance in SOURCES.md).
"""

from __future__ import annotations

import functools
import gzip
import io
import os
import struct
from importlib import resources
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from memcomp.checks import check_choice
from memcomp.data.download import DEFAULT_TIMEOUT, _fetch
from memcomp.data.download import cache_dir as default_cache_dir

#: Public homes of the four IDX files, tried in order (yann.lecun.com itself is no longer
#: reliably reachable; these mirrors serve the same bytes).
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: sha256 of the canonical gzipped IDX files (as listed by TensorFlow Datasets, torchvision
#: ports and others). Their *uncompressed* hashes, in SOURCES.md, were checked against the
#: bundled data's source.
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

BUNDLED_FILE = "mnist_subset.npz"

#: How to go on without the network, appended to download errors.
OFFLINE_HINT = (
    "To work offline, use the bundled MNIST subset: --source bundled on the command line, "
    'source="bundled" in Python.'
)

MnistArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

# IDX type byte -> big-endian numpy dtype
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_DTYPES.items()}


def read_idx(source: str | os.PathLike | bytes) -> np.ndarray:
    """Parse an IDX file (plain or gzipped) given as a path or as bytes.

    Format: two zero bytes, a type byte (0x08 uint8 ... 0x0E float64), the number of
    dimensions, each dimension as a big-endian uint32, then the data in C order.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, label = bytes(source), "IDX bytes"
    elif isinstance(source, (str, os.PathLike)):
        data, label = Path(source).read_bytes(), str(source)
    else:
        raise ValueError(f"source must be a path or bytes; got {type(source).__name__}")
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{label}: corrupt gzip stream ({exc})") from exc
    if len(data) < 4:
        raise ValueError(f"{label}: too short to be an IDX file ({len(data)} bytes)")
    zero, code, ndim = data[:2], data[2], data[3]
    if zero != b"\x00\x00" or code not in _IDX_DTYPES:
        raise ValueError(
            f"{label}: bad IDX magic number 0x{data[:4].hex()} (expected 0x0000TTNN with type "
            f"TT in {', '.join(f'{c:02x}' for c in _IDX_DTYPES)})"
        )
    if ndim == 0:
        raise ValueError(f"{label}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{label}: truncated IDX header ({len(data)} bytes, need {header})")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"{label}: IDX dimensions {dims} need {expected} data bytes; found {len(data) - header}"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(array: np.ndarray) -> bytes:
    """Encode an array as IDX bytes (the inverse of :func:`read_idx`; not gzipped)."""
    array = np.asarray(array)
    code = _IDX_CODES.get(array.dtype.newbyteorder("="))
    if code is None or array.ndim == 0 or array.ndim > 255:
        raise ValueError(
            f"array must have 1-255 dimensions and an IDX dtype (uint8, int8, int16, int32, "
            f"float32, float64); got dtype {array.dtype}, shape {array.shape}"
        )
    head = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + np.ascontiguousarray(array, dtype=_IDX_DTYPES[code]).tobytes()


@functools.lru_cache(maxsize=1)
def _bundled() -> MnistArrays:
    raw = resources.files("memcomp.data").joinpath(BUNDLED_FILE).read_bytes()
    with np.load(io.BytesIO(raw)) as npz:
        arrays = (
            npz["train_images"],
            npz["train_labels"].astype(np.int64),
            npz["test_images"],
            npz["test_labels"].astype(np.int64),
        )
    for a in arrays:
        a.flags.writeable = False
    return arrays


def load_bundled_mnist() -> MnistArrays:
    """The bundled MNIST subset: ``(train_images, train_labels, test_images, test_labels)``.

    Images are uint8 ``(N, 28, 28)`` (ink 255 on background 0), labels int64 ``(N,)``:
    2,000 training and 500 test images per class. No network needed.
    """
    return tuple(a.copy() for a in _bundled())  # type: ignore[return-value]


def _check_bases(base_url: object) -> tuple[str, ...]:
    items = (base_url,) if isinstance(base_url, str) else base_url
    if not isinstance(items, (list, tuple)) or not items or not all(isinstance(b, str) for b in items):
        raise ValueError(f"base_url must be a URL, a non-empty list of URLs, or None; got {base_url!r}")
    return tuple(items)


def _validate(images: np.ndarray, labels: np.ndarray, name: str) -> None:
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{name} images must be uint8 (N, 28, 28); got {images.dtype} {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"{name} labels must be (N,) with N = {len(images)}; got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{name} labels must lie in 0..9; found {labels.min()}..{labels.max()}")


def load_mnist(
    source: str = "bundled",
    *,
    base_url: str | Sequence[str] | None = None,
    cache_dir: str | os.PathLike | None = None,
    sha256: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> MnistArrays:
    """MNIST as ``(train_images, train_labels, test_images, test_labels)``.

    Parameters
    ----------
    source : {"bundled", "full"}
        ``"bundled"`` (default): the packaged subset, offline. ``"full"``: the four standard
        IDX ``.gz`` files (60,000 + 10,000 images), downloaded once and cached.
    base_url : str or sequence of str, optional
        Folder URL(s) holding the four files, tried in order for each file; default
        :data:`MNIST_MIRRORS`. A mirror that served a file is tried first for the next.
    cache_dir : str or os.PathLike, optional
        Cache folder (files go under its ``mnist/``); default ``$MEMCOMP_DATA`` or
        ``~/.cache/memcomp``.
    sha256 : mapping of str to str, optional
        Expected sha256 per file name; default :data:`MNIST_SHA256`.
    timeout : float
        Seconds to wait for a connection and for each read.

    Returns
    -------
    tuple of numpy.ndarray
        Images uint8 ``(N, 28, 28)`` (ink 255 on background 0), labels int64 ``(N,)``.

    Raises
    ------
    DownloadError
        (an ``OSError``) if a file cannot be downloaded from any mirror; the message names
        the file, the addresses tried, and ``--source bundled`` / ``source="bundled"``.
    """
    check_choice("source", source, ("bundled", "full"))
    if source == "bundled":
        return load_bundled_mnist()
    hashes = dict(MNIST_SHA256 if sha256 is None else sha256)
    missing = sorted(set(MNIST_SHA256) - set(hashes))
    if missing:
        raise ValueError(f"sha256 must give a hash for each of {sorted(MNIST_SHA256)}; missing {missing}")
    bases = list(MNIST_MIRRORS if base_url is None else _check_bases(base_url))
    folder = (Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()) / "mnist"

    paths = {}
    for name in MNIST_SHA256:
        urls = [base.rstrip("/") + "/" + name for base in bases]
        paths[name], used = _fetch(urls, hashes[name], folder, name, timeout=timeout, offline_hint=OFFLINE_HINT)
        if used is not None:  # the mirror that served this file is tried first for the next
            first = bases[urls.index(used)]
            bases = [first] + [b for b in bases if b != first]

    train_images = read_idx(paths["train-images-idx3-ubyte.gz"])
    train_labels = read_idx(paths["train-labels-idx1-ubyte.gz"]).astype(np.int64)
    test_images = read_idx(paths["t10k-images-idx3-ubyte.gz"])
    test_labels = read_idx(paths["t10k-labels-idx1-ubyte.gz"]).astype(np.int64)
    _validate(train_images, train_labels, "train")
    _validate(test_images, test_labels, "test")
    return train_images, train_labels, test_images, test_labels
