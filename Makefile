# Two commands do all the set-up on a fresh machine:
#   make demo   - virtualenv, install, a throwaway exchange running a short scenario
#   make test   - virtualenv, install, lint, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint soak bench bench-git bench-postgres bench-sim bd-rewards bd-preview bd-close bench-audit bench-api bench-hook bench-simulate bench-gateway wrk chromium clean

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

# The state machine's long run: SOAK_STEPS random steps (default 100,000) on SQLite and
# again on PostgreSQL, every invariant after every step; prints the steps and the time.
SOAK_STEPS ?= 100000
soak: $(STAMP)
	TOKEN_EXCHANGE_SOAK_STEPS=$(SOAK_STEPS) $(BIN)/pytest -q -s -p no:cacheprovider tests/test_soak.py

bench: $(STAMP)
	$(BIN)/python bench/bench_spend.py

bench-postgres: $(STAMP)
	$(BIN)/python bench/bench_postgres.py

# The API benchmark's load comes from wrk (compiled, so it is not the bottleneck): Debian's,
# installed only when it is missing.
wrk:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update && $$SUDO apt-get install -y wrk; }

bench-api: $(STAMP) wrk
	$(BIN)/python bench/bench_api.py

# The post-commit hook's wall time against a bare interpreter start.
bench-hook: $(STAMP)
	$(BIN)/python bench/bench_hook.py

# `simulate --seed 1` wall time, without and with --out.
bench-simulate: $(STAMP)
	$(BIN)/python bench/bench_simulate.py

# Git: backfill of a generated 10,000-commit repository, and the post-commit hook's time.
bench-git: $(STAMP)
	$(BIN)/python bench/bench_git.py

# beads (bd), as the seed's scripts/bd-token-hook: the reward table, every open issue's
# reward, and closing an issue (make bd-close ISSUE=bd-42 [AGENT=builder] [REASON=...]).
bd-rewards: $(STAMP)
	@$(BIN)/token-exchange bd rewards

bd-preview: $(STAMP)
	@$(BIN)/token-exchange bd preview-all

bd-close: $(STAMP)
	@test -n "$(ISSUE)" || { echo "usage: make bd-close ISSUE=<issue id>" >&2; exit 2; }
	@$(BIN)/token-exchange bd close "$(ISSUE)" $(if $(AGENT),--agent "$(AGENT)") $(if $(REASON),--reason "$(REASON)")
# The simulation: calibration against the seed's table (20 seeds) and how run time grows
# with agents and hours.
bench-sim: $(STAMP)
	$(BIN)/python bench/sim_calibration.py
	$(BIN)/python bench/sim_scaling.py

bench-audit: $(STAMP)
	$(BIN)/python bench/bench_audit.py

# The gateway against the stand-in provider: added latency, streamed throughput, overruns.
bench-gateway: $(STAMP)
	$(BIN)/python bench/bench_gateway.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
