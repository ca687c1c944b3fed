"""The journal: blocks in QLDB's format whose hashes recompute, the summary kept in step,
digests over the ledger tree, history windows, limits.

These drive a transaction through the QueryContext methods directly, so they test the
journal without the query engine.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import time

import pytest

import ledger
from ledger import ion
from ledger.hashing import dot, ion_hash, merkle_root, revision_hash
from ledger.journal import blocks as stored_blocks
from ledger.journal.catalog import CATALOG_TABLE_ID, CATALOG_TABLE_NAME
from ledger.query.context import Bound
from ledger.storage import layout


@pytest.fixture
def db(any_db):
    """Every test here that takes ``db`` runs on LMDB and on PostgreSQL (conftest.py)."""
    return any_db



def make_table(db, name="T", index=None):
    with db.transaction() as tx:
        table_id = tx.create_table(name)
        if index:
            tx.create_index(table_id, index)
    return table_id


def insert(db, table_id, *docs):
    with db.transaction() as tx:
        return [tx.insert(table_id, d) for d in docs]


def blocks(db):
    txn = db.journal.store.read()
    try:
        tip = db.journal.tip(txn).seq
        return [db.journal.load_block(txn, s) for s in range(tip + 1)]
    finally:
        txn.close()


def test_block_has_qldb_fields_and_hashes_recompute(db):
    table_id = make_table(db)
    (doc_id,) = insert(db, table_id, {"VIN": "1N4AL11D75C109151", "Amount": ion.loads("90.25")})
    chain = blocks(db)
    assert len(chain) == 2
    block = chain[1]
    assert list(block.keys()) == [
        "blockAddress", "transactionId", "blockTimestamp", "blockHash", "entriesHash",
        "previousBlockHash", "entriesHashList", "transactionInfo", "revisions",
    ]
    assert block["blockAddress"] == {"strandId": db.strand_id, "sequenceNo": 1}
    assert len(block["transactionId"]) == 22
    rev = block["revisions"][0]
    assert rev["metadata"]["id"] == doc_id and rev["metadata"]["version"] == 0
    assert rev["metadata"]["txId"] == block["transactionId"]
    assert rev["hash"] == revision_hash(rev["metadata"], rev["data"])
    assert ion_hash(block["transactionInfo"]) in block["entriesHashList"]
    assert merkle_root([rev["hash"]]) in block["entriesHashList"]
    assert block["entriesHash"] == merkle_root(block["entriesHashList"])
    assert block["blockHash"] == dot(block["entriesHash"], block["previousBlockHash"])
    assert block["previousBlockHash"] == chain[0]["blockHash"]
    docs = block["transactionInfo"]["documents"]
    assert docs[doc_id] == {"tableName": "T", "tableId": table_id, "statements": []}


def test_genesis_block_hash_is_entries_hash_and_ddl_is_journaled(db):
    table_id = make_table(db, "Vehicle", index="VIN")
    genesis = blocks(db)[0]
    assert "previousBlockHash" not in genesis
    assert genesis["blockHash"] == genesis["entriesHash"]
    (rev,) = genesis["revisions"]
    assert rev["metadata"]["id"] == table_id
    assert rev["data"]["name"] == "Vehicle"
    assert rev["data"]["indexes"][0]["expr"] == "[VIN]"
    info = genesis["transactionInfo"]["documents"][table_id]
    assert info["tableName"] == CATALOG_TABLE_NAME and info["tableId"] == CATALOG_TABLE_ID


def test_digest_is_merkle_root_of_block_hashes(db):
    assert db.digest().tip.sequence_no == -1
    table_id = make_table(db)
    for i in range(12):
        insert(db, table_id, {"n": i})
        digest = db.digest()
        hashes = [b["blockHash"] for b in blocks(db)]
        assert digest.digest == merkle_root(hashes)
        assert digest.tip.sequence_no == len(hashes) - 1


def test_update_and_delete_write_new_revisions(db):
    table_id = make_table(db)
    (doc_id,) = insert(db, table_id, {"a": 1})
    with db.transaction() as tx:
        tx.update(table_id, doc_id, {"a": 2})
    with db.transaction() as tx:
        assert tx.get(table_id, doc_id).data == {"a": 2}
        assert tx.get(table_id, doc_id).version == 1
        tx.delete(table_id, doc_id)
    final = blocks(db)[-1]["revisions"][0]
    assert "data" not in final and final["metadata"]["version"] == 2
    assert final["hash"] == ion_hash(final["metadata"])
    with db.transaction() as tx:
        assert tx.get(table_id, doc_id) is None
        assert list(tx.scan(table_id)) == []
        versions = [r["metadata"]["version"] for r in tx.history(table_id, None, None)]
    assert versions == [0, 1, 2]


def test_reads_see_own_writes(db):
    table_id = make_table(db, index="k")
    with db.transaction() as tx:
        doc_id = tx.insert(table_id, {"k": 5})
        assert [r.doc_id for r in tx.scan(table_id)] == [doc_id]
        assert [r.data["k"] for r in tx.index_range(table_id, "k", Bound(5), Bound(5))] == [5]
        tx.update(table_id, doc_id, {"k": 6})
        assert list(tx.index_range(table_id, "k", Bound(5), Bound(5))) == []
        tx.abort()
    with db.transaction() as tx:
        assert list(tx.scan(table_id)) == []


def test_index_ranges_follow_value_order(db):
    table_id = make_table(db, index="k")
    values = [5, 1, ion.loads("2.5"), 10, 3.0, "text", None]
    insert(db, table_id, *[{"k": v} for v in values], {"other": 1})
    with db.transaction() as tx:
        got = [r.data["k"] for r in tx.index_range(table_id, "k", Bound(1, False), Bound(5))]
        assert got == [ion.loads("2.5"), 3.0, 5]
        desc = [r.data["k"] for r in tx.index_range(table_id, "k", Bound(1), Bound(10), descending=True)]
        assert desc == [10, 5, 3.0, ion.loads("2.5"), 1]
        everything = list(tx.index_range(table_id, "k", None, None))
        assert len(everything) == len(values) + 1  # the document without k is indexed too


def test_index_built_for_existing_documents_and_purged_on_drop(db):
    table_id = make_table(db)
    insert(db, table_id, {"k": 1}, {"k": 2})
    with db.transaction() as tx:
        index_id = tx.create_index(table_id, "k")
    with db.transaction() as tx:
        assert [r.data["k"] for r in tx.index_range(table_id, "k", Bound(2), Bound(2))] == [2]
        tx.drop_index(table_id, index_id)
    txn = db.journal.store.read()
    try:
        assert list(txn.prefix("index", index_id.encode())) == []
    finally:
        txn.close()


def test_history_window_semantics(db):
    table_id = make_table(db)
    (doc_id,) = insert(db, table_id, {"v": 0})
    stamps = []
    for v in (1, 2):
        time.sleep(0.005)  # block times have millisecond precision: keep them apart
        stamps.append(dt.datetime.now(dt.UTC))
        time.sleep(0.005)
        with db.transaction() as tx:
            tx.update(table_id, doc_id, {"v": v})
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    with db.transaction() as tx:
        def window(start, end):
            return [r["data"]["v"] for r in tx.history(table_id, start, end)]

        assert window(None, None) == [0, 1, 2]
        assert window(after, None) == [2]  # the revision still current after start
        assert window(None, stamps[0] - dt.timedelta(milliseconds=1)) == [0]
        assert [r["data"]["v"] for r in tx.history(table_id, None, None, doc_id=doc_id)] == [0, 1, 2]
        assert list(tx.history(table_id, None, None, doc_id="x" * 22)) == []


def test_committed_record_shape(db):
    table_id = make_table(db)
    (doc_id,) = insert(db, table_id, {"a": 1})
    with db.transaction() as tx:
        record = tx.get(table_id, doc_id).committed()
    assert set(record) == {"blockAddress", "hash", "data", "metadata"}
    assert record["metadata"]["id"] == doc_id
    assert record["hash"] == revision_hash(record["metadata"], record["data"])


def test_ddl_rules(db):
    table_id = make_table(db, "Person")
    with db.transaction() as tx:
        with pytest.raises(ledger.ProgrammingError, match="already exists"):
            tx.create_table("Person")
        with pytest.raises(ledger.ProgrammingError, match="invalid table name"):
            tx.create_table("1bad")
        with pytest.raises(ledger.ProgrammingError, match="reserved"):
            tx.create_table("select")
        with pytest.raises(ledger.ProgrammingError, match="is active"):
            tx.undrop_table(table_id)
        tx.drop_table(table_id)
        with pytest.raises(ledger.ProgrammingError, match="dropped"):
            tx.insert(table_id, {"a": 1})
        tx.undrop_table(table_id)


def test_limits_are_enforced_and_configurable(tmp_path):
    limits = ledger.Limits(documents_per_transaction=3, document_size=100, active_tables=2,
                           indexes_per_table=1)
    with ledger.connect(tmp_path / "l", limits=limits) as db:
        table_id = make_table(db, "A", index="k")
        with db.transaction() as tx:
            with pytest.raises(ledger.LimitExceededError, match="100"):
                tx.insert(table_id, {"big": "x" * 200})
            for i in range(3):
                tx.insert(table_id, {"i": i})
            with pytest.raises(ledger.LimitExceededError, match="3 documents"):
                tx.insert(table_id, {"i": 4})
            with pytest.raises(ledger.LimitExceededError, match="indexes"):
                tx.create_index(table_id, "other")
            tx.create_table("B")
            with pytest.raises(ledger.LimitExceededError, match="2 active tables"):
                tx.create_table("C")


def test_transaction_timeout(tmp_path):
    # A transaction that writes expires; one that only read has nothing to lose and
    # commits (tests/cli/test_cli_scripts.py has the read-only side).
    with ledger.connect(tmp_path / "l") as db:
        db.execute("CREATE TABLE T")
    with ledger.connect(tmp_path / "l", limits=ledger.Limits(transaction_timeout=0.05)) as db:
        tx = db.transaction()
        tx.execute("INSERT INTO T VALUE {'a': 1}")
        import time

        time.sleep(0.1)
        with pytest.raises(ledger.TransactionExpiredError, match="expired"):
            tx.commit()


def test_non_struct_document_is_rejected(db):
    table_id = make_table(db)
    with db.transaction() as tx:
        for bad in (1, "x", [1], None):
            with pytest.raises(ledger.DataError, match="struct"):
                tx.insert(table_id, bad)


def test_files_are_private(ledger_path):
    with ledger.connect(ledger_path):
        pass
    assert stat.S_IMODE(os.stat(ledger_path).st_mode) == 0o700
    for name in ("data.mdb", "lock.mdb"):
        assert stat.S_IMODE(os.stat(ledger_path / name).st_mode) == 0o600


def test_map_grows_on_demand(tmp_path):
    with ledger.connect(tmp_path / "small", map_size=256 * 1024) as db:
        table_id = make_table(db)
        for i in range(30):
            insert(db, table_id, *[{"i": i, "pad": "x" * 2000} for _ in range(10)])
        assert db.journal.store.map_size() > 256 * 1024
        with db.transaction() as tx:
            assert sum(1 for _ in tx.scan(table_id)) == 300


def test_reopen_keeps_everything(ledger_path):
    with ledger.connect(ledger_path) as db:
        table_id = make_table(db)
        insert(db, table_id, {"a": 1})
        digest = db.digest()
    with ledger.connect(ledger_path) as db:
        assert db.digest() == digest
        with db.transaction() as tx:
            assert [r.data for r in tx.scan(table_id)] == [{"a": 1}]


def test_not_a_ledger(tmp_path):
    path = tmp_path / "file"
    path.write_text("hello")
    with pytest.raises(ledger.StorageError, match="is a file"):
        ledger.connect(path)


def test_future_format_is_refused(ledger_path):
    with ledger.connect(ledger_path) as db:
        db.journal.store.write(lambda w: w.put("meta", b"format", b"99"))
    with pytest.raises(ledger.StorageError, match="format 99"):
        ledger.connect(ledger_path)


def _to_format_1(db):
    """Rewrite a ledger as format 1 stored it: each block one Ion value, each document
    row its header followed by the document's Ion binary."""

    def rewrite(w):
        for key, raw in list(w.range("blocks")):
            w.put("blocks", key, ion.dumps(stored_blocks.decode(raw)))
        for key, row in list(w.range("docs")):
            seq, index = layout.doc_place(row)
            block = stored_blocks.decode(w.get("blocks", layout.block_key(seq)))
            w.put("docs", key, row[:-2] + ion.dumps(block["revisions"][index]["data"]))
        w.put("meta", b"format", b"1")

    db.journal.store.write(rewrite)


