# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test soak sanitize bench bench-quick lint typecheck clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(PY) pyproject.toml setup.py ledger/hashing/_native.c ledger/_ion_native.c ledger/_ion_c.h ledger/_ion_decode.c
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(PY) -m ledger.demo

test: $(VENV)/.installed-dev
	$(PY) -m pytest
	# the pure-Python core too: hashing, encoding and proofs (~1 min)
	LEDGER_PURE_PYTHON=1 $(PY) -m pytest -p no:cacheprovider $(PURE_TESTS)

# The long reliability run: many more crash rounds, transfers and fuzz examples.
soak: $(VENV)/.installed-dev
	LEDGER_SOAK=1 $(PY) -m pytest tests/reliability
	LEDGER_SOAK=1 $(PY) -m pytest tests/hashing/test_hashing_native.py
	$(MAKE) sanitize

# The compiled core built with AddressSanitizer and UBSan, and the differential and
# hashing and encoding tests run against that build (loaded through LEDGER_NATIVE_DIR).
PURE_TESTS := tests/hashing tests/proof tests/test_stored_blocks.py
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1
sanitize: $(VENV)/.installed-dev
	rm -rf build/sanitize
	LEDGER_NATIVE_CFLAGS="$(SANITIZE_FLAGS)" $(PY) setup.py -q build_ext --build-lib build/sanitize --build-temp build/sanitize/tmp
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 PYTHONMALLOC=malloc \
	LEDGER_NATIVE_DIR=build/sanitize \
	$(PY) -m pytest -p no:cacheprovider tests/hashing

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
