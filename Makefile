# lenta: `make serve` runs it, `make test` tests it. Both set up .venv first:
# serving needs only lenta's own dependencies, testing adds the test tools.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The install is redone when pyproject.toml or the version (kept in lenta/__init__.py) changes.
HASH := $(shell cat pyproject.toml src/lenta/__init__.py | cksum | cut -d' ' -f1)
RUNTIME := $(VENV)/.runtime-$(HASH)
DEV := $(VENV)/.dev-$(HASH)
CHECKED := src tests bench tools packaging
COVERAGE_FLOOR := 90

.PHONY: setup serve test lint bench messages clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	$(PY) -m compileall -q src/lenta  # bytecode even where PYTHONDONTWRITEBYTECODE is set
	rm -f $(VENV)/.runtime-*
	touch $(RUNTIME)

$(DEV): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m compileall -q src/lenta
	rm -f $(VENV)/.dev-* $(VENV)/.runtime-*
	touch $(DEV) $(RUNTIME)

setup: $(DEV)

serve: $(RUNTIME)
	$(VENV)/bin/lenta serve

# Lint, formatting and strict types on the library and its tests.
lint: $(DEV)
	$(VENV)/bin/ruff check $(CHECKED)
	$(VENV)/bin/ruff format --check $(CHECKED)
	$(PY) -m mypy

# The gate: lint, then the suite with the library's coverage (a floor CI holds).
test: lint
	$(PY) -m pytest --cov=lenta --cov-report= --cov-fail-under=$(COVERAGE_FLOOR)

bench: $(DEV)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/refresh.py

# Re-extract messages.pot and merge it into every catalog (keeping existing
# translations); then translate what it lists as missing.
messages: $(DEV)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k gettext_for:2 -k InvalidInputError -k InvalidFeedURLError -k OPMLError -k ParseError -k NotAFeedError -k FetchError -k LentaError --no-location --sort-output \
		--project lenta -o src/lenta/locale/messages.pot src/lenta
	$(PY) tools/fill_catalogs.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
