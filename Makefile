# bpkit — two commands do everything:
#   make book   set up .venv (first time) and build the site into _build/html
#   make test   set up .venv (first time) and run every check (ruff; then side by side:
#               unit tests, strict nbval, notebook hygiene and the grading pipeline; and the
#               warnings-as-errors book build, then the built site in headless Chromium
#               with axe-core, and its internal links)
# Needs only Python 3.10+ and make.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2
# Two pytest workers on two cores: one BLAS thread each, or they oversubscribe the machine.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
# Exact versions of every package: constraints.txt (Python 3.11+), or constraints-py310.txt
# on Python 3.10, where NumPy 2.3+, IPython 9 and others are not available (likewise
# constraints-grading[-py310].txt).  Expanded only when a venv is (re)made.
PY310 = $(shell $(PYTHON) -c 'import sys; print("-py310" if sys.version_info < (3, 11) else "")')

.PHONY: help setup book test check-code built-site-test unit nbval build-book lab execute bench bench-peers clean \
        grading-setup validate release autograde grades feedback summary grade-class-demo

help:
	@echo "make book     build the site into _build/html (creates .venv on first use)"
	@echo "make test     every check: ruff, unit tests, strict nbval, hygiene, book build with -W, site in a browser (axe)"
	@echo "make ruff     lint bpkit, tests, tools and the chapters' code cells"
	@echo "make lab      open the chapters in JupyterLab"
	@echo "make execute  re-run every chapter notebook in place, top to bottom, fresh kernel"
	@echo "make bench    timing scripts in benchmarks/ (not part of make test)"
	@echo "make site-test  the built site in headless Chromium + its internal links (after make book)"
	@echo "make linkcheck  check the book's external links (needs the internet)"
	@echo "make bench-peers  bpkit vs numpy, PyTorch, micrograd -> benchmarks/results/peers.json (own venv)"
	@echo "make clean    remove _build (keeps .venv)"
	@echo "Graded assignments (nbgrader; own venv assignments/.venv; see assignments/README.md):"
	@echo "make validate  check that the instructor notebooks in assignments/source pass their tests"
	@echo "make release   student versions -> assignments/release/<assignment>/"
	@echo "make autograde SUBMISSIONS=folder   collect folder/<student>/<notebook>.ipynb, grade all, summary"
	@echo "make summary   the summary of the last autograde again (failures, tampering, late work)"
	@echo "make grade-class-demo  grade 200 synthetic students in a temporary course and time it"
	@echo "make grades    assignments/grades.csv (totals) and grades_tasks.csv (per task)"
	@echo "make feedback  HTML feedback -> assignments/feedback/<student>/<assignment>/"

# Installing: uv (from PyPI, pinned below) resolves and installs the pinned tree several
# times faster than pip.  The first venv is made with the standard library's venv module
# (its ensurepip step alone takes longer than uv's whole install) and uv is pip-installed
# into it; a second venv is made by that uv (`uv venv --seed`: the same Python, with pip).
# Where uv cannot be had, or with BPKIT_PIP=1, plain pip does the same job (same
# requirements, same constraints, same result, just slower).
UV_VERSION ?= 0.13.8
export UV_PYTHON_DOWNLOADS ?= never
# $(call venv_install,VENV,PIP-ARGUMENTS[,UV-OF-ANOTHER-VENV])
define venv_install
	@if [ -z "$$BPKIT_PIP" ] && [ -n "$(3)" ] && [ -x "$(3)" ] && "$(3)" --version >/dev/null 2>&1; then \
	    echo "$(1): made and installed with $(3)"; \
	    "$(3)" venv --quiet --seed --python "$$(command -v $(PYTHON))" $(1) \
	    && { "$(3)" pip install --quiet --python $(1)/bin/python $(2) \
	         || { echo "$(1): uv failed, installing with pip instead"; \
	              $(1)/bin/python -m pip install --quiet --disable-pip-version-check $(2); }; }; \
	elif $(PYTHON) -m venv $(1) && [ -z "$$BPKIT_PIP" ] \
	     && $(1)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"; then \
	    echo "$(1): installing with uv $(UV_VERSION)"; \
	    $(1)/bin/uv pip install --quiet --python $(1)/bin/python $(2) \
	    || { echo "$(1): uv failed, installing with pip instead"; \
	         $(1)/bin/python -m pip install --quiet --disable-pip-version-check $(2); }; \
	else \
	    echo "$(1): installing with pip"; \
	    $(1)/bin/python -m pip install --quiet --disable-pip-version-check $(2); \
	fi
endef

$(STAMP): requirements.txt constraints.txt constraints-py310.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10+ is needed, found " + sys.version.split()[0])'
	$(call venv_install,$(VENV),-r requirements.txt -c constraints$(PY310).txt -e .)
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
	$(BIN)/python -m pytest -q -n $(JOBS) tests --ignore=tests/site

