"""The storage interface on both backends (LMDB and a real PostgreSQL server), checked
against a dict as the oracle, and what a ledger on PostgreSQL adds: URLs, several
ledgers in one database, credentials kept out of messages, waiting for commits."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger
from ledger.errors import StorageError
from ledger.storage import open_store
from ledger.storage.kv import KVStore, prefix_end
from ledger.storage.postgres_store import PostgresUrl, redact

KEYS = st.binary(min_size=1, max_size=4)
OPS = st.lists(
    st.tuples(st.sampled_from(["put", "delete"]), st.sampled_from(["docs", "index"]), KEYS,
              st.binary(max_size=8)),
    max_size=30,
)


@pytest.fixture
def store(location: str):
    s = open_store(location)
    try:
        yield s
    finally:
        s.close()


def _oracle_range(model: dict[bytes, bytes], start, stop, reverse):
    items = sorted((k, v) for k, v in model.items()
                   if (start is None or k >= start) and (stop is None or k < stop))
    return items[::-1] if reverse else items


def _write_all(store: KVStore, ops) -> dict[str, dict[bytes, bytes]]:
    model: dict[str, dict[bytes, bytes]] = {"docs": {}, "index": {}}

    def fn(w):
        for op, db, key, value in ops:
            if op == "put":
                w.put(db, key, value)
                model[db][key] = value
            else:
                w.delete(db, key)
                model[db].pop(key, None)
            # the write transaction reads its own writes, scans included
            assert w.get(db, key) == model[db].get(key)
            assert list(w.range(db)) == _oracle_range(model[db], None, None, False)

    store.write(fn)
    return model


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, bounds=st.tuples(st.none() | KEYS, st.none() | KEYS), reverse=st.booleans())
def test_ranges_match_a_sorted_dict(store: KVStore, ops, bounds, reverse):
    """Differential: every read of a snapshot equals the same read of a dict."""
    store.write(lambda w: [w.delete(db, k) for db in ("docs", "index") for k, _ in list(w.range(db))])
    model = _write_all(store, ops)
    start, stop = bounds
    txn = store.read()
    try:
        for db in ("docs", "index"):
            assert list(txn.range(db, start, stop, reverse=reverse)) == _oracle_range(
                model[db], start, stop, reverse)
            expected_last = _oracle_range(model[db], None, None, True)[:1]
            assert ([txn.last(db)] if expected_last else [None]) == (expected_last or [None])
            if start is not None:
                assert list(txn.prefix(db, start)) == _oracle_range(model[db], start, prefix_end(start), False)
            for key in list(model[db])[:5]:
                assert txn.get(db, key) == model[db][key]
    finally:
        txn.close()


def test_keys_compare_as_unsigned_bytes_across_pages(store: KVStore):
    """More keys than one page (keyset paging), with 0x00 and 0xff bytes."""
    keys = [bytes([a, b]) for a in (0, 1, 127, 128, 255) for b in range(0, 256, 3)]
    store.write(lambda w: [w.put("history", k, k[::-1]) for k in keys])
    txn = store.read()
    try:
        assert [k for k, _ in txn.range("history")] == sorted(keys)
        assert [k for k, _ in txn.range("history", reverse=True)] == sorted(keys, reverse=True)
        assert [k for k, _ in txn.prefix("history", b"\xff")] == sorted(k for k in keys if k[0] == 255)
    finally:
        txn.close()


def test_a_failed_write_leaves_nothing(store: KVStore):
    def fn(w):
        w.put("meta", b"x", b"1")
        raise ledger.DataError("no")

    with pytest.raises(ledger.DataError):
        store.write(fn)
    txn = store.read()
    try:
        assert txn.get("meta", b"x") is None
    finally:
        txn.close()


def test_a_snapshot_does_not_see_later_commits(store: KVStore):
    store.write(lambda w: w.put("meta", b"k", b"old"))
    txn = store.read()
    try:
        assert txn.get("meta", b"k") == b"old"
        store.write(lambda w: w.put("meta", b"k", b"new"))
        assert txn.get("meta", b"k") == b"old"
        assert list(txn.range("meta")) == [(b"k", b"old")]
    finally:
        txn.close()


def test_wait_for_commit_wakes_when_another_connection_commits(location: str):
    """The stream's --follow primitive: Journal.wait_for_commit(after_seq, timeout)."""
    with ledger.connect(location) as db, ledger.connect(location) as other:
        db.execute("CREATE TABLE T")
        tip = db.journal.tip_seq()
        started = time.monotonic()
        assert db.journal.wait_for_commit(tip, 0.2) == tip  # nothing came: the timeout
        assert time.monotonic() - started >= 0.2
        woke: list[float] = []

        def waiter() -> None:
            woke.append(db.journal.wait_for_commit(tip, 10))
            woke.append(time.monotonic())

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.3)
        committed_at = time.monotonic()
        other.execute("INSERT INTO T ?", {"a": 1})
        thread.join(10)
        assert woke[0] == tip + 1
        assert woke[1] - committed_at < 2.0


