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

.PHONY: book test unit notebooks html-check browser install clean help

help:
	@echo "make book   build the HTML book into _build/html (executes chapters, cached)"
	@echo "make test   unit tests, nbval on every chapter, a zero-warning build, browser test"

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build --keep-going .
	@echo "Open the book: file://$(CURDIR)/_build/html/index.html"

test: unit notebooks html-check browser
	@echo "make test: all checks passed"

unit: $(STAMP)
	$(PYTEST) tests --ignore=tests/browser -q

notebooks: $(STAMP)
	MEMCOMP_PROGRESS=0 $(PYTEST) --nbval --nbval-current-env --nbval-cell-timeout=900 \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg book -q

# nbval has just re-executed every chapter and matched its stored outputs, so this
# build renders the stored outputs instead of executing everything a second time.
html-check: $(STAMP)
	@mkdir -p _build
	sed -e 's/execute_notebooks: cache/execute_notebooks: "off"/' -e 's#memcomp_book: book/_ext#memcomp_book: $(CURDIR)/book/_ext#' _config.yml > _build/_config_test.yml
	$(VENV)/bin/jupyter-book build -W --keep-going --config _build/_config_test.yml .

browser: $(STAMP)
	$(PYTEST) tests/browser -q -rs

clean:
	rm -rf _build
