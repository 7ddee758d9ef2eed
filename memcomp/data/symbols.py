"""Ten rare symbols, labelled 0-9, drawn like MNIST digits.

The paper mixes ten Omniglot characters (one image each) into the digit-sum task. Omniglot
does not ship with any package here, so the default symbols are letters from less familiar
scripts, rendered offline from the DejaVu Sans font that matplotlib ships (deterministic;
regular weight, whose strokes after the MNIST recipe carry about as much ink as MNIST's). ``rare_symbols(kind="omniglot")`` switches to real Omniglot characters
(downloaded, see :mod:`memcomp.data.omniglot`).

Every symbol goes through the MNIST recipe (:func:`mnist_frame`): crop to the ink, scale the
longer side to 20 pixels with area averaging, and place the result in a 28x28 frame with its
centre of mass at the centre. White ink on black, uint8.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from memcomp.checks import check_choice, check_int, check_seed

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


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix averaging input pixels over each output pixel's span."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    left, right = edges[:-1, None], edges[1:, None]
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(right, j + 1) - np.maximum(left, j), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def mnist_frame(ink: np.ndarray, *, box: int = 20, size: int = 28) -> np.ndarray:
    """Put a drawing into an MNIST-style frame.

    ``ink`` is a 2-D array, larger = more ink (any scale). The ink's bounding box is padded to
    a square, resampled to ``box`` x ``box`` by area averaging, and pasted into a
    ``size`` x ``size`` black frame so that its centre of mass sits at the frame centre.
    Returns uint8 with the brightest pixel at 255.
    """
    ink = np.asarray(ink, dtype=np.float64)
    if ink.ndim != 2 or not np.all(np.isfinite(ink)):
        raise ValueError(f"ink must be a finite 2-D array; got shape {ink.shape}")
    ink = np.clip(ink - ink.min(), 0.0, None)
    if ink.max() <= 0:
        raise ValueError("ink must contain some ink (the array is constant)")
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    side = max(crop.shape)
    square = np.zeros((side, side))
    r0, c0 = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[r0 : r0 + crop.shape[0], c0 : c0 + crop.shape[1]] = crop
    small = _area_matrix(side, box) @ square @ _area_matrix(side, box).T

    pad = size + box  # a large canvas, then a size x size window around the centre of mass
    canvas = np.zeros((pad, pad))
    off = (pad - box) // 2
    canvas[off : off + box, off : off + box] = small
    total = canvas.sum()
    grid = np.arange(pad)
    com_r = (canvas.sum(axis=1) @ grid) / total
    com_c = (canvas.sum(axis=0) @ grid) / total
    top = int(np.clip(np.round(com_r - (size - 1) / 2), 0, pad - size))
    left = int(np.clip(np.round(com_c - (size - 1) / 2), 0, pad - size))
    out = canvas[top : top + size, left : left + size]
    return np.round(255.0 * out / out.max()).astype(np.uint8)


def _font_path() -> str:
    import matplotlib

    return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", FONT_FILE)


@lru_cache(maxsize=64)
def _render_hires(code: int, rotate: float, shear: float, stretch: float, stroke: float) -> np.ndarray:
    """Draw one glyph as a (112, 112) float array in [0, 1] with matplotlib's Agg renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    path = TextPath((0, 0), chr(code), size=100, prop=FontProperties(fname=_font_path()))
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
        from memcomp.data.omniglot import omniglot_symbols

        return omniglot_symbols(images_per_symbol=images_per_symbol, seed=seed, **omniglot_options)
    if omniglot_options:
        raise ValueError(f"options {sorted(omniglot_options)} apply only to kind='omniglot'")
    images = np.stack(
        [render_symbol(label, v, seed=seed) for label in range(10) for v in range(images_per_symbol)]
    )
    labels = np.repeat(np.arange(10, dtype=np.int64), images_per_symbol)
    names = tuple(f"{name} (U+{code:04X})" for code, name in RENDERED_SYMBOLS)
    return images, labels, names
