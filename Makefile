# Keydesk: `make run` serves it, `make test` tests it, `make bench` measures it.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# The first of these that is Python 3.11 or newer builds the virtual environment.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
PYTEST_ARGS ?= -q
BENCH_ARGS ?=

.PHONY: help run test bench lint clean

help:
	@echo "make run     serve Keydesk at http://demo.localhost:8000 (Ctrl-C stops it)"
	@echo "make test    run the test suite"
	@echo "make bench   run the benchmarks and print their figures"
	@echo "make lint    check the code with ruff"
	@echo "make clean   remove the virtual environment (the data in ./var stays)"

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "Keydesk needs Python 3.11 or newer as python3 (or python3.11, 3.12, 3.13)." >&2; \
		exit 1; fi
	@echo "Creating $(VENV) with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "Could not create $(VENV): on Debian or Ubuntu, install python3-venv." >&2; exit 1; }

# Stamps in the venv: pip runs again only when pyproject.toml changed since the last install.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "Installing Keydesk into $(VENV)"
	@$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "Installing Keydesk and its test tools into $(VENV)"
	@$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@$(BIN)/keydesk migrate --quiet
	@$(BIN)/keydesk tenant create demo --name Demo --admin-email admin@demo.localhost --if-not-exists
	@exec env KEYDESK_DEFAULT_TENANT=$${KEYDESK_DEFAULT_TENANT:-demo} $(BIN)/keydesk run

# pytest's exit 5 means it collected no test: that is a failure here, not a pass.
test: $(VENV)/.installed-test
	@$(BIN)/pytest $(PYTEST_ARGS) || { rc=$$?; \
		[ $$rc -ne 5 ] || echo "make test: pytest collected no tests" >&2; exit $$rc; }

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV)
