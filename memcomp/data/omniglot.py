"""Real Omniglot characters (Lake, Salakhutdinov and Tenenbaum 2015), downloaded on request.

The official archives live in the ``python/`` folder of https://github.com/brendenlake/omniglot
(MIT licence). Each zip holds ``<archive>/<alphabet>/characterNN/<id>_<drawer>.png``:
105x105 black strokes on white, 20 drawers per character. The default archive,
``images_evaluation`` (20 alphabets, 659 characters), is the one few-shot work keeps apart.

Pictures are turned into MNIST-like digits: inverted (white ink on black), strokes thickened
with a disk of radius :data:`DILATE_RADIUS` pixels (Omniglot lines are thin; without this a
character shrunk to 20 pixels is a faint trace), then :func:`memcomp.data.framing.mnist_frame`.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from memcomp.checks import check_choice, check_float, check_int, check_seed
from memcomp.data.download import cache_dir as default_cache_dir
from memcomp.data.download import fetch
from memcomp.data.framing import mnist_frame

OMNIGLOT_BASE_URL = "https://github.com/brendenlake/omniglot/raw/master/python/"
#: Addresses of the archives' folder, tried in order (GitHub's page link and its raw host).
OMNIGLOT_MIRRORS = (
    OMNIGLOT_BASE_URL,
    "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/",
)

#: How to go on without the network, appended to download errors.
OFFLINE_HINT = (
    "To work offline, use the rendered symbols: --symbols rendered on the command line, "
    'kind="rendered" in Python.'
)

#: archive -> sha256 of the zip, as recorded by the TensorFlow Datasets project (its URL
#: checksums for Omniglot; sizes 6,462,886 and 9,464,212 bytes). Not re-checked by us: this
#: project's machines cannot reach GitHub (provenance in memcomp/data/SOURCES.md).
OMNIGLOT_SHA256 = {
    "images_evaluation": "1f61a8f3366785b057fc117d9228e78a16e3d976c8953b2a10fcc74cf0609cee",
    "images_background": "ad41ab679c8b5d90b271ef46be6987cc81211774a695c29dcc5367b2b26ee640",
}

DILATE_RADIUS = 1  # chosen on synthetic 2-pixel strokes (MNIST-like ink); not tuned on real Omniglot


def fetch_omniglot(
    archive: str = "images_evaluation",
    *,
    base_url: str | Sequence[str] | None = None,
    sha256: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download (once; sha256-checked, cached under ``omniglot/``) an Omniglot archive.

    Parameters
    ----------
    archive : {"images_evaluation", "images_background"}
        Which archive.
    base_url : str or sequence of str, optional
        Folder URL(s) holding ``<archive>.zip``, tried in order; default
        :data:`OMNIGLOT_MIRRORS`.
    sha256 : str, optional
        Expected sha256 of the zip; default from :data:`OMNIGLOT_SHA256`.
    cache_dir : str or os.PathLike, optional
        Cache folder; default ``$MEMCOMP_DATA`` or ``~/.cache/memcomp``.
    timeout : float
        Seconds to wait for a connection and for each read.

    Returns
    -------
    pathlib.Path
        The cached zip.

    Raises
    ------
    memcomp.data.DownloadError
        If no address gives the archive (an ``OSError``; the message says how to go on
        offline with the rendered symbols).
    """
    check_choice("archive", archive, tuple(OMNIGLOT_SHA256))
    bases = (base_url,) if isinstance(base_url, str) else OMNIGLOT_MIRRORS if base_url is None else base_url
    if not isinstance(bases, (list, tuple)) or not bases or not all(isinstance(b, str) for b in bases):
        raise ValueError(f"base_url must be a URL, a non-empty list of URLs, or None; got {base_url!r}")
    folder = (Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()) / "omniglot"
    digest = OMNIGLOT_SHA256[archive] if sha256 is None else sha256
    urls = [b.rstrip("/") + f"/{archive}.zip" for b in bases]
    return fetch(urls, digest, folder, f"{archive}.zip", timeout=timeout, offline_hint=OFFLINE_HINT)


