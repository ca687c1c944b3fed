"""Builds the compiled core (ledger/hashing/_native.c, ledger/_ion_native.c) where a C compiler, Python's
headers and OpenSSL's libcrypto headers are present; everything else is in
pyproject.toml.  The extension is optional: without a toolchain the install still
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

setup(
    ext_modules=[
        Extension(
            "ledger.hashing._native",  # the twin of ion_hash.py, dot.py, merkle.py
            sources=["ledger/hashing/_native.c"],
            depends=["ledger/_ion_c.h"],
            libraries=["crypto"],
            extra_compile_args=_flags,
            extra_link_args=_extra,
            optional=True,
        ),
        Extension(
            "ledger.hashing._binary",  # the twin of ion_binary.py: Ion Hash of Ion binary
            sources=["ledger/hashing/_binary.c"],
            depends=["ledger/_ion_c.h"],
            libraries=["crypto"],
            extra_compile_args=_flags,
            extra_link_args=_extra,
            optional=True,
        ),
        Extension(
            "ledger._ion_native",  # the twin of ledger/ion.py's dumps
            sources=["ledger/_ion_native.c"],
            depends=["ledger/_ion_c.h"],
            extra_compile_args=_flags,
            extra_link_args=_extra,
            optional=True,
        ),
        Extension(
            "ledger._ion_decode",  # the twin of ledger/ion.py's loads_document
            sources=["ledger/_ion_decode.c"],
            extra_compile_args=_flags,
            extra_link_args=_extra,
            optional=True,
        ),
    ]
)
