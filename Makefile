# Two commands on a fresh machine: `make samples` (install + run on the bundled samples) and
# `make test` (install + lint + the whole test suite). Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: install samples test lint format quality bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

samples: install
	$(BIN)/newsdex run samples/ --report newsdex-data/last-report.json
	$(BIN)/newsdex search Ryabkov --limit 5

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest

quality: install
	$(BIN)/python -m benchmarks.quality all

bench: install
	$(BIN)/python -m benchmarks.throughput

clean:
	rm -rf $(VENV) newsdex-data .pytest_cache .ruff_cache *.egg-info
