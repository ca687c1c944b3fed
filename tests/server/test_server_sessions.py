"""The SessionStore (what the server remembers between session requests), in process,
with a clock the test moves: QLDB's lifetimes and limits, paging, the CommitDigest."""

from __future__ import annotations

import base64
import threading

import pytest

import ledger
from ledger import ion
from ledger.errors import ServiceError
from ledger.hashing import commit_digest
from ledger.server.catalog import Catalog
from ledger.server.session_api import SessionApi
from ledger.server.sessions import PAGE_BYTES, PAGE_VALUES, Lifetimes, SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path):
    with ledger.connect(tmp_path / "root" / "books") as db:
        db.execute("CREATE TABLE T")
    catalog = Catalog(tmp_path / "root")
    clock = Clock()
    sessions = SessionStore(catalog.open, Lifetimes(sessions_per_ledger=3), clock)
    yield sessions, clock, catalog
    sessions.close()
    catalog.close()


def code(fn) -> str:
    with pytest.raises(ServiceError) as info:
        fn()
    return f"{info.value.code}: {info.value.message}"


def test_commit_digest_folds_every_statement_received_failed_ones_included(store):
    sessions, clock, _ = store
    token = sessions.start_session("books")
    tx = sessions.start_transaction(token)
    assert len(tx) == 22
    received = [("SELECT * FROM NoSuchTable", []), ("INSERT INTO T ?", [{"a": ion.loads("1.20")}])]
    assert code(lambda: sessions.execute(token, tx, *received[0])).startswith("BadRequestException")
    sessions.execute(token, tx, *received[1])
    digest = commit_digest(tx, received)
    assert code(lambda: sessions.commit(token, tx, commit_digest(tx, received[1:]))).endswith(
        "the transaction is aborted"
    )
    tx = sessions.start_transaction(token)
    for statement, params in received:
        try:
            sessions.execute(token, tx, statement, params)
        except ServiceError:
            pass
    digest = commit_digest(tx, received)
    assert sessions.commit(token, tx, digest) == digest
    assert sessions.counts() == (1, 0)


def test_pages_hold_at_most_200_values_and_a_token_works_once(store):
    sessions, clock, catalog = store
    db = catalog.open("books")
    for start in range(0, 450, 40):
        db.execute("INSERT INTO T << " + ", ".join(f"{{'n': {n}}}" for n in range(start, min(start + 40, 450))) + " >>")
    token = sessions.start_session("books")
    tx = sessions.start_transaction(token)
    page = sessions.execute(token, tx, "SELECT VALUE t.n FROM T AS t", [])
    seen = [ion.loads(v) for v in page.values]
    assert len(page.values) == PAGE_VALUES and page.next_token
    first_token = page.next_token
    while page.next_token:
        used = page.next_token
        page = sessions.fetch_page(token, tx, used)
        seen += [ion.loads(v) for v in page.values]
        assert code(lambda used=used: sessions.fetch_page(token, tx, used)).startswith("BadRequestException")
    assert sorted(seen) == list(range(450))
    # a token works only inside its transaction
    page = sessions.execute(token, tx, "SELECT * FROM T", [])
    sessions.abort(token)
    tx2 = sessions.start_transaction(token)
    assert code(lambda: sessions.fetch_page(token, tx2, page.next_token)).startswith("BadRequestException")
    assert first_token != page.next_token


def test_pages_stay_under_a_megabyte(store):
    sessions, clock, catalog = store
    db = catalog.open("books")
    for i in range(12):
        db.execute("INSERT INTO T ?", {"i": i, "blob": b"x" * 120_000})
    token = sessions.start_session("books")
    tx = sessions.start_transaction(token)
    page = sessions.execute(token, tx, "SELECT * FROM T", [])
    sizes = []
    while True:
        sizes.append(sum(len(v) for v in page.values))
        if not page.next_token:
            break
        page = sessions.fetch_page(token, tx, page.next_token)
    assert max(sizes) <= PAGE_BYTES and len(sizes) == 2


def test_transactions_expire_after_30_seconds_and_release_their_snapshot(store):
    sessions, clock, _ = store
    token = sessions.start_session("books")
    tx = sessions.start_transaction(token)
    sessions.execute(token, tx, "SELECT * FROM T", [])
    journal_tx = sessions._sessions[token].open.tx  # type: ignore[union-attr]
    clock.now += 31
    assert sessions.reap() == 1
    assert journal_tx._snap is None  # the LMDB read snapshot is given back at once
    assert code(lambda: sessions.execute(token, tx, "SELECT * FROM T", [])) == (
        f"InvalidSessionException: Transaction {tx} has expired"
    )
    assert code(lambda: sessions.commit(token, tx, b"x" * 32)).endswith("has expired")
    tx = sessions.start_transaction(token)  # the session itself lives on
    clock.now += 31  # expired, not yet reaped: refused on use all the same
    assert code(lambda: sessions.execute(token, tx, "SELECT * FROM T", [])).endswith("has expired")