def test_format_1_ledger_reads_verifies_and_takes_writes(ledger_path):
    with ledger.connect(ledger_path) as db:
        table_id = make_table(db, index="k")
        (first, second) = insert(db, table_id, {"k": 1, "v": "a"}, {"k": 2, "v": "b"})
        with db.transaction() as tx:
            tx.update(table_id, first, {"k": 1, "v": "a2"})
        _to_format_1(db)
    with ledger.connect(ledger_path) as db:
        assert db.journal.meta()["format"] == "3"
        assert db.verify().verified
        rows = sorted((r["k"], r["v"]) for r in db.execute("SELECT * FROM T"))
        assert rows == [(1, "a2"), (2, "b")]
        with db.transaction() as tx:
            tx.update(table_id, second, {"k": 3, "v": "c"})  # an old row, re-indexed
            (hit,) = list(tx.index_range(table_id, "k", Bound(3), Bound(3)))
            assert hit.doc_id == second
        assert [r["v"] for r in db.execute("SELECT * FROM T WHERE k = 3")] == ["c"]
        report = db.verify()
        assert report.verified, report.failure


def test_readonly_ledger_reads(ledger_path):
    with ledger.connect(ledger_path) as db:
        table_id = make_table(db)
        insert(db, table_id, {"a": 1})
    with ledger.connect(ledger_path, readonly=True) as db:
        with db.transaction() as tx:
            assert len(list(tx.scan(table_id))) == 1
            tx.insert(table_id, {"a": 2})
            with pytest.raises(ledger.StorageError, match="read-only"):
                tx.commit()


