"""memcomp.reference: printed numbers from training checked against a committed reference."""

from __future__ import annotations

import json

import pytest

from memcomp import reference
from memcomp.reference import checked, compare_text, numbers_in, skeleton

STORED = "Sum        60       7.52          0.58\nratio 5.2x, 24 networks, share 64.6%\n"


def test_numbers_in_reads_values_and_decimals():
    got = numbers_in("a 7.52, b -0.02, 1,000 rows, 5.96e-08, 64.6%, [1, 7, 0], ResNet-18")
    assert [p.value for p in got] == [7.52, -0.02, 1000.0, 5.96e-08, 64.6, 1.0, 7.0, 0.0, 18.0]
    assert [p.decimals for p in got] == [2, 2, None, 10, 1, None, None, None, None]


def test_skeleton_ignores_numbers_and_padding():
    assert skeleton("Sum     7.52   at 60") == skeleton("Sum 10.10 at 60") == "Sum # at #"


def test_numbers_within_tolerance_pass():
    moved = STORED.replace("7.52", "7.46").replace("0.58", "0.59")
    result = compare_text(moved, STORED, rtol=0.01, atol=0.0)
    assert result.passed and result.n_differ == 2 and result.n_numbers == 6


def test_a_number_outside_tolerance_fails_and_is_named():
    moved = STORED.replace("7.52", "7.00")
    result = compare_text(moved, STORED, rtol=0.05, atol=0.0)
    assert not result.passed
    assert "printed 7.00, reference 7.52" in result.failures[0]


def test_the_printed_rounding_is_allowed_on_top_of_the_tolerance():
    # 0.58 -> 0.59 is one unit of the last printed digit: allowed even with zero tolerance
    assert compare_text(STORED.replace("0.58", "0.59"), STORED, rtol=0.0, atol=0.0).passed
    assert not compare_text(STORED.replace("0.58", "0.60"), STORED, rtol=0.0, atol=0.0).passed


def test_integers_must_match_exactly():
    result = compare_text(STORED.replace("24 networks", "25 networks"), STORED, rtol=0.5, atol=1.0)
    assert not result.passed


def test_changed_words_fail():
    result = compare_text(STORED.replace("Sum", "Linear"), STORED, rtol=0.5, atol=1.0)
    assert not result.passed and "words differ" in result.failures[0]


@pytest.fixture
def tmp_reference(tmp_path, monkeypatch):
    path = tmp_path / "demo.json"
    monkeypatch.setattr(reference, "reference_path", lambda chapter: path)
    return path


def test_checked_writes_then_checks(tmp_reference, monkeypatch, capsys):
    monkeypatch.setenv("MEMCOMP_REFERENCE", "write")
    with checked("demo", "block"):
        print("loss 1.50")
    stored = json.loads(tmp_reference.read_text())
    assert stored["blocks"]["block"]["text"] == "loss 1.50\n"
    stored["blocks"]["block"]["rtol"] = 0.1
    tmp_reference.write_text(json.dumps(stored))
    monkeypatch.setenv("MEMCOMP_REFERENCE", "check")
    with checked("demo", "block"):
        print("loss 1.60")
    assert "1 differ from the stored run" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="printed 1.80, reference 1.50"):
        with checked("demo", "block"):
            print("loss 1.80")


def test_checked_logs_each_check(tmp_reference, tmp_path, monkeypatch):
    tmp_reference.write_text(json.dumps(
        {"blocks": {"b": {"text": "x 1.0\n", "rtol": 0.1, "atol": 0.0}}}))
    log = tmp_path / "checks.txt"
    monkeypatch.setenv("MEMCOMP_REFERENCE_LOG", str(log))
    with checked("demo", "b"):
        print("x 1.05")
    assert "reference check 'demo/b': 1 numbers, 1 differ" in log.read_text()


def test_checked_dump_mode_writes_text_without_checking(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMCOMP_REFERENCE", f"dump:{tmp_path}")
    with checked("demo", "b"):
        print("anything 3.14")
    assert (tmp_path / "demo.b.txt").read_text() == "anything 3.14\n"


def test_missing_block_is_a_clear_error(tmp_reference, monkeypatch):
    monkeypatch.delenv("MEMCOMP_REFERENCE", raising=False)
    with pytest.raises(KeyError, match="MEMCOMP_REFERENCE=write"):
        with checked("demo", "nothing"):
            print("1.0")


def test_bad_mode_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("MEMCOMP_REFERENCE", "compare")
    with pytest.raises(ValueError, match="MEMCOMP_REFERENCE must be one of"):
        with checked("demo", "b"):
            pass


def test_bad_chapter_name_is_refused():
    with pytest.raises(ValueError, match="chapter must be"):
        reference.reference_path("../etc")


@pytest.mark.parametrize("chapter", ["figure2", "table1"])
def test_committed_references_have_measured_tolerances(chapter):
    stored = reference.load_reference(chapter)
    assert stored["blocks"], f"no committed reference for {chapter}"
    for name, block in stored["blocks"].items():
        spread = block["spread"]
        assert len(spread["settings"]) >= 3, name
        assert block["rtol"] == pytest.approx(
            spread["safety_factor"] * spread["max_rel_deviation"], abs=1e-4), name


def _chapter_cells():
    import re
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parents[1] / "book").rglob("*.ipynb")):
        if "_build" in path.parts or ".ipynb_checkpoints" in path.parts:
            continue
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                tags = cell.get("metadata", {}).get("tags", [])
                blocks = re.findall(r'checked\("(\w+)", "(\w+)"\)', source)
                yield f"{path.name}[{index}]", tags, blocks


def test_every_unchecked_output_is_checked_against_a_reference():
    """A cell whose text nbval ignores prints through `checked`, and vice versa (live
    widget cells, whose output the book removes, are the one exception)."""
    seen = set()
    for where, tags, blocks in _chapter_cells():
        ignored = "nbval-ignore-output" in tags and "remove-output" not in tags
        assert ignored == bool(blocks), f"{where}: nbval-ignore-output {ignored}, checked {blocks}"
        for chapter, block in blocks:
            assert block in reference.load_reference(chapter)["blocks"], f"{where}: {block}"
            seen.add((chapter, block))
    # every block of the committed references is checked by some chapter cell (no stale block)
    stored = {(c, b) for c in ("figure2", "table1") for b in reference.load_reference(c)["blocks"]}
    assert seen == stored and len(seen) >= 6
