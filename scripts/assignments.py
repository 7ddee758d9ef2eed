"""Course assignments from the book's exercise notebooks, graded with otter-grader (no Docker).

Each chapter's exercises live in ``book/<part>/<chapter>_exercises.ipynb``, an otter-grader
master notebook (raw cells ``# ASSIGNMENT CONFIG``, ``# BEGIN QUESTION``, ``# BEGIN SOLUTION``,
``# BEGIN TESTS``) that also carries the book's ``{exercise}``/``{solution}`` directives.

    python scripts/assignments.py generate [--out _build/assignments] [--no-run-tests] [MASTER ...]
    python scripts/assignments.py grade SUBMISSIONS [--assignments _build/assignments] [--out CSV]
    python scripts/assignments.py student-book [--out _build/student-src]

``generate`` runs ``otter assign`` on every master and writes, under ``--out``:

- ``student/<chapter>_exercises.ipynb``: what students get (answers replaced by ``...``, public
  self-checks in the notebook's metadata, no solution text, no hidden test);
- ``autograder/<chapter>_exercises-autograder.zip``: everything ``otter run`` needs, hidden
  tests included (instructors only);
- ``solutions/<chapter>_exercises.ipynb``: the reference solutions (instructors only);
- ``manifest.json``: the assignments, their questions, points and kind (auto or manual).

``grade`` grades every ``*.ipynb`` under SUBMISSIONS (found recursively; the assignment is read
from the notebook's otter metadata, else from its file name) with ``otter.api.grade_submission``
and writes a CSV: one row per submission, one column per question (manual questions are left
empty for the instructor), then ``total`` and ``possible`` (auto-graded points).

``student-book`` copies the book's sources to ``--out`` without any solution cell or test cell,
with a configuration that hides ``{solution}`` directives (``hide_solutions``), copies no
sources and shows no download or launch button; ``make book-student`` builds it.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import yaml

from memcomp.home import pip_requirement

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "_build" / "assignments"
MARKERS = ("# ASSIGNMENT CONFIG", "# BEGIN QUESTION", "# END QUESTION", "# BEGIN SOLUTION", "# END SOLUTION",
           "# BEGIN TESTS", "# END TESTS")
SOLUTION_DIRECTIVE = re.compile(r"^\s*(:{3,}|`{3,})\s*\{solution(-start|-end)?\}", re.MULTILINE)


def masters(root: Path = ROOT) -> list[Path]:
    """The exercise notebooks of the book, in table-of-contents order of their parts."""
    return sorted((root / "book").glob("part*/*_exercises.ipynb"))


def _raw(cell) -> str:
    return cell.source.strip() if cell.cell_type == "raw" else ""


def questions(master: Path) -> list[dict]:
    """[{name, points, manual}] of a master notebook, in order."""
    nb = nbformat.read(master, as_version=4)
    out = []
    for cell in nb.cells:
        src = _raw(cell)
        if src.startswith("# BEGIN QUESTION"):
            conf = yaml.safe_load(src.split("\n", 1)[1]) or {}
            out.append({"name": str(conf["name"]), "points": float(conf.get("points", 1)),
                        "manual": bool(conf.get("manual", False))})
    return out


def _strip_solution_directives(nb) -> None:
    nb.cells = [c for c in nb.cells if not (c.cell_type == "markdown" and SOLUTION_DIRECTIVE.search(c.source))]


COLAB_INSTALL = f"""# On Colab, install memcomp and otter-grader first (locally `make book` has installed both).
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "{pip_requirement()}", "otter-grader==7.0.0"], check=True)
"""
EXERCISE_FENCE = re.compile(r"^:::\{exercise\} *(.*)\n:label: *\S+\n", re.MULTILINE)


def _for_jupyter(cell) -> None:
    """Outputs cleared, book-only tags dropped, ``{exercise}`` fences shown as headings in Jupyter."""
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    cell.metadata.pop("execution", None)
    tags = [t for t in cell.metadata.get("tags", []) if t not in ("hide-cell", "remove-cell", "hide-input")]
    if tags:
        cell.metadata["tags"] = tags
    else:
        cell.metadata.pop("tags", None)
    if cell.cell_type == "markdown" and EXERCISE_FENCE.search(cell.source):
        text = EXERCISE_FENCE.sub(lambda m: f"### Exercise: {m.group(1)}\n", cell.source)
        cell.source = re.sub(r"\n:::\s*$", "\n", text, flags=re.MULTILINE).rstrip() + "\n"


def _otter_assign(master: Path, dist: Path, run_tests: bool) -> None:
    """``otter assign --no-pdfs [--no-run-tests] master dist``, run from the master's folder."""
    import contextlib
    import io
    import os

    from otter.assign import main as otter_assign

    here, log = os.getcwd(), io.StringIO()
    os.chdir(master.parent)
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            otter_assign(str(master), str(dist), no_pdfs=True, no_run_tests=not run_tests)
    except BaseException:
        sys.stderr.write(log.getvalue())
        raise SystemExit(f"otter assign failed on {master.relative_to(ROOT)}") from None
    finally:
        os.chdir(here)