def test_memory_ledger_is_removed_on_close():
    db = ledger.connect(":memory:")
    path = db.path
    assert os.path.isdir(path)
    db.close()
    assert not os.path.exists(path)
    with pytest.raises(ledger.InterfaceError):
        db.transaction()


def test_closed_transaction_refuses_work(db):
    tx = db.transaction()
    tx.commit()
    with pytest.raises(ledger.InterfaceError, match="committed"):
        tx.execute("SELECT * FROM T")


def test_decimals_ion_binary_cannot_keep_are_refused(db):
    from decimal import Decimal

    table_id = make_table(db)
    wide = Decimal("4.3884673106283580748099138552646870E-24")  # 35 digits: the writer drops the 0
    with db.transaction() as tx:
        with pytest.raises(ledger.DataError, match="34 significant digits"):
            tx.insert(table_id, {"x": [{"y": wide}]})
        tx.insert(table_id, {"x": Decimal("4.388467310628358074809913855264687E-24")})


def test_ids_are_qldb_shaped_unique_and_sort_by_issue_time(monkeypatch):
    """22 base62 characters like QLDB's; the clock leads, so later ids sort later (the
    B-trees keyed by document id then grow at one edge)."""
    from ledger import ion

    ids = [ion.new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 22 and i.isalnum() and i.isascii() for i in ids)
    # the pure-Python generator, whose clock a test can set (the compiled twin's is
    # compared with it in tests/hashing/test_ids.py)
    monkeypatch.setattr(ion, "_last_id", ion._last_id)  # restored afterwards
    later = 4_000_000_000_000 * 1_000_000  # ns: year 2096, after every id issued so far
    clock = iter([later, later + 1_000_000, later + 1_000_000])
    monkeypatch.setattr(ion.time, "time_ns", lambda: next(clock))
    first, second, same_ms = ion.pure_new_id(), ion.pure_new_id(), ion.pure_new_id()
    assert first < second < same_ms  # in one millisecond, the next id steps past the last
    number = 0
    for digit in first:
        number = number * 62 + ion._BASE62.index(digit)
    assert number >> 80 == 4_000_000_000_000  # the clock, in milliseconds, leads


def test_ids_from_one_process_sort_in_the_order_issued_and_a_fork_starts_afresh():
    """Strictly ascending in a process (B-tree pages fill up instead of splitting half
    empty); a forked child does not continue from its parent's last id."""
    import os

    from ledger import ion

    ids = [ion.pure_new_id() for _ in range(20000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports the last id it would continue from
        os.write(write, str(ion._last_id).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 100) == b"0"
    os.close(read)
