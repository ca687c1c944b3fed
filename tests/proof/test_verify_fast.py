"""``verify``'s fast path (ledger.proof.verify_blocks) and its worker processes reach
exactly the verdict of the original block checks, on a sound ledger and on each kind
of damage: the same failure, located alike, with the same expected and computed values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from proofkit import copy_ledger, edit, entries, populate, verify_path

import ledger
from ledger import ion
from ledger.hashing import ion_binary
from ledger.journal import blocks as stored_blocks
from ledger.proof import verify as verify_module
from ledger.proof import verify_blocks
from ledger.storage import layout

# original: the checks that word every problem; decoded: the fast path on values amazon.ion
# decodes; fast: the fast path hashing the stored Ion binary (where the compiled core is
# built); workers: the fast path in worker processes.
MODES = ("original", "decoded", "fast", "workers")
SOUND_AFTER = {"docs row re-encoded", "data part padded"}  # the same values, other bytes


@pytest.fixture(scope="module")
def big_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("fast") / "fast.ledger"
    with ledger.connect(path) as db:
        ids = populate(db, rounds=40, seed=11)
    return path, ids


def _report(path: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    with monkeypatch.context() as m:
        m.setattr(verify_module, "workers_for", lambda blocks: 2 if mode == "workers" else 0)
        if mode == "original":
            m.setattr(verify_blocks, "check_block", lambda *args: None)
        if mode == "decoded":
            m.setattr(verify_blocks, "check_block_binary", lambda *args: None)
        report = verify_path(path)
    out = report.to_json()
    out["expected"], out["computed"] = report.expected, report.computed
    return out


def _same_in_every_mode(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    reports = {mode: _report(path, mode, monkeypatch) for mode in MODES}
    assert reports["decoded"] == reports["original"]
    assert reports["fast"] == reports["original"]
    assert reports["workers"] == reports["original"]
    return reports["original"]


def _doc_row(path: Path, ids: dict[str, Any]) -> tuple[bytes, bytes]:
    prefix = layout.doc_prefix(ids["A"])
    return next((k, v) for k, v in entries(path, "docs") if k.startswith(prefix))


def _forge_row_data(path: Path, ids: dict[str, Any]) -> None:
    key, value = _doc_row(path, ids)
    # a row in format 1's shape (the header, then the data inline) with other data
    edit(path, lambda w: w.put("docs", key, value[:-2] + ion.dumps({"k": "x"})))


def _reencode_row(path: Path, ids: dict[str, Any]) -> None:
    """The same document inline, as format 1 stored it, its fields in another order."""
    key, value = _doc_row(path, ids)
    seq, index = layout.doc_place(value)
    raw = dict(entries(path, "blocks"))[layout.block_key(seq)]
    data = ion.loads(stored_blocks.part(raw, index))
    flipped = dict(reversed(list(data.items())))
    row = value[:-2] + ion.dumps(flipped)
    assert row != value
    edit(path, lambda w: w.put("docs", key, row))


def _drop_index_entry(path: Path, ids: dict[str, Any]) -> None:
    key = next(k for k, _ in entries(path, "index"))
    edit(path, lambda w: w.delete("index", key))


def _edit_block(seq: int, change: Callable[[Any], None]) -> Callable[[Path, dict[str, Any]], None]:
    def run(path: Path, ids: dict[str, Any]) -> None:
        def fn(w: Any) -> None:
            block = stored_blocks.decode(w.get("blocks", layout.block_key(seq)))
            change(block)
            w.put("blocks", layout.block_key(seq), stored_blocks.encode(block))

        edit(path, fn)

    return run


def _revision_data(block: Any) -> None:
    block["revisions"][0]["data"]["n"] = 12345


def _previous_hash(block: Any) -> None:
    block["previousBlockHash"] = b"\1" * 32


def _tx_id(block: Any) -> None:
    block["revisions"][0]["metadata"]["txId"] = "X" * 22


def _drop_revision_entry(path: Path, ids: dict[str, Any]) -> None:
    key, _ = entries(path, "revisions")[30]
    edit(path, lambda w: w.delete("revisions", key))


def _drop_time(path: Path, ids: dict[str, Any]) -> None:
    key, _ = entries(path, "times")[20]
    edit(path, lambda w: w.delete("times", key))


def _pad_data_part(path: Path, ids: dict[str, Any]) -> None:
    """A document's stored Ion followed by a NOP pad: the same value, bytes the binary
    hash does not answer for (it takes the decoding path instead)."""

    def fn(w: Any) -> None:
        raw = w.get("blocks", layout.block_key(20))
        envelope, parts = layout.split_block(raw)
        padded = [(i, data + b"\x00") if k == 0 else (i, data) for k, (i, data) in enumerate(parts)]
        w.put("blocks", layout.block_key(20), layout.encode_block(envelope, padded))

    edit(path, fn)


def _garbage_block(path: Path, ids: dict[str, Any]) -> None:
    edit(path, lambda w: w.put("blocks", layout.block_key(25), b"\xe0\x01\x00\xea\xff"))


DAMAGE: dict[str, Callable[[Path, dict[str, Any]], None]] = {
    "docs row data": _forge_row_data,
    "docs row re-encoded": _reencode_row,
    "index entry": _drop_index_entry,
    "revision data": _edit_block(20, _revision_data),
    "previousBlockHash": _edit_block(30, _previous_hash),
    "txId": _edit_block(22, _tx_id),
    "revisions entry": _drop_revision_entry,
    "times entry": _drop_time,
    "garbage block": _garbage_block,
    "data part padded": _pad_data_part,
}


def test_sound_ledger_verifies_in_every_mode(big_ledger, monkeypatch):
    path, _ = big_ledger
    report = _same_in_every_mode(path, monkeypatch)
    assert report["verified"] and report["blocks"] >= 40


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damage_is_judged_alike_in_every_mode(big_ledger, tmp_path, monkeypatch, damage):
    path, ids = big_ledger
    copy = copy_ledger(path, tmp_path / "copy.ledger")
    DAMAGE[damage](copy, ids)
    report = _same_in_every_mode(copy, monkeypatch)
    assert report["verified"] is (damage in SOUND_AFTER), report["failure"]


def test_fast_path_takes_ordinary_blocks(big_ledger):
    """Nearly every block passes the fast checks (DDL blocks and redactions do not)."""
    path, _ = big_ledger
    with ledger.connect(path, readonly=True) as db:
        txn = db.journal.store.read()
        try:
            results = [
                verify_blocks.check_block(raw, seq, db.journal.strand_id, {})
                for seq, (_, raw) in enumerate(txn.range("blocks"))
            ]
        finally:
            txn.close()
    assert sum(r is not None for r in results) >= len(results) - 10


def test_workers_start_without_fork_while_other_threads_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_blocks.threading, "active_count", lambda: 2)
    assert verify_blocks._start_method() == "forkserver"
    monkeypatch.setattr(verify_blocks.threading, "active_count", lambda: 1)
    assert verify_blocks._start_method() == "fork"


@pytest.mark.skipif(not ion_binary.compiled, reason="the compiled core is not built or forced off")
def test_bytes_the_binary_hash_declines_take_the_decoding_path(big_ledger, tmp_path):
    path, ids = big_ledger
    copy = copy_ledger(path, tmp_path / "copy.ledger")
    _pad_data_part(copy, ids)
    with ledger.connect(copy, readonly=True) as db:
        txn = db.journal.store.read()
        try:
            raw = txn.get("blocks", layout.block_key(20))
        finally:
            txn.close()
        strand = db.journal.strand_id
    assert raw is not None
    assert verify_blocks.check_block_binary(raw, 20, strand, {}) is None
    facts = verify_blocks.check_block_decoded(raw, 20, strand, {})
    assert facts is not None and verify_blocks.check_block(raw, 20, strand, {}) == facts


@pytest.mark.parametrize(
    "doc_id, version, seq, index, ms, tx_id, table_id",
    [
        ("A" * 22, 0, 0, 0, 0, "B" * 22, "C" * 22),
        ("0359vUfJzyoQjKBXgqNVHi", 2**32 - 2, 2**64 - 1, 2**16 - 1, -(2**63), "x" * 22, "y" * 22),
        ("0359vUfJzyoQjKBXgqNVHi", 7, 123_456, 39, 1_700_000_000_123, "t" * 22, "u" * 22),
    ],
)
def test_revision_entries_are_the_layout_functions_entries(
    doc_id: str, version: int, seq: int, index: int, ms: int, tx_id: str, table_id: str
) -> None:
    """The replay's keys (built in one call) are exactly the keys commit writes."""
    digest = bytes(range(32))
    assert layout.revision_entries(doc_id, version, seq, index, ms, digest, tx_id, table_id) == (
        layout.revision_key(doc_id, version),
        layout.revision_key(doc_id, version + 1),
        layout.location(seq, index, ms),
        layout.history_key(table_id, seq, index),
        layout.doc_key(table_id, doc_id),
        layout.encode_doc(layout.DocHeader(version, seq, ms, digest, tx_id), index),
    )


@pytest.mark.parametrize("bad", [("short", "C" * 22), ("A" * 22, "é" * 22)])
def test_revision_entries_refuse_what_the_layout_functions_refuse(bad: tuple[str, str]) -> None:
    doc_id, table_id = bad
    with pytest.raises(ValueError):
        layout.revision_entries(doc_id, 0, 0, 0, 0, bytes(32), "t" * 22, table_id)
    with pytest.raises(ValueError):
        layout.doc_key(table_id, doc_id)
