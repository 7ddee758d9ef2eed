"""Course assignments (scripts/assignments.py, otter-grader without Docker).

One module-scoped generation of every chapter's assignment, then: every student notebook runs
top to bottom unanswered; grading the unanswered notebooks gives 0 on every auto-graded question;
the reference solutions get full marks; one known wrong answer loses exactly its question; the
CSV has one row per submission and one column per question; the student notebooks and the
student edition of the sources hold no solution and no hidden test. About 4 minutes on 2 cores
(each grading starts a kernel).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("assignments", ROOT / "scripts" / "assignments.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


A = _load_script()
# Pages that continue a chapter (recorded runs) and share its exercises page.
CONTINUATION_PAGES = {"book/part4/table1_closer"}
MASTERS = A.masters()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    # otter's own check that the solutions pass is skipped: test_reference_solutions_get_full_marks does it
    manifest = A.generate(out, run_tests=False)
    return out, manifest


def _auto(entry):
    return [q for q in entry["questions"] if not q["manual"]]


def _grade(tmp_path, generated, notebooks: dict[str, nbformat.NotebookNode]):
    out, manifest = generated
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, nb in notebooks.items():
        nbformat.write(nb, subs / name)
    csv_path = tmp_path / "grades.csv"
    A.grade(subs, out, csv_path)
    with open(csv_path, newline="") as fh:
        return list(csv.DictReader(fh)), {a["name"]: a for a in manifest["assignments"]}


def test_every_chapter_has_three_to_five_exercises_and_forty_in_all():
    # every chapter of Parts II-IV in the table of contents is followed by its exercises page
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    chapters = [c for part in toc["parts"] for c in part["chapters"] if c["file"].startswith("book/part")]
    chapters = [c for c in chapters if c["file"] not in CONTINUATION_PAGES]
    assert len(chapters) == 11
    for chapter in chapters:
        assert {"file": chapter["file"] + "_exercises"} in chapter.get("sections", []), chapter["file"]
    assert {Path(c["file"]).name + "_exercises" for c in chapters} == {p.stem for p in MASTERS}
    counts = {p.stem: len(A.questions(p)) for p in MASTERS}
    assert all(3 <= c <= 5 for c in counts.values()), counts
    assert sum(counts.values()) >= 40
    for p in MASTERS:
        text = p.read_text()
        n = len(A.questions(p))
        assert text.count(":::{exercise}") == n and text.count(":::{solution}") == n, p.name
        assert len(re.findall(r"\*\*Difficulty\*\* [★☆]{3} · \*\*Time\*\* about \d+ min", text)) == n, p.name
        assert {q["manual"] for q in A.questions(p)} == {True, False}, f"{p.name}: needs auto and rubric questions"


def test_generate_writes_student_notebooks_autograders_and_a_manifest(generated):
    out, manifest = generated
    assert [a["name"] for a in manifest["assignments"]] == [p.stem for p in MASTERS]
    for a in manifest["assignments"]:
        assert (out / a["student"]).is_file() and (out / a["autograder"]).is_file()
        assert (out / "solutions" / f"{a['name']}.ipynb").is_file()


def test_student_notebooks_hold_no_solution_and_no_hidden_test(generated):
    out, manifest = generated
    for a in manifest["assignments"]:
        nb = nbformat.read(out / a["student"], as_version=4)
        text = json.dumps(nb)
        assert "{solution}" not in text and "BEGIN SOLUTION" not in text and "hidden: true" not in text
        assert '"hidden": true' not in text  # otter keeps only the public cases in the metadata
        assert nb.metadata["otter"]["assignment_name"] == a["name"]
        for q in _auto(a):
            answer_cells = [c for c in nb.cells if c.cell_type == "code" and re.search(r"^ans_\w+ = \.\.\.$", c.source, re.M)]
            assert answer_cells, a["name"]
            assert any(f'grader.check("{q["name"]}")' in c.source for c in nb.cells)


def test_student_notebooks_run_top_to_bottom_unanswered(generated):
    out, manifest = generated
    for a in manifest["assignments"]:
        path = out / a["student"]
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
        checks = [c for c in nb.cells if c.cell_type == "code" and "grader.check" in c.source]
        text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for c in checks for o in c.outputs)
        assert "not attempted" in text, a["name"]


def test_unanswered_notebooks_score_zero_on_every_auto_question(tmp_path, generated):
    out, manifest = generated
    subs = {f"{a['name']}.ipynb": nbformat.read(out / a["student"], as_version=4) for a in manifest["assignments"]}
    rows, entries = _grade(tmp_path, generated, subs)
    assert len(rows) == len(MASTERS)
    for row in rows:
        entry = entries[row["assignment"]]
        for q in entry["questions"]:
            assert row[q["name"]] == ("" if q["manual"] else "0.0"), (row["submission"], q["name"])
        assert float(row["total"]) == 0 and float(row["possible"]) == sum(q["points"] for q in _auto(entry))


def test_reference_solutions_get_full_marks_and_one_wrong_answer_loses_only_its_question(tmp_path, generated):
    out, manifest = generated
    subs = {}
    for a in manifest["assignments"]:
        # one folder per student is a common layout: the chapter is read from the metadata
        subs[f"ref_{a['name']}.ipynb"] = nbformat.read(out / "solutions" / f"{a['name']}.ipynb", as_version=4)
    wrong = nbformat.read(out / "solutions" / "long_tail_world_exercises.ipynb", as_version=4)
    (cell,) = [c for c in wrong.cells if c.cell_type == "code" and re.search(r"^ans_ltw_1 = ", c.source, re.M)]
    cell.source = re.sub(r"^ans_ltw_1 = .*$", "ans_ltw_1 = k + 1  # off by one", cell.source, flags=re.M)
    subs["student_with_one_wrong.ipynb"] = wrong
    rows, entries = _grade(tmp_path, generated, subs)
    by_name = {r["submission"]: r for r in rows}
    for a in manifest["assignments"]:
        row = by_name[f"ref_{a['name']}.ipynb"]
        for q in _auto(a):
            assert float(row[q["name"]]) == q["points"], (a["name"], q["name"], row)
        assert float(row["total"]) == float(row["possible"]) > 0
    row = by_name["student_with_one_wrong.ipynb"]
    assert row["assignment"] == "long_tail_world_exercises"
    ref = by_name["ref_long_tail_world_exercises.ipynb"]
    assert float(row["ltw_q1"]) == 0.0
    assert row["ltw_q2"] == ref["ltw_q2"] and float(row["total"]) == float(ref["total"]) - 2


def test_grades_csv_has_a_column_per_question_of_the_assignments_present(tmp_path, generated):
    out, manifest = generated
    name = manifest["assignments"][0]["name"]
    rows, entries = _grade(tmp_path, generated, {"alice.ipynb": nbformat.read(out / "student" / f"{name}.ipynb", as_version=4)})
    with open(tmp_path / "grades.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["submission", "assignment", *[q["name"] for q in entries[name]["questions"]], "total", "possible", "note"]


def test_student_book_sources_hold_no_solution_or_test_cell(tmp_path):
    out = tmp_path / "student-src"
    A.student_book(out)
    for p in (out / "book").rglob("*_exercises.ipynb"):
        nb = nbformat.read(p, as_version=4)
        text = json.dumps(nb)
        assert ":::{exercise}" in text and "{solution}" not in text and "self_check" not in text, p.name
        assert "BEGIN SOLUTION" not in text and "BEGIN TESTS" not in text
    conf = (out / "_config.yml").read_text()
    assert "hide_solutions: true" in conf and "html_copy_source: false" in conf and "use_download_button: false" in conf


def test_masters_without_a_question_fail_clearly(tmp_path):
    bad = tmp_path / "nothing_exercises.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), bad)
    assert A.questions(bad) == []
    with pytest.raises(SystemExit, match="make assignments"):
        A.grade(tmp_path / "empty", tmp_path)  # no manifest: tells the user to run make assignments
