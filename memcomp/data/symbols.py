"""Ten rare symbols, labelled 0-9, drawn like MNIST digits.

The paper mixes ten Omniglot characters (one image each) into the digit-sum task. Omniglot
does not ship with any package here, so the default symbols are letters from less familiar
scripts, rendered offline from the DejaVu Sans font that matplotlib ships (deterministic;
regular weight, whose strokes after the MNIST recipe carry about as much ink as MNIST's;
:func:`font_path` says where the font is found). ``rare_symbols(kind="omniglot")`` switches
to real Omniglot characters (downloaded, see :mod:`memcomp.data.omniglot`).

Every symbol goes through the MNIST recipe (:func:`memcomp.data.framing.mnist_frame`): crop
to the ink, scale the longer side to 20 pixels with area averaging, and place the result in
a 28x28 frame with its centre of mass at the centre. White ink on black, uint8.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from memcomp.checks import check_choice, check_int, check_seed
from memcomp.data.framing import mnist_frame
from memcomp.data.omniglot import omniglot_symbols

#: (code point, name): one letter from each of ten scripts, chosen to look unlike the digits
#: and unlike each other. Label i is the i-th entry.
RENDERED_SYMBOLS: tuple[tuple[int, str], ...] = (
    (0x0556, "Armenian capital letter feh"),
    (0x10E6, "Georgian letter ghan"),
    (0x10EF, "Georgian letter jhan"),
    (0x2D63, "Tifinagh letter yaz"),
    (0x07D2, "N'Ko letter n"),
    (0x1583, "Canadian syllabics qa"),
    (0x0E81, "Lao letter ko"),
    (0x0EAE, "Lao letter ho tam"),
    (0x03E2, "Coptic capital letter shei"),
    (0x03EA, "Coptic capital letter gangia"),
)

FONT_FILE = "DejaVuSans.ttf"
_RENDER_SIZE = 112  # pixels of the high-resolution drawing (4x the MNIST frame)
_STROKE = 0.0  # extra outline width (pixels of the high-resolution drawing) of variant 0


class FontNotFoundError(FileNotFoundError):
    """matplotlib's DejaVu Sans font (``DejaVuSans.ttf``) could not be found."""


@lru_cache(maxsize=1)
def font_path() -> Path:
    """The ``DejaVuSans.ttf`` file the symbols are rendered from.

    Looked up in matplotlib's own data folder (``matplotlib.get_data_path()``, where
    matplotlib's wheels keep it), then through matplotlib's font manager (Debian's and other
    distributions' matplotlib use the system's DejaVu fonts instead).

    Returns
    -------
    pathlib.Path
        Path of the font file.

    Raises
    ------
    FontNotFoundError
        If neither lookup finds a regular-weight DejaVu Sans (``DejaVuSans.ttf``).
    """
    import matplotlib
    from matplotlib import font_manager

    bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / FONT_FILE
    if bundled.is_file():
        return bundled
    try:
        found = font_manager.findfont(
            font_manager.FontProperties(family="DejaVu Sans", style="normal", weight="normal"),
            fallback_to_default=False,
        )
    except ValueError:
        found = None
    if found and Path(found).name == FONT_FILE and Path(found).is_file():
        return Path(found)
    raise FontNotFoundError(
        f"the rendered symbols need the font {FONT_FILE} (DejaVu Sans), which matplotlib "
        f"{matplotlib.__version__} ships: not found in {bundled.parent} nor through "
        f"matplotlib's font manager (it gave {found or 'nothing'}). Install the DejaVu fonts "
        "(e.g. the fonts-dejavu-core package) or matplotlib from PyPI, or use "
        "rare_symbols(kind='omniglot') (--symbols omniglot)"
    )


def rendering_info() -> dict[str, str]:
    """What the rendered symbols depend on: font file and its sha256, matplotlib, FreeType.

    Returns
    -------
    dict of str to str
        Keys ``font``, ``font_sha256``, ``matplotlib``, ``freetype``.
    """
    import hashlib

    import matplotlib
    from matplotlib import ft2font

    path = font_path()
    return {
        "font": str(path),
        "font_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "matplotlib": matplotlib.__version__,
        "freetype": str(getattr(ft2font, "__freetype_version__", "unknown")),
    }


