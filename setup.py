"""Builds the compiled core (ledger/hashing/_native.c and _binary.c, ledger/_ion_native.c
and _ion_decode.c) where a C compiler, Python's headers and OpenSSL's libcrypto headers
are present; everything else is in pyproject.toml.  Each extension is optional: without a toolchain the install still
succeeds and the ledger runs its pure-Python twin (``ledger --version`` says which).

``LEDGER_NATIVE_CFLAGS`` adds compiler flags (``make sanitize`` builds with
AddressSanitizer and UndefinedBehaviorSanitizer through it).
"""

from __future__ import annotations

import os
import shlex

from setuptools import Extension, setup

_extra = shlex.split(os.environ.get("LEDGER_NATIVE_CFLAGS", ""))

_flags = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
          "-Wno-missing-field-initializers", *_extra]



def _module(name: str, source: str, *, crypto: bool = False) -> Extension:
    """One optional compiled module: a build failure leaves its pure-Python twin in use."""
    return Extension(name, sources=[source], depends=["ledger/_ion_c.h"],
                     libraries=["crypto"] if crypto else [], extra_compile_args=_flags,
                     extra_link_args=_extra, optional=True)


setup(
    ext_modules=[
        # the twin of ion_hash.py, dot.py, merkle.py
        _module("ledger.hashing._native", "ledger/hashing/_native.c", crypto=True),
        # the twin of ion_binary.py: Ion Hash of Ion binary
        _module("ledger.hashing._binary", "ledger/hashing/_binary.c", crypto=True),
        # the twin of ledger/ion.py's dumps, ids and stored copies
        _module("ledger._ion_native", "ledger/_ion_native.c"),
        # the twin of ledger/ion.py's loads_document
        _module("ledger._ion_decode", "ledger/_ion_decode.c"),
    ]
)
