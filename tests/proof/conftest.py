"""Fixtures for the proof tests: populated ledgers (built once per module) and vectors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ledger

# proofkit.py beside this file imports as a top-level module
sys.path.insert(0, str(Path(__file__).resolve().parent))

from proofkit import populate  # noqa: E402


@pytest.fixture(scope="module")
def base_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A closed, populated ledger on disk: copy it before changing anything."""
    path = tmp_path_factory.mktemp("base") / "base.ledger"
    with ledger.connect(path) as db:
        ids = populate(db)
    return path, ids


@pytest.fixture
def populated(location: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    """An open, populated ledger of this test's own, on LMDB and on PostgreSQL."""
    with ledger.connect(location) as db:
        yield db, populate(db)


@pytest.fixture
def qldb(shared: Path) -> dict[str, Any]:
    """The real QLDB vectors: GetBlock, GetRevision and GetDigest outputs."""
    folder = shared / "vectors" / "qldb"
    return {
        name: json.loads((folder / f"{name}.json").read_text())
        for name in (
            "get-block.output",
            "get-revision.output",
            "get-digest.output",
            "get-block.request",
            "get-revision.request",
        )
    }
