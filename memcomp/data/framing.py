"""The MNIST framing recipe, shared by the rendered and the Omniglot symbols.

A leaf module (numpy and :mod:`memcomp.checks` only): :mod:`memcomp.data.symbols` and :mod:`memcomp.data.omniglot`
both import it, and neither imports the other at module level.

MNIST's recipe: crop a drawing to its ink, scale the longer side to 20 pixels with area
averaging, and place the result in a 28x28 black frame with its centre of mass at the
centre. White ink on black, uint8.
"""

from __future__ import annotations

import numpy as np

from memcomp.checks import check_int

__all__ = ["area_matrix", "mnist_frame"]


def area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Matrix that resamples a length-``n_in`` axis to ``n_out`` by area averaging.

    Parameters
    ----------
    n_in, n_out : int
        Input and output lengths (positive).

    Returns
    -------
    numpy.ndarray
        ``(n_out, n_in)`` float64; row ``i`` averages the input pixels over output pixel
        ``i``'s span, weighted by overlap (each row sums to 1).
    """
    edges = np.linspace(0.0, n_in, n_out + 1)
    left, right = edges[:-1, None], edges[1:, None]
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(right, j + 1) - np.maximum(left, j), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def mnist_frame(ink: np.ndarray, *, box: int = 20, size: int = 28) -> np.ndarray:
    """Put a drawing into an MNIST-style frame.

    Parameters
    ----------
    ink : numpy.ndarray
        2-D array, larger = more ink (any scale, finite, not constant).
    box : int
        Side, in pixels, of the square the ink's bounding box is scaled into.
    size : int
        Side of the output frame.

    Returns
    -------
    numpy.ndarray
        ``(size, size)`` uint8 with the brightest pixel at 255: the ink's bounding box,
        padded to a square and resampled to ``box`` x ``box`` by area averaging, pasted so
        that its centre of mass sits at the frame centre.
    """
    size = check_int("size", size, low=1)
    box = check_int("box", box, low=1, high=size)
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
    small = area_matrix(side, box) @ square @ area_matrix(side, box).T

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
