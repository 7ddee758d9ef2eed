"""Checked, cached, atomic downloads (urllib only), with mirrors tried in order.

:func:`fetch` keeps one file per name in a cache folder (``$MEMCOMP_DATA`` or
``~/.cache/memcomp``). A download streams into a temporary file in the same folder while
its sha256 is computed; only a file whose hash matches is renamed into place
(``os.replace``), and the temporary file is removed whatever goes wrong (a network error, a
full disk, Ctrl-C), so the cache never holds a partial or corrupt file. A cached file whose
hash does not match is removed and downloaded again, never trusted. When a file has several
homes (mirrors), each is tried in turn until one gives the right bytes.

Every connection and every read waits at most ``timeout`` seconds (default
:data:`DEFAULT_TIMEOUT`): a server that accepts and never answers fails, it does not hang.

Errors: :class:`DownloadError` (a subclass of :class:`OSError`, like the network errors it
wraps) when no address gives the file, and its subclass :class:`ChecksumError` when every
address sent bytes with the wrong sha256. The message is one line: the file, each address
tried with what went wrong there, and how to go on without the network.
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
from typing import BinaryIO, Iterator, Sequence

from memcomp.checks import check_float
from memcomp.config import progress

#: Seconds to wait for a connection, and for each read, before giving up on an address.
DEFAULT_TIMEOUT = 30.0
_CHUNK = 1 << 16
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DownloadError(OSError):
    """A file could not be downloaded from any of its addresses.

    Attributes
    ----------
    filename : str
        The file's name in the cache.
    attempts : tuple of (str, str)
        ``(url, what went wrong)`` for each address tried, in order.
    """

    def __init__(self, message: str, *, filename: str = "", attempts: Sequence[tuple[str, str]] = ()):
        super().__init__(message)
        self.filename = filename
        self.attempts = tuple(attempts)

    def __str__(self) -> str:  # OSError's str would show the errno tuple for some arguments
        return str(self.args[0]) if self.args else ""


class ChecksumError(DownloadError):
    """Every address sent the file, but with a sha256 other than the expected one."""


class _AttemptFailed(Exception):
    """One address failed; ``reason`` says how (internal, collected into DownloadError)."""

    def __init__(self, reason: str, *, checksum: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.checksum = checksum


def cache_dir() -> Path:
    """The download cache folder.

    Returns
    -------
    pathlib.Path
        ``$MEMCOMP_DATA`` if set, else ``~/.cache/memcomp``.
    """
    env = os.environ.get("MEMCOMP_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "memcomp"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    str
        64 lowercase hexadecimal characters.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_urls(urls: object) -> tuple[str, ...]:
    items = (urls,) if isinstance(urls, str) else urls
    if not isinstance(items, (list, tuple)) or not items:
        raise ValueError(f"urls must be an http(s) address or a non-empty list of them; got {urls!r}")
    for url in items:
        if not isinstance(url, str) or urllib.parse.urlparse(url).scheme not in ("http", "https"):
            raise ValueError(f"url must be an http:// or https:// address; got {url!r}")
    return tuple(items)


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
    urls: str | Sequence[str],
    sha256: str,
    dest_dir: str | os.PathLike | None = None,
    filename: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    offline_hint: str | None = None,
) -> Path:
    """Return the path of a verified local copy of a file, downloading it if needed.

    Parameters
    ----------
    urls : str or sequence of str
        The file's address, or several (mirrors), tried in order until one gives bytes
        whose sha256 is ``sha256``.
    sha256 : str
        Expected sha256 of the file (64 hexadecimal characters).
    dest_dir : str or os.PathLike, optional
        Cache folder; default :func:`cache_dir`.
    filename : str, optional
        Name in the cache; default the last part of the first URL.
    timeout : float
        Seconds to wait for a connection and for each read (positive).
    offline_hint : str, optional
        Sentence appended to error messages saying how to do without this file (e.g. which
        option selects bundled data).

    Returns
    -------
    pathlib.Path
        ``dest_dir / filename``, whose sha256 is ``sha256``.

    Raises
    ------
    DownloadError
        If no address gives the file (unreachable, HTTP error, timeout, cut short).
    ChecksumError
        If every address sent bytes with another sha256.
    """
    return _fetch(urls, sha256, dest_dir, filename, timeout=timeout, offline_hint=offline_hint)[0]


def _fetch(
    urls: str | Sequence[str],
    sha256: str,
    dest_dir: str | os.PathLike | None = None,
    filename: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    offline_hint: str | None = None,
) -> tuple[Path, str | None]:
    """:func:`fetch`, also returning the URL that served the file (None: from the cache)."""
    urls = _check_urls(urls)
    sha256 = _check_sha256(sha256)
    timeout = check_float("timeout", timeout, low=0.0, low_open=True)
    if filename is None:
        filename = _default_filename(urls[0])
    elif not isinstance(filename, str) or not filename or Path(filename).name != filename:
        raise ValueError(f"filename must be a plain file name (no folders); got {filename!r}")
    if offline_hint is not None and not isinstance(offline_hint, str):
        raise ValueError(f"offline_hint must be a string or None; got {offline_hint!r}")
    folder = Path(dest_dir).expanduser() if dest_dir is not None else cache_dir()
    target = folder / filename

    if target.is_file():
        if sha256_file(target) == sha256:
            return target, None
        target.unlink()  # a cached file with the wrong hash is never trusted

    folder.mkdir(parents=True, exist_ok=True)
    attempts: list[tuple[str, str]] = []
    all_checksum = True
    for url in urls:
        try:
            _fetch_one(url, sha256, target, timeout)
            return target, url
        except _AttemptFailed as failed:
            attempts.append((url, failed.reason))
            all_checksum = all_checksum and failed.checksum

    tried = "; ".join(f"{url} ({reason})" for url, reason in attempts)
    hint = offline_hint or "Check the network connection and the address."
    message = (
        f"could not download {filename}: tried {tried}. No part of it was kept in {folder}. "
        f"{hint} Without network access, a copy of {filename} with sha256 {sha256} placed "
        f"at {target} is used as it is."
    )
    error = ChecksumError if all_checksum else DownloadError
    raise error(message, filename=filename, attempts=attempts)


def _fetch_one(url: str, sha256: str, target: Path, timeout: float) -> None:
    """Download ``url`` to ``target`` atomically; raise _AttemptFailed if it fails or is corrupt."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            got = _stream(url, out, timeout, target.name)
        if got != sha256:
            raise _AttemptFailed(f"sent bytes with sha256 {got}, expected {sha256}", checksum=True)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _reason(exc: BaseException, timeout: float) -> str:
    """A short description of a network failure."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        if not isinstance(exc.reason, BaseException):
            return str(exc.reason)
        exc = exc.reason
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _chunks(response: http.client.HTTPResponse, timeout: float) -> Iterator[bytes]:
    """The response body in chunks; read errors become _AttemptFailed."""
    while True:
        try:
            chunk = response.read(_CHUNK)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise _AttemptFailed(f"the transfer failed: {_reason(exc, timeout)}") from exc
        if not chunk:
            return
        yield chunk


def _stream(url: str, out: BinaryIO, timeout: float, label: str) -> str:
    """Copy the body of ``url`` into ``out``; return its sha256.

    Network failures raise :class:`_AttemptFailed`; errors writing ``out`` (a full disk)
    propagate unchanged.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "memcomp"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _AttemptFailed(_reason(exc, timeout)) from exc
    digest = hashlib.sha256()
    with response:
        header = response.headers.get("Content-Length")
        length = int(header) if header and header.isdigit() else None
        total = -(-length // _CHUNK) if length is not None else None
        received = 0
        for chunk in progress(_chunks(response, timeout), desc=label, total=total):
            digest.update(chunk)
            out.write(chunk)
            received += len(chunk)
    if length is not None and received != length:
        raise _AttemptFailed(f"the transfer was cut short: got {received} of {length} bytes")
    return digest.hexdigest()
