# Two commands on a fresh machine: `make samples` (install + run on the bundled samples) and
# `make test` (install + lint + the whole test suite). Both create .venv on first use.
#
# Installs are reproducible: every dependency (and pip and setuptools, the build backend) is
# pinned by constraints.txt, the set the test suite last passed with. `make lock` re-resolves it.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# In the environment, so that pip's isolated build environment (setuptools) is pinned too.
PIN = PIP_CONSTRAINT=$(CURDIR)/constraints.txt

.PHONY: install browser samples test lint format quality bench lock clean

install: $(VENV)/.installed browser

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIN) $(BIN)/python -m pip install --quiet --upgrade pip
	$(PIN) $(BIN)/python -m pip install --quiet -e '.[dev]'
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

test: lint browser
	$(BIN)/pytest

# The search page's browser tests drive Debian's chromium through chromium-driver (Playwright's and
# Selenium's own browser downloads do not work everywhere); installed only when missing.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else echo "the browser tests need chromium and chromedriver; install them with your package manager" >&2; exit 1; fi

quality: install
	$(BIN)/python -m benchmarks.quality all

bench: install
	$(BIN)/python -m benchmarks.throughput

# Re-resolve every dependency to the newest release pyproject.toml allows and record the set in
# constraints.txt; then run `make test` (it reinstalls) and commit both if it passes.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip setuptools
	.lock-venv/bin/python -m pip install --quiet '.[dev]'
	{ echo "# Every dependency of newsdex[dev] as last tested; regenerate with \`make lock\` (see README)."; \
	  .lock-venv/bin/python -m pip freeze --all --exclude newsdex; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) newsdex-data .pytest_cache .ruff_cache *.egg-info build dist