def test_idle_and_old_sessions_are_reaped(store):
    sessions, clock, _ = store
    idle = sessions.start_session("books")
    busy = sessions.start_session("books")
    clock.now += 50
    sessions.abort(busy)  # used: not idle
    clock.now += 20
    assert sessions.reap() == 1
    assert code(lambda: sessions.start_transaction(idle)).startswith("InvalidSessionException")
    for _ in range(20):  # in use all along, it still ends after 15 minutes
        clock.now += 50
        sessions.abort(busy)
    sessions.reap()
    assert code(lambda: sessions.start_transaction(busy)).startswith("InvalidSessionException")


def test_sessions_per_ledger_are_capped(store):
    sessions, clock, _ = store
    tokens = [sessions.start_session("books") for _ in range(3)]
    assert code(lambda: sessions.start_session("books")).startswith("LimitExceededException")
    sessions.end_session(tokens[0])
    assert sessions.start_session("books")


def test_occ_conflict_at_commit_closes_the_transaction(store):
    sessions, clock, catalog = store
    catalog.open("books").execute("INSERT INTO T ?", {"k": 1, "v": 0})
    a, b = sessions.start_session("books"), sessions.start_session("books")
    ta, tb = sessions.start_transaction(a), sessions.start_transaction(b)
    statement = ("UPDATE T SET v = v + 1 WHERE k = 1", [])
    for token, tx in ((a, ta), (b, tb)):
        sessions.execute(token, tx, *statement)
    sessions.commit(a, ta, commit_digest(ta, [statement]))
    assert code(lambda: sessions.commit(b, tb, commit_digest(tb, [statement]))).startswith("OccConflictException")
    assert sessions.counts() == (2, 0)
    assert sessions.start_transaction(b)  # the driver retries on the same session, no Abort


def test_one_session_is_served_one_request_at_a_time(store):
    sessions, clock, catalog = store
    token = sessions.start_session("books")
    tx = sessions.start_transaction(token)
    lock = sessions._sessions[token].lock
    lock.acquire()  # a request of this session in progress
    done = threading.Event()
    threading.Thread(target=lambda: (sessions.execute(token, tx, "SELECT * FROM T", []), done.set())).start()
    other = sessions.start_session("books")  # other sessions are not held up
    assert sessions.start_transaction(other)
    assert not done.wait(0.2)
    lock.release()
    assert done.wait(5)


def test_deleting_a_ledger_ends_its_sessions(store):
    sessions, clock, _ = store
    token = sessions.start_session("books")
    sessions.start_transaction(token)
    sessions.end_ledger("books")
    assert sessions.counts() == (0, 0)


def test_session_api_results_are_ion_binary_with_values_always_present(store):
    sessions, clock, _ = store
    api = SessionApi(sessions)
    _, started = api.send_command({"StartSession": {"LedgerName": "books"}})
    token = started["StartSession"]["SessionToken"]
    _, opened = api.send_command({"SessionToken": token, "StartTransaction": {}})
    tx = opened["StartTransaction"]["TransactionId"]
    _, result = api.send_command(
        {"SessionToken": token, "ExecuteStatement": {"TransactionId": tx, "Statement": "SELECT * FROM T", "Parameters": []}}
    )
    first = result["ExecuteStatement"]
    assert first["FirstPage"] == {"Values": []}
    assert set(first) == {"FirstPage", "TimingInformation", "ConsumedIOs"}
    _, result = api.send_command(
        {"SessionToken": token, "ExecuteStatement": {"TransactionId": tx, "Statement": "INSERT INTO T ?",
                                                      "Parameters": [{"IonText": "{a: 1e0, b: 2024-01-01T}"}]}}
    )
    (value,) = result["ExecuteStatement"]["FirstPage"]["Values"]
    assert set(value) == {"IonBinary"}
    assert "documentId" in ion.loads(base64.b64decode(value["IonBinary"]))


def test_without_waiting_a_busy_session_is_refused_not_waited_for(store):
    from ledger.server.sessions import SessionBusy

    sessions, clock, _ = store
    token = sessions.start_session("books")
    lock = sessions._sessions[token].lock
    lock.acquire()  # a request of this session is running in a worker
    try:
        with sessions.without_waiting(), pytest.raises(SessionBusy):
            sessions.start_transaction(token)
    finally:
        lock.release()
    with sessions.without_waiting():  # free: served at once
        assert sessions.start_transaction(token)
    assert sessions.counts() == (1, 1)
