# bpkit — two commands do everything:
#   make book   set up .venv (first time) and build the site into _build/html
#   make test   set up .venv (first time) and run every check (unit tests, strict nbval,
#               notebook hygiene, the warnings-as-errors book build)
# Needs only Python 3.10+ and make.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.PHONY: help setup book test unit nbval build-book lab execute bench clean

help:
	@echo "make book     build the site into _build/html (creates .venv on first use)"
	@echo "make test     every check: unit tests, strict nbval, hygiene, book build with -W"
	@echo "make lab      open the chapters in JupyterLab"
	@echo "make execute  re-run every chapter notebook in place, top to bottom, fresh kernel"
	@echo "make bench    timing scripts in benchmarks/ (not part of make test)"
	@echo "make clean    remove _build (keeps .venv)"

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10+ is needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	@touch $(STAMP)

setup: $(STAMP)

# The site shows the outputs stored in the notebooks (execute_notebooks: off), i.e.
# exactly what nbval verified.
build-book: setup
	rm -rf _build/html _build/.doctrees
	$(BIN)/jupyter-book build . -W -n --keep-going

book: build-book
	@echo "Site: $(CURDIR)/_build/html/index.html"

unit: setup
	$(BIN)/python -m pytest -q -n $(JOBS) tests

nbval: setup
	$(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile --nbval chapters \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg

test: setup
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile tests chapters --nbval \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg
	$(MAKE) --no-print-directory build-book

lab: setup
	$(BIN)/jupyter lab chapters

execute: setup
	$(BIN)/python tools/execute_notebooks.py chapters

bench: setup
	$(BIN)/python benchmarks/xor_step.py

clean:
	rm -rf _build
