"""Make student versions of the chapters: solution cells become a stub, outputs are cleared.

    python scripts/make_student_notebooks.py                     # every chapter under book/
    python scripts/make_student_notebooks.py book/part2/*.ipynb --out student

A code cell tagged ``solution`` keeps its place but its source is replaced by
``# YOUR CODE HERE`` (and the tag by ``exercise``), so the checker cell after it still runs
once the student fills it in. Every output and execution count is cleared. Files are written
to ``<out>/<path relative to book/>`` (default ``student/``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
STUB = "# YOUR CODE HERE\n"


def strip_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy of ``nb`` with solution cells stubbed and all outputs cleared."""
    out = nbformat.from_dict(nb)
    for cell in out.cells:
        tags = list(cell.get("metadata", {}).get("tags", []))
        if "solution" in tags:
            cell.source = STUB if cell.cell_type == "code" else "*Your answer here.*"
            cell.metadata["tags"] = [t for t in tags if t != "solution"] + ["exercise"]
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    out.metadata.pop("widgets", None)
    return out


def make_student_notebook(src: Path, dst: Path) -> int:
    """Write the student version of ``src`` to ``dst``; return the number of stubbed cells."""
    nb = nbformat.read(src, as_version=4)
    n = sum("solution" in c.get("metadata", {}).get("tags", []) for c in nb.cells)
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(strip_solutions(nb), dst)
    return n


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: every chapter under book/)")
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="output folder (default: student/)")
    args = parser.parse_args(argv)
    book = ROOT / "book"
    paths = args.paths or sorted(p for p in book.rglob("*.ipynb") if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts)
    for src in paths:
        src = src.resolve()
        try:
            rel = src.relative_to(book)
        except ValueError:
            rel = Path(src.name)
        n = make_student_notebook(src, args.out / rel)
        print(f"{args.out / rel}: {n} solution cell(s) stubbed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