def index_archive(archive: zipfile.ZipFile) -> dict[tuple[str, str], list[str]]:
    """Map (alphabet, character) to the sorted PNG member names of an Omniglot zip."""
    index: dict[tuple[str, str], list[str]] = {}
    for name in archive.namelist():
        parts = name.split("/")
        if len(parts) == 4 and parts[3].lower().endswith(".png"):
            index.setdefault((parts[1], parts[2]), []).append(name)
    if not index:
        raise ValueError("not an Omniglot archive: no <archive>/<alphabet>/<character>/<file>.png entries")
    return {key: sorted(files) for key, files in sorted(index.items())}


def read_png_ink(data: bytes) -> np.ndarray:
    """Decode a PNG (via matplotlib/Pillow) into an ink map in [0, 1]: 1 = black stroke."""
    import matplotlib.image as mpimg

    pixels = np.asarray(mpimg.imread(io.BytesIO(data), format="png"), dtype=np.float64)
    if pixels.ndim == 3:
        pixels = pixels[..., :3].mean(axis=2)
    if pixels.max() > 1.0:  # integer-valued decodes
        pixels = pixels / 255.0
    return 1.0 - pixels


def omniglot_to_mnist(ink: np.ndarray, *, dilate_radius: int = DILATE_RADIUS) -> np.ndarray:
    """A (105, 105) Omniglot ink map (1 = stroke) as a (28, 28) uint8 MNIST-like image."""
    from scipy import ndimage

    dilate_radius = check_int("dilate_radius", dilate_radius, low=0, high=20)
    ink = np.asarray(ink, dtype=np.float64)
    if dilate_radius:
        r = dilate_radius
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        ink = ndimage.grey_dilation(ink, footprint=(yy**2 + xx**2) <= r * r)
    return mnist_frame(ink)


def omniglot_symbols(
    *,
    images_per_symbol: int = 1,
    seed: int = 0,
    archive: str = "images_evaluation",
    path: str | os.PathLike | None = None,
    base_url: str | Sequence[str] | None = None,
    sha256: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    timeout: float = 60.0,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Ten Omniglot characters labelled 0-9: ``(images, labels, names)`` as in ``rare_symbols``.

    Selection (deterministic given ``seed``): the alphabets, sorted by name, are shuffled and
    the first ten taken (one character from each); within an alphabet one character is drawn,
    then ``images_per_symbol`` of its drawers. ``path`` uses a local zip instead of downloading.
    """
    images_per_symbol = check_int("images_per_symbol", images_per_symbol, low=1, high=20)
    seed = check_seed("seed", seed)
    check_float("timeout", timeout, low=0.0, low_open=True)
    if path is None:
        path = fetch_omniglot(archive, base_url=base_url, sha256=sha256, cache_dir=cache_dir, timeout=timeout)
    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(path) as zf:
        index = index_archive(zf)
        by_alphabet: dict[str, list[str]] = {}
        for alphabet, character in index:
            by_alphabet.setdefault(alphabet, []).append(character)
        alphabets = sorted(by_alphabet)
        if len(alphabets) < 10:
            raise ValueError(f"the archive has {len(alphabets)} alphabets; ten are needed (one character each)")
        images, names = [], []
        for alphabet in [alphabets[i] for i in rng.permutation(len(alphabets))[:10]]:
            characters = sorted(by_alphabet[alphabet])
            character = characters[int(rng.integers(len(characters)))]
            files = index[(alphabet, character)]
            if len(files) < images_per_symbol:
                raise ValueError(
                    f"images_per_symbol must be at most {len(files)} for {alphabet}/{character}; "
                    f"got {images_per_symbol}"
                )
            for i in np.sort(rng.choice(len(files), size=images_per_symbol, replace=False)):
                images.append(omniglot_to_mnist(read_png_ink(zf.read(files[i]))))
            names.append(f"{alphabet.replace('_', ' ')} / {character}")
    labels = np.repeat(np.arange(10, dtype=np.int64), images_per_symbol)
    return np.stack(images), labels, tuple(names)
