"""Writing experiment results: one JSON file (and one figure) per experiment.

Every payload carries an ``environment`` block (:func:`environment`) saying where it ran,
and the output folder is made and checked writable (:func:`prepare_out`) before any work.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples into JSON-ready Python objects."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a crash never
    leaves a half-written file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as indented JSON (numpy values converted), atomically."""
    text = json.dumps(_plain(payload), indent=2, sort_keys=False) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_png(path: str | os.PathLike, fig: Any, dpi: int = 120) -> Path:
    """Render the matplotlib figure ``fig`` as PNG to ``path``, atomically.

    A figure made through pyplot is closed afterwards; one made with
    ``matplotlib.figure.Figure`` holds no global state and needs no closing.
    """
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and getattr(fig.canvas, "manager", None) is not None:
        pyplot.close(fig)  # made through pyplot
    return atomic_write_bytes(path, buf.getvalue())


def prepare_out(out: str | os.PathLike, flag: str = "--out") -> Path:
    """Create the output folder ``out`` if needed and check that files can be written there.

    Called before any computation, so that a run never ends by failing to save its results.

    Parameters
    ----------
    out : str or os.PathLike
        The folder.
    flag : str
        The option or parameter named in error messages.

    Returns
    -------
    pathlib.Path
        ``out`` as a path.

    Raises
    ------
    ValueError
        If ``out`` is an existing file.
    OSError
        If the folder cannot be created or written (the message names ``flag`` and the path).
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{flag} must be a folder; got the file {str(path)!r}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".memcomp-write-test.", suffix=".part")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        error = OSError(f"{flag} {str(path)!r} is not a writable folder ({reason})")
        error.errno = exc.errno
        raise error from None
    return path


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _processor() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: str = "cpu", *, mixed_precision: bool = False) -> dict[str, Any]:
    """Where a run ran: the ``environment`` block of every JSON payload.

    Parameters
    ----------
    device : str
        The device the run used (``"cpu"`` or ``"cuda"``).
    mixed_precision : bool
        Whether training steps ran under bfloat16 autocast.

    Returns
    -------
    dict
        ``memcomp``, ``numpy``, ``torch`` and ``python`` versions, ``platform``, ``processor``,
        ``device`` (with the GPU's name on CUDA), ``threads`` (``torch.get_num_threads()``),
        ``cpu_capability`` (``torch.backends.cpu.get_cpu_capability()``, e.g. ``AVX512``)
        and ``mixed_precision``. ``threads`` and ``cpu_capability`` are None when the run did
        not load torch (the linear Figure 1: importing torch would cost seconds).
    """
    import numpy

    from memcomp import __version__

    torch = sys.modules.get("torch")
    block: dict[str, Any] = {
        "memcomp": __version__,
        "numpy": numpy.__version__,
        "torch": getattr(torch, "__version__", None) or _version("torch"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _processor(),
        "device": device,
        "threads": torch.get_num_threads() if torch is not None else None,
        "cpu_capability": torch.backends.cpu.get_cpu_capability() if torch is not None else None,
        "mixed_precision": bool(mixed_precision),
    }
    if torch is not None and device == "cuda" and torch.cuda.is_available():
        block["gpu"] = torch.cuda.get_device_name()
    return block


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a results file written by :func:`write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
