"""Shared fixtures for the query engine's tests: a fake context and the QLDB sample."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# the helpers beside this file (fake.py, vehicles.py) import as top-level modules
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake import FakeContext, py  # noqa: E402
from vehicles import load_vehicle_registration  # noqa: E402

from ledger.query import execute  # noqa: E402

Run = Callable[..., list[Any]]


@pytest.fixture
def ctx() -> FakeContext:
    return FakeContext()


@pytest.fixture
def run(ctx: FakeContext) -> Run:
    """``run(statement, *params)``: execute and return plain Python rows."""

    def go(statement: str, *params: Any) -> list[Any]:
        return [py(row) for row in execute(ctx, statement, params)]

    return go


@pytest.fixture
def dmv(ctx: FakeContext) -> dict[str, Any]:
    """QLDB's vehicle-registration sample ledger; returns the document ids by key."""
    return load_vehicle_registration(ctx)
