# dlrun — set-up and everyday commands. `make demo` and `make test` install
# whatever is missing into .venv first, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
DLRUN  := $(VENV)/bin/dlrun
STAMP  := $(VENV)/.installed-stamp
PORTFOLIO ?= portfolio
DEMO   ?= projects/breast-cancer

.PHONY: install test test-fast demo bench lint wheel clean help

help:
	@echo "make demo   - install, then evaluate + report the bundled example ($(DEMO))"
	@echo "make test   - install, then run the whole test suite"
	@echo "make bench  - install, then print the benchmark table (writes bench-results/)"
	@echo "make lint   - ruff over the package and tests"
	@echo "make wheel  - build dist/dlrun-*.whl (the package with its data)"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

demo: install
	$(DLRUN) run $(DEMO) --portfolio $(PORTFOLIO) --jobs 2
	@echo "Portfolio entry: $(PORTFOLIO)/$$(basename $(DEMO))/README.md (and report.html)"

bench: install
	$(PY) bench/run.py

wheel: install
	$(PY) -m pip wheel --no-deps --no-build-isolation -q . -w dist
	@ls dist/dlrun-*.whl

lint: install
	$(VENV)/bin/ruff check dlrun tests bench

clean:
	rm -rf $(VENV) $(PORTFOLIO) bench-results .pytest_cache build dist *.egg-info
	find projects -name .dlrun -type d -prune -exec rm -rf {} +
