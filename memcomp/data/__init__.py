"""Data: bundled MNIST, full MNIST and Omniglot downloads, rare symbols, the digit-sum task.

- :func:`load_mnist` / :func:`load_bundled_mnist`: real MNIST, offline subset or full download
- :func:`fetch`: sha256-checked, cached, atomic downloads from mirrors (:class:`DownloadError`)
- :func:`rare_symbols`: ten one-shot symbols labelled 0-9 (rendered offline, or Omniglot)
- :func:`build_digit_sum`, :func:`build_rare_symbol_task`: the tasks of Figure 2 and Table 1
"""

from memcomp.data.digitsum import (
    DigitSumSplit,
    DigitSumTask,
    RareSymbolTask,
    build_digit_sum,
    build_rare_symbol_task,
    nearest_train_distance,
    zipf_probabilities,
)
from memcomp.data.download import ChecksumError, DownloadError, cache_dir, fetch, sha256_file
from memcomp.data.framing import mnist_frame
from memcomp.data.mnist import MNIST_MIRRORS, MNIST_SHA256, load_bundled_mnist, load_mnist, read_idx, write_idx
from memcomp.data.omniglot import fetch_omniglot, omniglot_symbols
from memcomp.data.symbols import (
    RENDERED_SYMBOLS,
    FontNotFoundError,
    font_path,
    rare_symbols,
    render_symbol,
    rendering_info,
)

__all__ = [
    "ChecksumError",
    "DigitSumSplit",
    "DigitSumTask",
    "DownloadError",
    "FontNotFoundError",
    "MNIST_MIRRORS",
    "MNIST_SHA256",
    "RENDERED_SYMBOLS",
    "RareSymbolTask",
    "build_digit_sum",
    "build_rare_symbol_task",
    "cache_dir",
    "fetch",
    "fetch_omniglot",
    "font_path",
    "load_bundled_mnist",
    "load_mnist",
    "mnist_frame",
    "nearest_train_distance",
    "omniglot_symbols",
    "rare_symbols",
    "read_idx",
    "render_symbol",
    "rendering_info",
    "sha256_file",
    "write_idx",
    "zipf_probabilities",
]
