# lenta: `make serve` runs it, `make test` tests it. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup serve test bench messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m compileall -q src/lenta  # bytecode even where PYTHONDONTWRITEBYTECODE is set
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/lenta serve

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/refresh.py

# Re-extract messages.pot and merge it into every catalog (keeping existing
# translations); then translate what it lists as missing.
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k gettext_for:2 -k InvalidInputError -k InvalidFeedURLError -k OPMLError -k ParseError -k NotAFeedError -k FetchError -k LentaError --no-location --sort-output \
		--project lenta -o src/lenta/locale/messages.pot src/lenta
	$(PY) tools/fill_catalogs.py

clean:
	rm -rf $(VENV) .pytest_cache
