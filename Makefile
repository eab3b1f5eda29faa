# Everything runs inside .venv, created on first use from the pins in pyproject.toml.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120
export PREFECT_TASKS_RUNNER_THREAD_POOL_MAX_WORKERS := 4

.PHONY: setup demo serve web test lint format check goldens bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/recon demo --out data/demo

# A self-hosted Prefect server (UI on http://127.0.0.1:4200, SQLite under the config's data_dir)
# serving the `daily` and `rerun` deployments. make serve CONFIG=path/to/recon.toml; by default
# the demo's (generated first if missing).
CONFIG ?= data/demo/recon.toml
serve: $(STAMP)
	@test -f $(CONFIG) || $(BIN)/recon demo --out data/demo
	$(BIN)/recon serve --config $(CONFIG)

# The lookup service (recon web) on http://127.0.0.1:8750/; make web CONFIG=path/to/recon.toml
# [WORKERS=N: processes, one per core for many agents]. Create a token first:
# .venv/bin/recon web-token add NAME --role service --config $(CONFIG)
WORKERS ?= 1
web: $(STAMP)
	@test -f $(CONFIG) || $(BIN)/recon demo --out data/demo
	$(BIN)/recon web --config $(CONFIG) --workers $(WORKERS)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint test

# Rewrite the golden outputs of every format from its sample file.
goldens: $(STAMP)
	RECON_REGENERATE_GOLDENS=1 $(BIN)/python -m pytest tests/sources -q

# The performance benchmark (SPEC §9): about an hour on 2 cores; appends to bench/RESULTS.md.
# make bench BENCH_ARGS=--quick for the smoke-test size.
bench: $(STAMP)
	$(BIN)/recon bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data/demo .pytest_cache
