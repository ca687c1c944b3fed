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


# -- both backends (TinyDB-style): LMDB and a real PostgreSQL server --------------------------
BACKENDS = ("lmdb", "postgresql")
_ledger_names = iter(range(10**9))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """One PostgreSQL server for the session (tests/pgserver.py), stopped after."""
    import pgserver

    if pgserver.pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[postgres]')")
    server = pgserver.start_server()
    try:
        yield server
    finally:
        server.stop("fast")
        server.remove()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def location(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh ledger of this test lives: an LMDB directory or a PostgreSQL URL
    (its own ``ledger=`` name in the session's server)."""
    if backend == "lmdb":
        return str(tmp_path / "test.ledger")
    server = request.getfixturevalue("pg_server")
    return str(server.url(f"t{next(_ledger_names)}"))


@pytest.fixture
def any_db(location: str) -> Iterator[object]:
    """A fresh ledger on each backend."""
    import ledger

    conn = ledger.connect(location)
    try:
        yield conn
    finally:
        conn.close()
