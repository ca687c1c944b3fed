"""history(): a table's revisions read back from the journal, with QLDB's window rules.

A revision is in the window ``[start, end]`` (both inclusive, either open) when it
was committed at or before ``end`` and was still current after ``start``: its next
revision, if any, came later than ``start``.  Deleted documents' final revisions are
included (they carry no ``data``); redacted ones carry ``dataHash``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ledger import ion
from ledger.journal import blocks
from ledger.storage import layout
from ledger.storage.kv import ReadTxn

if TYPE_CHECKING:
    from ledger.journal.journal import Journal

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def to_ms(moment: _dt.datetime) -> int:
    """Milliseconds since 1970 (floor); a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    delta = moment - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def history(
    journal: Journal,
    txn: ReadTxn,
    table_id: str,
    start: _dt.datetime | None,
    end: _dt.datetime | None,
    doc_id: str | None = None,
) -> Iterator[dict[str, Any]]:
    start_ms = None if start is None else to_ms(start)
    end_ms = None if end is None else to_ms(end)
    stored_seq, stored = -1, None  # revisions come in block order: keep the last block
    for rev_doc, version, seq, idx, ms in _revisions(txn, table_id, doc_id):
        if end_ms is not None and ms > end_ms:
            continue
        if start_ms is not None and not _current_after(txn, rev_doc, version, start_ms):
            continue
        if stored is None or seq != stored_seq:
            stored_seq, stored = seq, journal.load_envelope(txn, seq)
        yield blocks.revision(*stored, idx, ion.loads_document)  # only this one's data


def _revisions(
    txn: ReadTxn, table_id: str, doc_id: str | None
) -> Iterator[tuple[str, int, int, int, int]]:
    """(docId, version, seq, index in block, ms) of the table's revisions, oldest first."""
    if doc_id is not None:
        if len(doc_id) != layout.ID_LEN or not doc_id.isascii():
            return
        for key, value in txn.prefix("revisions", layout.revision_prefix(doc_id)):
            _, version = layout.read_revision_key(key)
            seq, idx, ms = layout.read_location(value)
            if txn.get("history", layout.history_key(table_id, seq, idx)) is None:
                return  # the document belongs to another table
            yield doc_id, version, seq, idx, ms
        return
    for key, value in txn.prefix("history", layout.ident(table_id)):
        seq, idx = layout.read_history_key(key)
        rev_doc, version = layout.read_history_value(value)
        loc = txn.get("revisions", layout.revision_key(rev_doc, version))
        assert loc is not None
        yield rev_doc, version, seq, idx, layout.read_location(loc)[2]


def _current_after(txn: ReadTxn, doc_id: str, version: int, start_ms: int) -> bool:
    following = txn.get("revisions", layout.revision_key(doc_id, version + 1))
    return following is None or layout.read_location(following)[2] > start_ms