# -- the core suites' smoke set on both backends ---------------------------------------------
SMOKE = [
    ("CREATE TABLE Car", None),
    ("CREATE INDEX ON Car (vin)", None),
    ("INSERT INTO Car << {'vin': 'A1', 'make': 'Tesla', 'year': 2020}, "
     "{'vin': 'B2', 'make': 'Ford', 'year': 2018}, {'vin': 'C3', 'make': 'Kia', 'year': 2021} >>", None),
    ("SELECT VALUE c.make FROM Car AS c WHERE c.vin = 'B2'", ["Ford"]),
    ("SELECT VALUE c.vin FROM Car AS c WHERE c.year >= 2020 ORDER BY c.vin", ["A1", "C3"]),
    ("UPDATE Car AS c SET c.year = 2019 WHERE c.vin = 'B2'", None),
    ("DELETE FROM Car AS c WHERE c.vin = 'C3'", None),
    ("SELECT COUNT(*) AS n FROM Car", [{"n": 2}]),
    ("SELECT VALUE h.metadata.version FROM history(Car) AS h WHERE h.data.vin = 'B2'", [0, 1]),
]


def test_dialect_smoke_set_gives_the_same_answers(any_db):
    for statement, expected in SMOKE:
        rows = list(any_db.execute(statement))
        if expected is not None:
            assert rows == expected, statement
    report = any_db.verify()
    assert report.verified, report.failure
    assert (report.blocks, report.revisions) == (5, 7)  # 5 writing statements; 2 DDL + 5 DML


def test_export_and_import_round_trip_with_the_same_digest(any_db, tmp_path: Path):
    for statement, _ in SMOKE:
        any_db.execute(statement)
    any_db.export(tmp_path / "export")
    from ledger.proof.export import import_export

    import_export(tmp_path / "export", tmp_path / "copy.ledger")
    with ledger.connect(tmp_path / "copy.ledger") as copy:
        assert copy.digest() == any_db.digest()


# -- PostgreSQL only ---------------------------------------------------------------------------
def test_several_ledgers_share_a_database_each_its_own(pg_server):
    with ledger.connect(pg_server.url("fleet_a")) as a, ledger.connect(pg_server.url("fleet_b")) as b:
        a.execute("CREATE TABLE Car")
        a.execute("INSERT INTO Car ?", {"vin": "A"})
        b.execute("CREATE TABLE Car")
        assert list(b.execute("SELECT * FROM Car")) == []
        assert a.strand_id != b.strand_id
    schemas = pg_server.psql("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ledger_fleet%' "
                             "ORDER BY 1", db="ledgertest")
    assert schemas.split() == ["ledger_fleet_a", "ledger_fleet_b"]


def test_the_password_never_shows(pg_server):
    url = pg_server.url("secret_test")
    with ledger.connect(url) as db:
        assert pg_server.url() not in repr(db)
        assert "pw-not-in-logs" not in repr(db) and "pw-not-in-logs" not in db.path
        assert "***" in db.path
    wrong = url.replace("pw-not-in-logs", "wrong-pw-xyz") + "&retry_seconds=2"
    with pytest.raises(StorageError) as info:
        ledger.connect(wrong)
    assert "wrong-pw-xyz" not in str(info.value)
    assert "password authentication failed" in str(info.value)