nbval: setup
	$(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile --nbval chapters \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg

# Two independent halves run side by side: the code/notebook tests, and the book build followed
# by the built site's tests (the site shows the notebooks' stored outputs, the very ones the
# nbval run compares with recomputed ones; the browser test spends most of its time waiting on
# Chromium).  --output-sync prints each half's output whole, when it finishes.
test: setup grading-setup ruff browser axe
	$(MAKE) --no-print-directory -j2 --output-sync=target check-code built-site-test

# the book build (warnings are errors), then its pages in the browser and its links
built-site-test: build-book
	$(MAKE) --no-print-directory site-test

# unit tests, finite differences, strict nbval of every chapter, hygiene, the grading pipeline
check-code: setup grading-setup
	BPKIT_GRADING_VENV=$(abspath $(GVENV)) $(BIN)/python -m pytest -n $(JOBS) --dist loadfile tests chapters --nbval \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg --ignore=tests/site

# Lint: bpkit, the tests, the tools and the chapters' code cells, with pyproject.toml's
# rules (.pre-commit-config.yaml runs the same on every commit, if you install it).
ruff: setup
	$(BIN)/ruff check bpkit tests tools chapters

# Debian's Chromium for tests/site/test_browser.py, installed with apt-get when missing and
# we are root (CI).  Otherwise that test FAILS saying why; BPKIT_SKIP_BROWSER=1 skips it
# (reported as a skip), BPKIT_CHROMIUM=/path/to/chrome uses another browser.
.PHONY: browser site-test linkcheck ruff axe
browser:
	@if [ -n "$$BPKIT_CHROMIUM$$BPKIT_SKIP_BROWSER" ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
	    echo "*** No chromium, and installing it needs root and apt-get:" \
	         "the browser test will fail (BPKIT_SKIP_BROWSER=1 skips it) ***"; \
	fi

# The built site (_build/html, from build-book): every page in headless Chromium, and every
# internal link and anchor resolved offline.  Screenshots go to _build/test-artifacts/.
site-test: setup browser axe
	$(BIN)/python -m pytest tests/site

# axe-core for the browser test: the npm package pinned in tests/site/package-lock.json,
# installed (npm ci, integrity-checked) into tests/site/node_modules, which the test injects
# into each page from that file.  Needs npm: installed with apt-get when missing and we are
# root (CI), like chromium; otherwise the browser test FAILS saying so.
AXE := tests/site/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE): tests/site/package.json tests/site/package-lock.json
	@if ! command -v npm >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's npm for axe-core"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; \
	fi
	@if command -v npm >/dev/null 2>&1; then \
	    npm ci --prefix tests/site --no-audit --no-fund --ignore-scripts --loglevel=error && touch $(AXE); \
	else echo "*** No npm: axe-core cannot be installed, the browser test will fail ***"; fi

# External links, with Sphinx's linkcheck builder (needs the internet; not part of `make
# test`; the weekly .github/workflows/linkcheck.yml runs it).
linkcheck: setup
	$(BIN)/jupyter-book build . --builder linkcheck --path-output _build/linkcheck

lab: setup
	$(BIN)/jupyter lab chapters

execute: setup
	$(BIN)/python tools/execute_notebooks.py chapters

bench: setup
	$(BIN)/python benchmarks/xor_step.py

# bpkit against its peers, in its own venv (torch, micrograd): benchmarks/README.md
BENCH_VENV := benchmarks/.venv
$(BENCH_VENV)/.installed: benchmarks/requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r benchmarks/requirements.txt -e .
	@touch $@

# PyTorch's "default threads" must be its own default, not the 1 exported above for pytest;
# peers.py limits numpy's BLAS to one thread itself.
bench-peers: $(BENCH_VENV)/.installed
	env -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS BENCH_VIA_MAKE=1 $(BENCH_VENV)/bin/python benchmarks/peers.py

# Graded assignments (nbgrader), in their own venv: nbgrader brings its own Jupyter
# server stack (assignments/README.md).  nbgrader runs in the course folder, where
# nbgrader_config.py is; COURSE and GVENV can point elsewhere (the tests use a copy).
GVENV   ?= assignments/.venv
GSTAMP  := $(GVENV)/.installed
COURSE  ?= assignments
NBGRADER = cd $(COURSE) && PATH="$(abspath $(GVENV))/bin:$$PATH" nbgrader

$(GSTAMP): requirements-grading.txt constraints-grading.txt constraints-grading-py310.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "nbgrader 0.9 needs Python 3.10+, found " + sys.version.split()[0])'
	$(call venv_install,$(GVENV),-r requirements-grading.txt -c constraints-grading$(PY310).txt -e .,$(abspath $(BIN))/uv)
	@touch $(GSTAMP)

grading-setup: $(GSTAMP)

validate: grading-setup
	$(GVENV)/bin/python assignments/course_tools.py validate $(COURSE)

release: grading-setup
	$(NBGRADER) generate_assignment '*' --force
	$(GVENV)/bin/python assignments/course_tools.py due-dates $(COURSE)
	@echo "Student versions: $(abspath $(COURSE))/release/<assignment>/<assignment>.ipynb"

# Grades every hand-in (the judges run GRADE_JOBS at a time), then prints a summary; exit
# status 0 all graded, 1 some submission not graded, 2 bad SUBMISSIONS folder, 3 the grading
# environment was changed by a student's code (assignments/README.md, step 4).
GRADE_JOBS ?= $(JOBS)
autograde: grading-setup
	$(GVENV)/bin/python assignments/course_tools.py autograde $(COURSE) $(SUBMISSIONS) --jobs $(GRADE_JOBS)

summary: grading-setup
	$(GVENV)/bin/python assignments/course_tools.py summary $(COURSE)

# A synthetic class graded end to end in assignments/class_demo/ (not part of make test).
CLASS_SIZE ?= 200
grade-class-demo: grading-setup
	nice $(GVENV)/bin/python assignments/class_demo.py --students $(CLASS_SIZE) --jobs $(GRADE_JOBS)

grades: grading-setup
	$(NBGRADER) export --to grades.csv
	@echo "Grades: $(abspath $(COURSE))/grades.csv, per task: $(abspath $(COURSE))/grades_tasks.csv"

feedback: grading-setup
	$(NBGRADER) generate_feedback '*' --force
	@echo "Feedback: $(abspath $(COURSE))/feedback/<student>/<assignment>/<assignment>.html"

clean:
	rm -rf _build tests/site/node_modules
