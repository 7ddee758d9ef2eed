"""Rendered rare symbols, where their font comes from, and the MNIST framing recipe."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import memcomp.data.symbols as symbols_module
from memcomp.data import (
    FontNotFoundError,
    font_path,
    load_bundled_mnist,
    mnist_frame,
    rare_symbols,
    render_symbol,
    rendering_info,
)

#: sha256 of the rendered uint8 symbols, ``rare_symbols()[0].tobytes()`` (default settings:
#: ten upright symbols) and ``rare_symbols(images_per_symbol=3, seed=0)[0].tobytes()``
#: (with jittered variants). Measured with matplotlib 3.11.2 / FreeType 2.14.3 on x86-64,
#: identical from matplotlib's DejaVuSans.ttf and from Debian's fonts-dejavu-core 2.37 file.
#: The book's Table 1 chapter trains on these images: a change here changes its numbers.
SYMBOLS_SHA256 = {
    1: "2084773dcf349c928d9ee111ba8c9c49b6e37a1aab5401b03a97a6f80dc72371",
    3: "9f9138e05a02f908d3ad5690bd186a56fdcc56b5021e1ef529ace65598d01a04",
}


@pytest.fixture(scope="module")
def symbols():
    return rare_symbols(images_per_symbol=3, seed=0)


def test_shapes_labels_names(symbols):
    images, labels, names = symbols
    assert images.shape == (30, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [i // 3 for i in range(30)] and labels.dtype == np.int64
    assert len(names) == 10 and len(set(names)) == 10


@pytest.mark.parametrize("per_symbol", sorted(SYMBOLS_SHA256))
def test_rendered_symbols_hash_pin(per_symbol):
    images = rare_symbols(images_per_symbol=per_symbol, seed=0)[0]
    got = hashlib.sha256(images.tobytes()).hexdigest()
    info = rendering_info()
    assert got == SYMBOLS_SHA256[per_symbol], (
        f"rendered symbols (images_per_symbol={per_symbol}) have sha256 {got}, pinned "
        f"{SYMBOLS_SHA256[per_symbol]}: rendering is not portable to this machine. Rendered from "
        f"{info['font']} (sha256 {info['font_sha256']}) with matplotlib {info['matplotlib']}, "
        f"FreeType {info['freetype']}."
    )


SYSTEM_DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian/Ubuntu


@pytest.mark.skipif(not SYSTEM_DEJAVU.is_file(), reason="no system DejaVu Sans (fonts-dejavu-core)")
def test_system_dejavu_gives_the_pinned_symbols(fresh_font_lookup, monkeypatch):
    """What Debian's matplotlib would use: another DejaVuSans.ttf, the same images."""
    symbols_module._render_hires.cache_clear()
    monkeypatch.setattr(symbols_module, "font_path", lambda: SYSTEM_DEJAVU)
    try:
        images = rare_symbols(images_per_symbol=1, seed=0)[0]
    finally:
        symbols_module._render_hires.cache_clear()
    assert hashlib.sha256(images.tobytes()).hexdigest() == SYMBOLS_SHA256[1], (
        f"symbols rendered from {SYSTEM_DEJAVU} differ from the pin (matplotlib's own font gives it)"
    )


def test_deterministic(symbols):
    symbols_module._render_hires.cache_clear()  # draw again, not from the cache
    again = rare_symbols(images_per_symbol=3, seed=0)[0]
    assert np.array_equal(again, symbols[0])
    assert np.array_equal(render_symbol(4), symbols[0][12])
    other_seed = rare_symbols(images_per_symbol=3, seed=1)[0]
    assert np.array_equal(other_seed[::3], symbols[0][::3])  # variant 0 does not depend on seed
    assert not np.array_equal(other_seed, symbols[0])


def test_symbols_are_distinct_and_variants_differ(symbols):
    images = symbols[0].reshape(30, -1).astype(np.float64) / 255
    canon = images[::3]
    d = np.sqrt(((canon[:, None] - canon[None]) ** 2).sum(axis=2))
    assert d[np.triu_indices(10, 1)].min() > 5.0  # Euclidean, pixels scaled to [0, 1]
    for i in range(30):
        if i % 3:
            assert 0 < np.abs(images[i] - images[i - i % 3]).sum()