def test_credentials_from_pgpass(pg_server, tmp_path: Path, monkeypatch):
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_server.port}:*:ledger:pw-not-in-logs\n")
    os.chmod(pgpass, 0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    with ledger.connect(pg_server.url("from_pgpass", password=False)) as db:
        db.execute("CREATE TABLE T")
        assert db.verify().verified


def test_a_missing_ledger_opened_read_only_is_refused(pg_server):
    with pytest.raises(StorageError, match="not a ledger"):
        ledger.connect(pg_server.url("never_made"), readonly=True)


@pytest.mark.parametrize("name", ["Upper", "semi;colon", "x" * 60, "1digit"])
def test_bad_ledger_names_are_refused_before_connecting(name):
    with pytest.raises(StorageError, match="ledger name"):
        PostgresUrl(f"postgresql://u@127.0.0.1:1/db?ledger={name}")


def test_redact_hides_passwords_in_user_info_and_query():
    assert redact("postgresql://u:secret@h:5432/d?ledger=x") == "postgresql://u:***@h:5432/d?ledger=x"
    assert "secret" not in redact("postgresql://u@h/d?password=secret&ledger=x")
    assert redact("postgresql://h1:5432,h2:5433/d") == "postgresql://h1:5432,h2:5433/d"


def test_our_parameters_do_not_reach_libpq():
    url = PostgresUrl("postgresql://u@h1,h2/d?ledger=v&pool_max=4&target_session_attrs=read-write")
    assert url.name == "v" and url.pool_max == 4
    assert "ledger=" not in url.conninfo and "target_session_attrs=read-write" in url.conninfo


def test_commit_tokens_are_pruned_and_the_ledger_goes_on(pg_server):
    with ledger.connect(pg_server.url("tokens")) as db:
        db.execute("CREATE TABLE T")
        for n in range(3):
            db.execute("INSERT INTO T ?", {"n": n})
        store = db.journal.store
        assert store.prune_commit_tokens(older_than_seconds=0) == 5  # one per write
        assert store.prune_commit_tokens(older_than_seconds=0) == 0
        db.execute("INSERT INTO T ?", {"n": 3})
        assert db.verify().verified


def test_serializable_mode_loses_no_update(pg_server):
    """The alternative to the tip lock (measured in bench G14) is correct too."""
    url = pg_server.url("serial", concurrency="serializable")
    with ledger.connect(url) as setup:
        setup.execute("CREATE TABLE C")
        setup.execute("INSERT INTO C ?", {"k": "x", "n": 0})

    def bump(tx):
        (n,) = tx.execute("SELECT VALUE c.n FROM C AS c WHERE c.k = 'x'")
        tx.execute("UPDATE C AS c SET c.n = ? WHERE c.k = 'x'", n + 1)

    def worker():
        with ledger.connect(url) as db:
            for _ in range(15):
                db.execute_lambda(bump, retries=100, backoff=0.002)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    with ledger.connect(url) as db:
        assert list(db.execute("SELECT VALUE c.n FROM C AS c")) == [45]
        assert db.verify().verified


def test_a_database_lists_and_deletes_its_ledgers(pg_server):
    from ledger.storage.postgres_store import delete_ledger, list_ledgers

    for name in ("cat_a", "cat_b"):
        with ledger.connect(pg_server.url(name)) as db:
            db.execute("CREATE TABLE T")
    names = list_ledgers(pg_server.url())
    assert {"cat_a", "cat_b"} <= set(names)
    delete_ledger(pg_server.url("cat_a"))
    assert "cat_a" not in list_ledgers(pg_server.url())
    with pytest.raises(StorageError, match="no ledger"):
        delete_ledger(pg_server.url("cat_a"))
    with ledger.connect(pg_server.url("cat_b")) as db:
        assert db.verify().verified
