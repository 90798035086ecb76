# Two commands do all the set-up: `make demo` and `make test`. Both depend on `make install`.
# `make notebooks` adds JupyterLab (the `notebooks` extra) and opens notebooks/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NB_STAMP := $(VENV)/.notebooks

.PHONY: install demo test lint unit quick bench bench-screen bench-policy fuzz notebooks clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: install
	$(BIN)/spatial demo --out outputs/demo

lint: install
	$(BIN)/ruff check spatial tests tools benchmarks notebooks
	$(BIN)/ruff format --check spatial tests tools benchmarks notebooks

unit: install
	$(BIN)/python -m pytest -q

quick: install  # everything but the tests marked slow (`make unit` runs them all)
	$(BIN)/python -m pytest -q -m "not slow"

test: lint unit

bench: install
	$(BIN)/python -m benchmarks --suite engine,screen,policy
	$(BIN)/python -m benchmarks.bench_threads

bench-screen: install
	$(BIN)/python -m benchmarks --suite screen

bench-policy: install
	$(BIN)/python -m benchmarks --suite policy

notebooks: $(NB_STAMP)
	$(BIN)/jupyter lab notebooks/

$(NB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	touch $(NB_STAMP)

fuzz: install
	HYPOTHESIS_PROFILE=nightly $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_reliability.py -m "not slow"

clean:
	rm -rf $(VENV) outputs/demo .pytest_cache .ruff_cache
