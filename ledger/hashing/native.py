"""Which core runs: the compiled one (``ledger/hashing/_native.c`` for hashing,
``ledger/_ion_native.c`` for Ion encoding) or the pure-Python modules they mirror
function for function.

The compiled core is used when it was built (``pip install`` builds it where a C
compiler and OpenSSL's headers exist) unless ``LEDGER_PURE_PYTHON=1``.
``LEDGER_NATIVE_DIR=build/dir`` loads the builds found there instead (``make sanitize``
runs the tests against an AddressSanitizer build that way).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from types import ModuleType


def pure_python_forced() -> bool:
    return os.environ.get("LEDGER_PURE_PYTHON", "") not in ("", "0")


def load(name: str) -> ModuleType | None:
    """The compiled module ``name`` (e.g. ``ledger.hashing._native``), or None."""
    if pure_python_forced():
        return None
    directory = os.environ.get("LEDGER_NATIVE_DIR")
    if directory:
        found = sorted(Path(directory).glob(name.replace(".", "/") + ".*.so"))
        spec = importlib.util.spec_from_file_location(name, found[0]) if found else None
        if spec is None or spec.loader is None:
            raise ImportError(f"LEDGER_NATIVE_DIR={directory} holds no build of {name}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


core: ModuleType | None = load("ledger.hashing._native")
"""The compiled module, or None when the pure-Python core runs."""

CORE_NAME = "compiled" if core is not None else "pure-Python"
