"""Execute chapter notebooks in place, top to bottom on a fresh kernel, and store the outputs.

    python scripts/run_chapters.py                 # every chapter under book/
    python scripts/run_chapters.py book/part2/*.ipynb

Run this after changing a chapter or the code it calls, then commit the notebooks:
`make test` re-executes them with nbval and compares against what is stored.
Progress bars are silenced (MEMCOMP_PROGRESS=0) so stored outputs stay clean.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path, timeout: int = 1200) -> float:
    """Execute ``path`` in place; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    os.environ["MEMCOMP_PROGRESS"] = "0"
    os.environ.setdefault("MEMCOMP_THREADS", "2")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(p for p in (ROOT / "book").rglob("*.ipynb") if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts)
    for path in paths:
        seconds = run(path)
        print(f"{path}: {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