def generate(out: Path = DEFAULT_OUT, paths: list[Path] | None = None, run_tests: bool = True) -> dict:
    """Run ``otter assign`` on each master; return the manifest written to ``out/manifest.json``."""
    paths = [Path(p).resolve() for p in (paths or masters())]
    if not paths:
        raise SystemExit("no exercise notebooks found (book/part*/*_exercises.ipynb)")
    if out.exists():
        shutil.rmtree(out)
    for sub in ("student", "autograder", "solutions"):
        (out / sub).mkdir(parents=True)
    manifest = {"assignments": []}
    for master in paths:
        stem = master.stem
        with tempfile.TemporaryDirectory() as tmp:
            dist = Path(tmp) / "dist"
            # `otter assign` in this process: importing otter once saves seconds per chapter
            _otter_assign(master, dist, run_tests)
            student = nbformat.read(dist / "student" / master.name, as_version=4)
            _strip_solution_directives(student)  # belt and braces: otter drops them already
            for cell in student.cells:
                _for_jupyter(cell)
                if cell.cell_type == "code" and cell.source.startswith("# Initialize Otter"):
                    cell.source = COLAB_INSTALL + cell.source  # otter must be importable before its init cell
            nbformat.write(student, out / "student" / master.name)
            solutions = nbformat.read(dist / "autograder" / master.name, as_version=4)
            solutions.metadata["otter"] = {"assignment_name": student.metadata["otter"]["assignment_name"]}
            for cell in solutions.cells:
                _for_jupyter(cell)
            nbformat.write(solutions, out / "solutions" / master.name)
            (zip_path,) = (dist / "autograder").glob("*.zip")
            shutil.copy(zip_path, out / "autograder" / f"{stem}-autograder.zip")
        qs = questions(master)
        manifest["assignments"].append({
            "name": stem,
            "master": str(master.relative_to(ROOT)),
            "student": f"student/{master.name}",
            "autograder": f"autograder/{stem}-autograder.zip",
            "questions": qs,
        })
        n_auto = sum(not q["manual"] for q in qs)
        print(f"{stem}: {len(qs)} questions ({n_auto} auto-graded, {len(qs) - n_auto} by rubric)", flush=True)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"assignments written to {out}")
    return manifest


def _assignment_of(path: Path, names: list[str]) -> str | None:
    try:
        nb = nbformat.read(path, as_version=4)
        name = nb.metadata.get("otter", {}).get("assignment_name")
        if name in names:
            return name
    except Exception:  # noqa: BLE001 - an unreadable notebook is reported by the grader
        pass
    hits = [n for n in names if n in path.stem]
    return max(hits, key=len) if hits else None