@lru_cache(maxsize=64)
def _render_hires(code: int, rotate: float, shear: float, stretch: float, stroke: float) -> np.ndarray:
    """Draw one glyph as a (112, 112) float array in [0, 1] with matplotlib's Agg renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    path = TextPath((0, 0), chr(code), size=100, prop=FontProperties(fname=font_path()))
    if len(path.vertices) == 0:
        raise ValueError(f"the font {FONT_FILE} has no outline for U+{code:04X}")
    lo, hi = path.vertices.min(axis=0), path.vertices.max(axis=0)
    centre, extent = (lo + hi) / 2, float((hi - lo).max())
    s = 0.6 * _RENDER_SIZE / extent  # leave room for rotation and shear
    transform = (
        Affine2D().translate(-centre[0], -centre[1])
        .scale(s * stretch, s)
        .skew_deg(shear, 0)
        .rotate_deg(rotate)
        .translate(_RENDER_SIZE / 2, _RENDER_SIZE / 2)
    )
    fig = Figure(figsize=(1, 1), dpi=_RENDER_SIZE, facecolor="black")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, _RENDER_SIZE)
    ax.set_ylim(0, _RENDER_SIZE)
    points = stroke * 72.0 / _RENDER_SIZE  # linewidth is in points; 1 px = 72/dpi points
    ax.add_patch(PathPatch(transform.transform_path(path), facecolor="white", edgecolor="white", linewidth=points))
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return rgba[..., 0].astype(np.float64) / 255.0


def _variant_params(label: int, variant: int, seed: int) -> tuple[float, float, float, float]:
    """(rotation deg, shear deg, x-stretch, stroke px) of one variant; variant 0 is upright."""
    if variant == 0:
        return 0.0, 0.0, 1.0, _STROKE
    rng = np.random.default_rng([seed, label, variant])
    rotate, shear = rng.uniform(-8, 8), rng.uniform(-8, 8)
    stretch, stroke = rng.uniform(0.9, 1.1), _STROKE + rng.uniform(0.0, 2.0)
    return round(rotate, 3), round(shear, 3), round(stretch, 4), round(stroke, 3)


def render_symbol(label: int, variant: int = 0, *, seed: int = 0) -> np.ndarray:
    """One rendered symbol as a (28, 28) uint8 image; ``variant`` > 0 adds a small,
    deterministic affine jitter (rotation, shear, stretch) and a different stroke width."""
    label = check_int("label", label, low=0, high=len(RENDERED_SYMBOLS) - 1)
    variant = check_int("variant", variant, low=0, high=10_000)
    seed = check_seed("seed", seed)
    code = RENDERED_SYMBOLS[label][0]
    return mnist_frame(_render_hires(code, *_variant_params(label, variant, seed)))


def rare_symbols(
    kind: str = "rendered",
    *,
    images_per_symbol: int = 1,
    seed: int = 0,
    **omniglot_options,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Ten rare symbols labelled 0-9: ``(images, labels, names)``.

    ``images`` is uint8 ``(10 * images_per_symbol, 28, 28)`` ordered by label, then variant
    (so with one image per symbol, row i is symbol i); ``labels`` int64; ``names`` one per
    symbol. ``kind="rendered"``: letters of :data:`RENDERED_SYMBOLS`, variant 0 upright,
    further variants jittered from ``seed``. ``kind="omniglot"``: real Omniglot characters
    (downloaded; ``omniglot_options`` go to :func:`memcomp.data.omniglot.omniglot_symbols`).
    """
    check_choice("kind", kind, ("rendered", "omniglot"))
    images_per_symbol = check_int("images_per_symbol", images_per_symbol, low=1, high=20)
    seed = check_seed("seed", seed)
    if kind == "omniglot":
        return omniglot_symbols(images_per_symbol=images_per_symbol, seed=seed, **omniglot_options)
    if omniglot_options:
        raise ValueError(f"options {sorted(omniglot_options)} apply only to kind='omniglot'")
    images = np.stack(
        [render_symbol(label, v, seed=seed) for label in range(10) for v in range(images_per_symbol)]
    )
    labels = np.repeat(np.arange(10, dtype=np.int64), images_per_symbol)
    names = tuple(f"{name} (U+{code:04X})" for code, name in RENDERED_SYMBOLS)
    return images, labels, names
