"""Checked, cached, atomic downloads (urllib only).

:func:`fetch` keeps one file per URL in a cache folder (``$MEMCOMP_DATA`` or
``~/.cache/memcomp``). A download streams into a temporary file in the same folder while
its sha256 is computed; only a file whose hash matches is renamed into place, so the cache
never holds a partial or corrupt file. A cached file whose hash does not match is removed
and downloaded again, never trusted.

Errors: :class:`DownloadError` (a subclass of :class:`OSError`, like the network errors
it wraps) when the host cannot be reached or the transfer fails, and its subclass
:class:`ChecksumError` when the bytes arrive but their sha256 is wrong. Both messages name
the URL and say how to use the bundled offline data instead.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from memcomp.checks import check_float
from memcomp.config import progress

#: Seconds to wait on a connection or a read before giving up.
DEFAULT_TIMEOUT = 30.0
_CHUNK = 1 << 16
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

OFFLINE_HINT = (
    "memcomp needs no internet for its defaults: use load_mnist(source='bundled') for MNIST "
    "and rare_symbols(kind='rendered') for the one-shot symbols"
)


class DownloadError(OSError):
    """A file could not be downloaded (host unreachable, HTTP error, interrupted transfer)."""


class ChecksumError(DownloadError):
    """A downloaded (or cached) file's sha256 differs from the expected one."""


def cache_dir() -> Path:
    """The download cache: ``$MEMCOMP_DATA`` if set, else ``~/.cache/memcomp``."""
    env = os.environ.get("MEMCOMP_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "memcomp"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_url(url: object) -> str:
    if not isinstance(url, str) or urllib.parse.urlparse(url).scheme not in ("http", "https"):
        raise ValueError(f"url must be an http:// or https:// address; got {url!r}")
    return url


def _check_sha256(sha256: object) -> str:
    if not isinstance(sha256, str) or not _SHA256.match(sha256.lower()):
        raise ValueError(f"sha256 must be 64 hexadecimal characters; got {sha256!r}")
    return sha256.lower()


def _default_filename(url: str) -> str:
    name = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).name
    if not name:
        raise ValueError(f"filename must be given: url {url!r} does not end in a file name")
    return name


def fetch(
    url: str,
    sha256: str,
    dest_dir: str | os.PathLike | None = None,
    filename: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Return the path of a verified local copy of ``url``, downloading it if needed.

    ``dest_dir`` defaults to :func:`cache_dir`; ``filename`` to the last part of the URL.
    Raises :class:`DownloadError` if the host cannot be reached and :class:`ChecksumError`
    if the bytes do not hash to ``sha256``; in both cases no file is left behind.
    """
    url = _check_url(url)
    sha256 = _check_sha256(sha256)
    timeout = check_float("timeout", timeout, low=0.0, low_open=True)
    if filename is None:
        filename = _default_filename(url)
    elif not isinstance(filename, str) or not filename or Path(filename).name != filename:
        raise ValueError(f"filename must be a plain file name (no folders); got {filename!r}")
    folder = Path(dest_dir).expanduser() if dest_dir is not None else cache_dir()
    target = folder / filename

    if target.exists():
        if sha256_file(target) == sha256:
            return target
        target.unlink()  # a cached file with the wrong hash is never trusted

    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{filename}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            _stream(url, out, digest, timeout, filename)
        got = digest.hexdigest()
        if got != sha256:
            raise ChecksumError(
                f"downloaded file from {url} is corrupt: expected sha256 {sha256}, got {got}. "
                f"Nothing was kept in {folder}. Try again later, or: {OFFLINE_HINT}."
            )
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def _stream(url: str, out, digest, timeout: float, label: str) -> None:
    """Copy the body of ``url`` into ``out`` while updating ``digest``."""
    request = urllib.request.Request(url, headers={"User-Agent": "memcomp"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = -(-int(length) // _CHUNK) if length and length.isdigit() else None
            chunks = iter(lambda: response.read(_CHUNK), b"")
            received = 0
            for chunk in progress(chunks, desc=label, total=total):
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
            if length and length.isdigit() and received != int(length):
                raise DownloadError(
                    f"download of {url} was cut short: got {received} of {length} bytes. {OFFLINE_HINT}."
                )
    except DownloadError:
        raise
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"could not download {url}: HTTP {exc.code} {exc.reason}. {OFFLINE_HINT}.") from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(
            f"could not download {url}: {reason}. Check the network or the address; "
            f"otherwise {OFFLINE_HINT}."
        ) from exc
