"""Which core computes the hashes: the compiled one (``ledger/hashing/_native.c``) or
the pure-Python modules it mirrors function for function.

The compiled core is used when it was built (``pip install`` builds it where a C
compiler and OpenSSL's headers exist) unless ``LEDGER_PURE_PYTHON=1``.
``LEDGER_NATIVE_LIB=/path/to/_native.so`` loads a specific build instead (``make
sanitize`` runs the tests against an AddressSanitizer build that way).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType


def pure_python_forced() -> bool:
    return os.environ.get("LEDGER_PURE_PYTHON", "") not in ("", "0")


def _load() -> ModuleType | None:
    if pure_python_forced():
        return None
    path = os.environ.get("LEDGER_NATIVE_LIB")
    if path:
        spec = importlib.util.spec_from_file_location("ledger.hashing._native", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"LEDGER_NATIVE_LIB={path} is not a loadable extension")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module("ledger.hashing._native")
    except ImportError:
        return None


core: ModuleType | None = _load()
"""The compiled module, or None when the pure-Python core runs."""

CORE_NAME = "compiled" if core is not None else "pure-Python"
