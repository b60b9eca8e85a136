# Two commands do all the set-up on a fresh machine:
#   make demo   - virtualenv, install, a throwaway exchange running a short scenario
#   make test   - virtualenv, install, lint, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench bench-api chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

# The browser tests drive Debian's chromium; install it from apt only when it is missing
# (never a browser download by Playwright).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update && $$SUDO apt-get install -y chromium; }

test: lint chromium
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_spend.py

bench-api: $(STAMP)
	$(BIN)/python bench/bench_api.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
