"""Helpers for the hashing tests: where the vectors are, and hash factories."""

from __future__ import annotations

from pathlib import Path

import pytest

# ../shared beside the repository root (tests/hashing/ -> tests -> repo -> its parent).
SHARED = Path(__file__).resolve().parents[3] / "shared"
VECTORS = SHARED / "vectors"


def vectors_dir() -> Path:
    """``../shared/vectors``, or skip the calling test when it is absent."""
    if not VECTORS.is_dir():
        pytest.skip("../shared/vectors not present")
    return VECTORS


class IdentityHash:
    """The conformance suite's "identity" hash function: the digest is the input."""

    def __init__(self, data: bytes = b"") -> None:
        self._data = bytes(data)

    def digest(self) -> bytes:
        return self._data
