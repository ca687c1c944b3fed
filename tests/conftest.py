"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared() -> Path:
    """../shared beside the checkout (CI lays it there); skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared (vectors and conformance data) is not present beside the repo")
    return SHARED


@pytest.fixture
def db() -> Iterator[object]:
    """A throwaway ledger."""
    import ledger

    conn = ledger.connect(":memory:")
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "test.ledger"
