# The two commands of the README; each sets itself up on a fresh machine.
#   make demo   install usagekit and print a cross-provider report from the built-in sandbox
#   make test   install usagekit with its dev extra and run the test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint bench docs install sweep unasync

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

install: $(VENV)/.installed-dev

demo: $(VENV)/.installed-base
	$(BIN)/usagekit report --demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/python scripts/unasync.py --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict src/

sweep: install
	$(BIN)/python scripts/clock_sweep.py

bench: install
	$(BIN)/python -m benchmarks

docs: install
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir $(VENV)/site

unasync: install
	$(BIN)/python scripts/unasync.py
