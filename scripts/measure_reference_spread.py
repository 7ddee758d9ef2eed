"""Measure how far the Part IV chapters' printed numbers move between processors, and set
the tolerances of their committed references from that spread.

Torch training rounds differently with other CPU kernels (AVX-512, AVX2, the portable
default) and thread counts. This script executes the neural chapters under each setting
with ``MEMCOMP_REFERENCE=dump:DIR`` (every ``memcomp.reference.checked`` block writes what
it printed), then compares every setting's numbers with the base setting's:

    python scripts/measure_reference_spread.py run native-t1 _build/spread    # one setting
    python scripts/measure_reference_spread.py run all _build/spread          # every setting
    python scripts/measure_reference_spread.py tolerances _build/spread       # write references

For each block the largest relative deviation over numbers of size >= SMALL and the largest
absolute deviation over smaller numbers (both after removing the rounding of the printed
digits) are multiplied by SAFETY and stored as the block's ``rtol`` and ``atol`` (``atol``
at least ``rtol * SMALL``, so a small number may move as much as one of size SMALL) in
``memcomp/references/<chapter>.json``, with the measured spread beside them. The base
setting's text becomes the reference text. Runs are deterministic for one setting on one
machine, so the chapters, re-executed afterwards under the base setting
(``MEMCOMP_THREADS=1 python scripts/run_chapters.py book/part4/figure2.ipynb ...``), store
outputs that match the reference exactly and print the tolerances they are checked with.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = {"figure2": ROOT / "book/part4/figure2.ipynb", "table1": ROOT / "book/part4/table1.ipynb"}
PORTABLE = {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "AVX2"}
SETTINGS = {
    "native-t2": {"MEMCOMP_THREADS": "2"},
    "native-t1": {"MEMCOMP_THREADS": "1"},
    "default-avx2-t2": {**PORTABLE, "MEMCOMP_THREADS": "2"},
    "default-avx2-t1": {**PORTABLE, "MEMCOMP_THREADS": "1"},
    "avx2-t2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MEMCOMP_THREADS": "2"},
}
BASE = "native-t1"  # the setting that stores the chapters' outputs
SAFETY = 2.0  # tolerance = SAFETY x the largest deviation measured
SMALL = 0.1  # numbers below this are judged by the absolute tolerance


def run_setting(name: str, out: Path) -> None:
    """Execute every neural chapter under setting ``name``, dumping the checked blocks."""
    import nbformat
    from nbclient import NotebookClient

    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")}
    env.update(SETTINGS[name], MEMCOMP_PROGRESS="0", OMP_NUM_THREADS="1",
               MEMCOMP_REFERENCE=f"dump:{folder.resolve()}")
    for chapter, path in CHAPTERS.items():
        start = time.perf_counter()
        nb = nbformat.read(path, as_version=4)
        old = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)  # the kernel inherits this process's environment
        try:
            NotebookClient(nb, timeout=1800, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        finally:
            os.environ.clear()
            os.environ.update(old)
            nbformat.write(nb, folder / path.name)
        print(f"{name} {chapter}: {time.perf_counter() - start:.0f} s", flush=True)


def block_spread(base: str, others: list[str]) -> dict:
    """Largest relative (numbers >= SMALL) and absolute (smaller numbers) deviations."""
    sys.path.insert(0, str(ROOT))
    from memcomp.reference import numbers_in, skeleton

    rel, abs_, ints = 0.0, 0.0, []
    for other in others:
        if skeleton(other) != skeleton(base):
            raise SystemExit(f"printed words differ between settings:\n{skeleton(base)}\n{skeleton(other)}")
        for w, g in zip(numbers_in(base), numbers_in(other)):
            if w.decimals is None and g.decimals is None:
                if w.value != g.value:
                    ints.append(f"{w.text} -> {g.text}")
                continue
            unit = 10.0 ** -max(w.decimals or 0, g.decimals or 0)
            d = max(0.0, abs(g.value - w.value) - unit)
            if abs(w.value) >= SMALL:
                rel = max(rel, d / abs(w.value))
            else:
                abs_ = max(abs_, d)
    return {"max_rel_deviation": rel, "max_abs_deviation_small": abs_, "integers_changed": ints}


def tolerances(out: Path) -> None:
    settings = sorted(p.name for p in out.iterdir() if p.is_dir())
    if BASE not in settings:
        raise SystemExit(f"no run of the base setting {BASE} in {out}")
    others = [s for s in settings if s != BASE]
    for chapter in CHAPTERS:
        path = ROOT / "memcomp/references" / f"{chapter}.json"
        reference = {"chapter": chapter, "blocks": {}}
        for dump in sorted((out / BASE).glob(f"{chapter}.*.txt")):
            block = dump.name[len(chapter) + 1:-len(".txt")]
            base = dump.read_text(encoding="utf-8")
            texts = [(out / s / dump.name).read_text(encoding="utf-8") for s in others
                     if (out / s / dump.name).exists()]
            spread = block_spread(base, texts)
            if spread["integers_changed"]:
                print(f"WARNING {chapter}/{block}: integers changed: {spread['integers_changed']}")
            rtol = SAFETY * spread["max_rel_deviation"]
            # small numbers get at least the relative tolerance of a number of size SMALL
            atol = max(SAFETY * spread["max_abs_deviation_small"], rtol * SMALL)
            reference["blocks"][block] = {
                "text": base,
                "rtol": round(rtol, 4),
                "atol": round(atol, 4),
                "spread": {"base": BASE, "settings": {s: SETTINGS.get(s, {}) for s in others},
                           "safety_factor": SAFETY, "small_below": SMALL, **spread},
            }
            b = reference["blocks"][block]
            print(f"{chapter}/{block}: max relative deviation {spread['max_rel_deviation']:.4f}, "
                  f"max absolute (|x| < {SMALL}) {spread['max_abs_deviation_small']:.4f} over "
                  f"{len(texts)} settings -> rtol {b['rtol']}, atol {b['atol']}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(reference, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "run":
        names = list(SETTINGS) if argv[1] == "all" else [argv[1]]
        for name in names:
            if name not in SETTINGS:
                raise SystemExit(f"setting must be one of {', '.join(SETTINGS)} or all; got {name!r}")
            run_setting(name, Path(argv[2]))
        return 0
    if len(argv) == 2 and argv[0] == "tolerances":
        tolerances(Path(argv[1]))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
