# Two commands do all the set-up on a fresh machine:
#   make demo   - virtualenv, install, a throwaway exchange running a short scenario
#   make test   - virtualenv, install, lint, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench bench-sim clean

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

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_spend.py

# The simulation: calibration against the seed's table (20 seeds) and how run time grows
# with agents and hours.
bench-sim: $(STAMP)
	$(BIN)/python bench/sim_calibration.py
	$(BIN)/python bench/sim_scaling.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
