"""The commit path's shortcuts give what the long ways gave (differential oracles).

Each shortcut of the commit path (ledger/journal/commit.py, ledger/ion.py,
ledger/query/dml.py, ledger/storage/group.py) is checked against the code it stands in
for: millisecond timestamps built from a table against amazon.ion's Timestamp
constructor (value, precision, fractional seconds, Ion bytes and Ion hash); DML's result
row against ``to_ion`` of the Struct it replaced; a block's hashes against their
definition; commits that skip a read (new documents, tables without indexes) against
the state a fresh read of the ledger shows; a lone writer needing no Event.  ~3 s.
"""

from __future__ import annotations

import datetime as _dt
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ledger
from ledger import ion
from ledger.hashing import block_hashes, ion_hash, merkle_root
from ledger.hashing.block import entries_hash_list
from ledger.hashing.dot import dot
from ledger.query import dml
from ledger.query.values import Struct, to_ion

_MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z


def slow_timestamp_of_ms(ms: int) -> ion.Timestamp:
    """The construction timestamp_of_ms replaced (amazon.ion's checked constructor)."""
    return ion.timestamp_ms(ion._EPOCH + _dt.timedelta(milliseconds=ms))


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.integers(-62135596800000, _MAX_MS), st.integers(0, 999),
                 st.sampled_from([0, 1, 999, 1000, -1, -999, -1000, _MAX_MS])))
def test_millisecond_timestamps_are_amazon_ions(ms: int) -> None:
    ion._ms_stamps.clear()
    fast, slow = ion.timestamp_of_ms(ms), slow_timestamp_of_ms(ms)
    assert repr(fast) == repr(slow) and fast == slow
    assert fast.tzinfo is slow.tzinfo
    assert (fast.precision, fast.fractional_precision) == (slow.precision, slow.fractional_precision)
    assert fast.fractional_seconds.as_tuple() == slow.fractional_seconds.as_tuple()
    assert ion.dumps(fast) == ion.pure_dumps(slow)
    assert ion_hash(fast) == ion_hash(slow)
    assert ion.timestamp_of_ms(ms) is fast  # the next ask of the same millisecond


def test_the_timestamp_cache_stays_small() -> None:
    for ms in range(1000):
        ion.timestamp_of_ms(1_700_000_000_000 + ms)
    assert len(ion._ms_stamps) <= 64


@pytest.mark.parametrize("doc_id", ["0359veDN6VxxlJbL9qE6qM", ""])
def test_dml_result_rows_are_what_to_ion_made_of_a_struct(doc_id: str) -> None:
    fast, slow = dml._row(doc_id), to_ion(Struct(documentId=doc_id))
    assert type(fast) is type(slow)
    assert fast == slow and fast.ion_annotations == slow.ion_annotations == ()
    assert vars(fast) == vars(slow)
    assert ion.dumps(fast) == ion.dumps(slow)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=50), st.booleans())
def test_block_hashes_are_their_definition(revisions: list[bytes], redacted: bool) -> None:
    """blockHash = dot(merkle([H(info), merkle(revisions), H(redaction)?]), previous),
    the revisions' root computed once."""
    info = {"statements": [], "documents": {}}
    redaction = {"revisions": []} if redacted else None
    got = block_hashes(info, revisions, b"\x01" * 32, redaction)
    entries = [ion_hash(info)] + ([merkle_root(revisions)] if revisions else [])
    entries += [ion_hash(redaction)] if redacted else []
    assert got.entries_hash_list == entries == entries_hash_list(info, revisions, redaction)
    assert got.revisions_root == merkle_root(revisions)
    assert got.block_hash == dot(merkle_root(entries), b"\x01" * 32)


def test_commits_that_skip_reads_leave_the_state_a_fresh_read_shows(tmp_path) -> None:
    """New documents are written without looking for a current record; updates of a
    table without indexes do not decode the old revision; with an index they still
    move its entries."""
    with ledger.connect(str(tmp_path / "l")) as db:
        db.execute("CREATE TABLE Plain")
        db.execute("CREATE TABLE Indexed")
        db.execute("CREATE INDEX ON Indexed (k)")
        for table in ("Plain", "Indexed"):
            db.execute(f"INSERT INTO {table} ?", [{"k": i} for i in range(5)])
            db.execute(f"UPDATE {table} SET k = k + 10 WHERE k < 3")
            db.execute(f"DELETE FROM {table} WHERE k = 4")
        with db.transaction() as tx:  # inserted, updated and deleted in one transaction
            [row] = tx.execute("INSERT INTO Plain ?", {"k": 99})
            tx.execute("UPDATE Plain SET k = 98 WHERE k = 99")
            tx.execute("DELETE FROM Plain WHERE k = 98")
        for table in ("Plain", "Indexed"):
            ks = sorted(int(r["k"]) for r in db.execute(f"SELECT k FROM {table}"))
            assert ks == [3, 10, 11, 12]
            assert [int(r["k"]) for r in db.execute(f"SELECT k FROM {table} WHERE k = 11")] == [11]
            assert list(db.execute(f"SELECT k FROM {table} WHERE k = 1")) == []
        history = list(db.execute("SELECT * FROM history(Plain) WHERE metadata.id = ?",
                                  row["documentId"]))
        assert [h["metadata"]["version"] for h in history] == [0]  # one block, last revision
        from ledger.proof.verify import verify

        assert verify(db.journal).verified


def test_a_lone_writer_makes_no_event_and_concurrent_ones_all_commit(tmp_path, monkeypatch) -> None:
    made = []
    real = threading.Event

    def counting_event() -> threading.Event:
        made.append(1)
        return real()

    with ledger.connect(str(tmp_path / "l")) as db:
        db.execute("CREATE TABLE T")
        monkeypatch.setattr(threading, "Event", counting_event)
        for i in range(20):
            db.execute("INSERT INTO T ?", {"i": i})
        assert made == []
        monkeypatch.undo()
        threads = [threading.Thread(target=lambda n=n: [db.execute("INSERT INTO T ?", {"t": n})
                                                        for _ in range(25)]) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(list(db.execute("SELECT * FROM T"))) == 20 + 8 * 25
