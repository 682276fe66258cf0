# Two commands do all the set-up on a fresh machine with Python >= 3.11:
#   make demo   installs into .venv and runs the main job on the simulated workspace
#   make test   installs the dev dependencies and runs lint, types and the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: demo test lint typecheck unit bench install dev clean

$(BIN)/activate:
	$(PYTHON) -c 'import sys; sys.exit("intercom-sync needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(BIN)/intercom-sync demo

lint: dev
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

typecheck: dev
	$(BIN)/mypy

unit: dev
	$(BIN)/pytest -q tests/unit

test: lint typecheck
	$(BIN)/pytest -q -n 2 --dist loadgroup

# Reduced-size results go to bench/out/reduced/, beside (not over) a full run's bench/out/.
bench: dev
	BENCH_OUT=$${BENCH_OUT:-$(CURDIR)/bench/out/reduced} $(PY) bench/run_all.py --reduced

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo.db*
