# memcomp: build the book and run every check. Both targets create .venv on first use.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.memcomp-installed
PYTEST := $(PY) -m pytest -p no:cacheprovider
export MEMCOMP_THREADS ?= 2
# numpy's BLAS on one thread: the linear algebra here is small, and BLAS threads fighting
# torch's threads (or another process) for 2 cores can run ten times slower.
export OMP_NUM_THREADS ?= 1

.PHONY: book book-exec book-student assignments grade test unit notebooks html-check browser install clean help

help:
	@echo "make book       build the HTML book into _build/html from the chapters' stored outputs"
	@echo "make book-exec  the same after re-executing every chapter (Jupyter Book's cache; the"
	@echo "                neural chapters train for about 20 minutes on 2 cores the first time)"
	@echo "make test       unit tests, nbval on every chapter, a zero-warning build, browser test"
	@echo "make assignments             student notebooks and otter autograders into _build/assignments"
	@echo "make grade SUBMISSIONS=DIR   grade the notebooks under DIR into _build/assignments/grades.csv"
	@echo "make book-student            the HTML book without solutions into _build/student-html"

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

# The chapters are stored with their outputs (`make test` checks that they reproduce), so
# the book renders them as stored: _config.yml sets execute_notebooks: "off".
book: $(STAMP)
	$(VENV)/bin/jupyter-book build --keep-going .
	@echo "Open the book: file://$(CURDIR)/_build/html/index.html"

# A copy of _config.yml that executes through the cache (_build/.jupyter_cache): a chapter
# runs again only when its code changed. Paths in the copy are made absolute.
book-exec: $(STAMP)
	@mkdir -p _build
	sed -e 's/execute_notebooks: "off"/execute_notebooks: cache/' -e 's#memcomp_book: book/_ext#memcomp_book: $(CURDIR)/book/_ext#' _config.yml > _build/_config_exec.yml
	@grep -q '^  execute_notebooks: cache$$' _build/_config_exec.yml || { echo "book-exec: _config.yml has no execute_notebooks: \"off\" to switch"; exit 1; }
	$(VENV)/bin/jupyter-book build --keep-going --config _build/_config_exec.yml .
	@echo "Open the book: file://$(CURDIR)/_build/html/index.html"

# Course assignments (otter-grader, no Docker): book/part*/*_exercises.ipynb are the master
# notebooks. `make assignments` always regenerates; `make grade` generates them first only when
# they are missing or older than the masters.
EXERCISES := $(wildcard book/part*/*_exercises.ipynb)
ASSIGNMENTS := _build/assignments

assignments: $(STAMP)
	$(PY) scripts/assignments.py generate --out $(ASSIGNMENTS)

$(ASSIGNMENTS)/manifest.json: $(EXERCISES) scripts/assignments.py memcomp/exercises.py | $(STAMP)
	$(PY) scripts/assignments.py generate --out $(ASSIGNMENTS)

grade: $(ASSIGNMENTS)/manifest.json
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=DIR (a folder of submitted notebooks)"; exit 2; }
	$(PY) scripts/assignments.py grade "$(SUBMISSIONS)" --assignments $(ASSIGNMENTS) --out $(ASSIGNMENTS)/grades.csv

# The student edition: sources copied without solution or test cells, hide_solutions on, no
# source copies, download or launch buttons; rendered from stored outputs like `make book`.
book-student: $(STAMP)
	$(PY) scripts/assignments.py student-book --out _build/student-src
	$(VENV)/bin/jupyter-book build --keep-going _build/student-src
	rm -rf _build/student-html && cp -r _build/student-src/_build/html _build/student-html
	@echo "Open the student edition: file://$(CURDIR)/_build/student-html/index.html"

test: unit notebooks html-check browser
	@echo "make test: all checks passed"

unit: $(STAMP)
	$(PYTEST) tests --ignore=tests/browser -q

# tests/nbval_memory.py: each chapter's kernel peak memory, as a table; a chapter at 1.5 GB fails.
NBVAL := MEMCOMP_PROGRESS=0 MEMCOMP_MEMORY_LOG=$(CURDIR)/_build/chapter-memory.tsv $(PYTEST) -p tests.nbval_memory --nbval --nbval-current-env --nbval-cell-timeout=900 \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg -q
NEURAL_CHAPTERS := book/part4/figure2.ipynb book/part4/table1.ipynb
# The neural chapters' outputs were stored with the native CPU kernels and 1 thread. They
# run here with the portable kernels and another thread count, as on another processor:
# their printed training numbers then differ from the stored ones, nbval ignores those
# cells' text, and each is checked against memcomp/references/ within measured tolerances.
PORTABLE_CPU := ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=AVX2 MEMCOMP_THREADS=2

notebooks: $(STAMP)
	@mkdir -p _build && rm -f _build/reference-checks.txt _build/chapter-memory.tsv
	$(NBVAL) book $(addprefix --ignore=,$(NEURAL_CHAPTERS))
	$(PORTABLE_CPU) MEMCOMP_REFERENCE_LOG=$(CURDIR)/_build/reference-checks.txt $(NBVAL) $(NEURAL_CHAPTERS)
	@echo "Neural chapters under $(PORTABLE_CPU), checked against their references:"
	@cat _build/reference-checks.txt
	@echo "Peak memory of each chapter's kernel in MB (limit 1500; then the largest child process):"
	@cat _build/chapter-memory.tsv

# nbval has just re-executed every chapter and matched its stored outputs, so this
# build renders the stored outputs (as `make book` does), with warnings as errors.
html-check: $(STAMP)
	@mkdir -p _build
	sed -e 's#memcomp_book: book/_ext#memcomp_book: $(CURDIR)/book/_ext#' _config.yml > _build/_config_test.yml
	@grep -q '^  execute_notebooks: "off"$$' _build/_config_test.yml || { echo "html-check: _config.yml must set execute_notebooks: \"off\""; exit 1; }
	$(VENV)/bin/jupyter-book build -W --keep-going --config _build/_config_test.yml .

# The browser test opens the public book (html-check's build) and the student edition.
browser: $(STAMP) book-student
	$(PYTEST) tests/browser -q -rs

clean:
	rm -rf _build