def test_symbols_look_like_mnist_digits(symbols):
    images = symbols[0].astype(np.float64)
    digits = load_bundled_mnist()[0][:2000].astype(np.float64)
    assert images.max() == 255 and all(im.max() == 255 for im in images)
    # similar ink: mean intensity within a factor 1.6 of MNIST's
    ratio = images.mean() / digits.mean()
    assert 0.7 < ratio < 1.6
    # centred by centre of mass, inside a 20x20 box with a 4-pixel margin (like MNIST)
    grid = np.arange(28)
    for im in images:
        com = (im.sum(axis=1) @ grid / im.sum(), im.sum(axis=0) @ grid / im.sum())
        assert np.allclose(com, 13.5, atol=1.0)
        rows, cols = np.flatnonzero(im.any(axis=1)), np.flatnonzero(im.any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 21


@pytest.fixture
def fresh_font_lookup():
    """Forget the font found so far, before and after the test."""
    font_path.cache_clear()
    yield
    font_path.cache_clear()


def test_font_is_matplotlibs_dejavu_sans(fresh_font_lookup):
    import matplotlib

    path = font_path()
    assert path.name == "DejaVuSans.ttf" and path.is_file()
    if (Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf").is_file():
        assert path.parent == Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    info = rendering_info()
    assert info["font"] == str(path) and len(info["font_sha256"]) == 64
    assert info["matplotlib"] == matplotlib.__version__


def test_font_found_by_font_manager_when_not_in_the_data_path(fresh_font_lookup, monkeypatch, tmp_path):
    """As with Debian's matplotlib, whose data folder holds no fonts."""
    import matplotlib
    from matplotlib import font_manager

    system_font = tmp_path / "fonts" / "DejaVuSans.ttf"
    system_font.parent.mkdir()
    system_font.write_bytes(b"stand-in")
    asked = []

    def findfont(prop, fallback_to_default=True):
        asked.append((prop.get_family(), prop.get_weight(), fallback_to_default))
        return str(system_font)

    monkeypatch.setattr(matplotlib, "get_data_path", lambda: str(tmp_path / "mpl-data"))
    monkeypatch.setattr(font_manager, "findfont", findfont)
    assert font_path() == system_font
    assert asked == [(["DejaVu Sans"], "normal", False)]


@pytest.mark.parametrize("found", [None, "DejaVuSans-Bold.ttf"])
def test_missing_font_is_a_clear_error(fresh_font_lookup, monkeypatch, tmp_path, found):
    import matplotlib
    from matplotlib import font_manager

    def findfont(prop, fallback_to_default=True):
        if found is None:
            raise ValueError("Failed to find font DejaVu Sans")
        (tmp_path / found).write_bytes(b"bold")
        return str(tmp_path / found)

    monkeypatch.setattr(matplotlib, "get_data_path", lambda: str(tmp_path / "mpl-data"))
    monkeypatch.setattr(font_manager, "findfont", findfont)
    with pytest.raises(FontNotFoundError) as info:
        font_path()
    message = str(info.value)
    assert "DejaVuSans.ttf" in message and str(tmp_path / "mpl-data" / "fonts" / "ttf") in message
    assert "kind='omniglot'" in message and "\n" not in message
    assert isinstance(info.value, FileNotFoundError)


def test_mnist_frame_recipe():
    ink = np.zeros((100, 60))
    ink[10:90, 25:35] = 1.0  # a tall bar
    out = mnist_frame(ink)
    assert out.shape == (28, 28) and out.dtype == np.uint8 and out.max() == 255
    rows = np.flatnonzero(out.any(axis=1))
    assert rows[-1] - rows[0] + 1 == 20  # the longer side scaled to 20 pixels
    with pytest.raises(ValueError, match="ink must contain some ink"):
        mnist_frame(np.zeros((5, 5)))
    with pytest.raises(ValueError, match=r"ink must be a finite 2-D array; got shape \(5,\)"):
        mnist_frame(np.ones(5))
    with pytest.raises(ValueError, match=r"box must be an integer in \[1, 28\]; got 29"):
        mnist_frame(ink, box=29)


def test_framing_is_a_leaf_module():
    """symbols and omniglot share the framing helpers without importing each other at load."""
    import ast

    import memcomp.data.framing as framing
    import memcomp.data.omniglot as omniglot

    def imported(module) -> set[str]:
        tree = ast.parse(Path(module.__file__).read_text())
        return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}

    assert imported(framing) <= {"__future__", "memcomp.checks"}
    assert "memcomp.data.symbols" not in imported(omniglot)
    assert symbols_module.mnist_frame is framing.mnist_frame is omniglot.mnist_frame


def test_argument_checks():
    with pytest.raises(ValueError, match="kind must be one of 'rendered', 'omniglot'"):
        rare_symbols("emoji")
    with pytest.raises(ValueError, match=r"images_per_symbol must be an integer in \[1, 20\]"):
        rare_symbols(images_per_symbol=0)
    with pytest.raises(ValueError, match=r"label must be an integer in \[0, 9\]"):
        render_symbol(10)
    with pytest.raises(ValueError, match="apply only to kind='omniglot'"):
        rare_symbols(base_url="http://x")