def grade(submissions: Path, assignments: Path = DEFAULT_OUT, out: Path | None = None) -> list[dict]:
    """Grade every notebook under ``submissions``; write and return the rows of the CSV."""
    import otter.api

    manifest_path = assignments / "manifest.json"
    if not manifest_path.exists():
        raise SystemExit(f"{manifest_path} not found: run `make assignments` first")
    manifest = {a["name"]: a for a in json.loads(manifest_path.read_text())["assignments"]}
    subs = sorted(p for p in Path(submissions).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not subs:
        raise SystemExit(f"no .ipynb submissions under {submissions}")
    rows, used = [], []
    for sub in subs:
        name = _assignment_of(sub, list(manifest))
        row = {"submission": str(sub.relative_to(submissions)), "assignment": name or ""}
        if name is None:
            row["note"] = "no matching assignment"
            rows.append(row)
            print(f"{row['submission']}: no matching assignment", flush=True)
            continue
        if name not in used:
            used.append(name)
        entry = manifest[name]
        results = otter.api.grade_submission(str(sub), str(assignments / entry["autograder"]), quiet=True)
        total = possible = 0.0
        for q in entry["questions"]:
            if q["manual"]:
                row[q["name"]] = ""
                continue
            r = results.results.get(q["name"])
            score = float(r.score) if r is not None else 0.0
            row[q["name"]] = round(score, 4)
            total += score
            possible += q["points"]
        row["total"], row["possible"] = round(total, 4), round(possible, 4)
        rows.append(row)
        print(f"{row['submission']} ({name}): {row['total']:g} / {row['possible']:g}", flush=True)
    columns = ["submission", "assignment"]
    for name in manifest:  # the book's order, whatever order the submissions came in
        if name in used:
            columns += [q["name"] for q in manifest[name]["questions"]]
    columns += ["total", "possible", "note"]
    out = out or assignments / "grades.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    print(f"grades written to {out}")
    return rows


def strip_notebook(nb) -> int:
    """Remove solution and test cells (between otter's markers, or tagged ``solution``); return how many."""
    keep, skip, removed = [], None, 0
    for cell in nb.cells:
        src = _raw(cell)
        if src.startswith("# BEGIN SOLUTION") or src.startswith("# BEGIN TESTS"):
            skip = "# END SOLUTION" if "SOLUTION" in src else "# END TESTS"
            removed += 1
            continue
        if skip:
            removed += 1
            if src.startswith(skip):
                skip = None
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "solution" in tags or (cell.cell_type == "markdown" and SOLUTION_DIRECTIVE.search(cell.source)):
            removed += 1
            continue
        keep.append(cell)
    nb.cells = keep
    return removed


def student_book(out: Path, root: Path = ROOT) -> None:
    """Copy the book's sources to ``out`` with no solution text, and a student configuration."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copytree(root / "book", out / "book", ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints"))
    shutil.copy(root / "_toc.yml", out / "_toc.yml")
    removed = 0
    for path in sorted((out / "book").rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        removed += strip_notebook(nb)
        nbformat.write(nb, path)
    for path in sorted((out / "book").rglob("*.md")):
        text = path.read_text()
        if SOLUTION_DIRECTIVE.search(text):
            raise SystemExit(f"{path}: {{solution}} directives belong in the exercise notebooks")
    config = yaml.safe_load((root / "_config.yml").read_text())
    config["title"] = f"{config.get('title', '')} (student edition)"
    config.setdefault("html", {})["use_repository_button"] = False
    config["launch_buttons"] = {"notebook_interface": "classic", "binderhub_url": "", "colab_url": "", "jupyterhub_url": ""}
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["hide_solutions"] = True
    sphinx_config["html_copy_source"] = False
    sphinx_config["html_show_sourcelink"] = False
    sphinx_config["html_theme_options"] = {
        "use_download_button": False,
        "use_repository_button": False,
        "use_edit_page_button": False,
        "use_issues_button": False,
        "home_page_in_toc": True,
        "search_bar_text": "Search this book...",
    }
    (out / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    print(f"student sources in {out} ({removed} solution and test cells removed)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="student notebooks and autograder zips")
    g.add_argument("masters", nargs="*", type=Path, help="exercise notebooks (default: book/part*/*_exercises.ipynb)")
    g.add_argument("--out", type=Path, default=DEFAULT_OUT)
    g.add_argument("--no-run-tests", action="store_true", help="skip otter's check that the solutions pass")
    r = sub.add_parser("grade", help="grade a folder of submitted notebooks into a CSV")
    r.add_argument("submissions", type=Path)
    r.add_argument("--assignments", type=Path, default=DEFAULT_OUT)
    r.add_argument("--out", type=Path, default=None, help="CSV path (default: ASSIGNMENTS/grades.csv)")
    s = sub.add_parser("student-book", help="book sources without solutions")
    s.add_argument("--out", type=Path, default=ROOT / "_build" / "student-src")
    args = parser.parse_args(argv)
    if args.command == "generate":
        generate(args.out.resolve(), args.masters or None, run_tests=not args.no_run_tests)
    elif args.command == "grade":
        if not args.submissions.is_dir():
            raise SystemExit(f"SUBMISSIONS must be a folder of notebooks; got {args.submissions}")
        grade(args.submissions.resolve(), args.assignments.resolve(), args.out)
    else:
        student_book(args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
