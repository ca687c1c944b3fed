# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test soak bench bench-quick lint typecheck clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(PY) pyproject.toml
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(PY) -m ledger.demo

test: $(VENV)/.installed-dev
	$(PY) -m pytest

# The long reliability run: many more crash rounds, transfers and fuzz examples.
soak: $(VENV)/.installed-dev
	LEDGER_SOAK=1 $(PY) -m pytest tests/reliability

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check ledger tests bench

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

$(VENV)/.installed-bench: $(VENV)/.installed-dev
	$(PIP) install -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(PY) -m bench

bench-quick: $(VENV)/.installed-bench
	$(PY) -m bench --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .hypothesis
