"""The replay for ``verify``: each revision of the journal against the summary it implies,
its ``revisions`` and ``history`` entries, and for a document's newest revision its
``docs`` row (header and data, which must hash to the journal's revision hash) and its
index entries; the catalog is replayed on the way (``CatalogReplay``).

A problem found in a document row is held back (``pending``) until the journal-side
checks have all passed, because whether a revision is current is read from
``revisions``, which must be proven first.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ledger import ion
from ledger.errors import VerificationError
from ledger.hashing import revision_hash
from ledger.journal import blocks
from ledger.journal.catalog import CATALOG_TABLE_ID
from ledger.journal.transaction import index_value, ms_timestamp
from ledger.proof.verify_blocks import BlockFacts, Keys, RevisionFacts
from ledger.proof.verify_catalog import CatalogReplay
from ledger.proof.verify_parts import (
    MALFORMED,
    RevisionParts,
    is_opaque,
    revision_parts,
    revision_table,
)
from ledger.query.context import TableInfo
from ledger.storage import layout
from ledger.storage.kv import ReadTxn


class Replay:
    """Every revision in journal order, checked against revisions, history, docs, index;
    counts the revisions and the live documents per table for the final counts."""

    def __init__(self, txn: ReadTxn, claimed: dict[str, TableInfo | None]) -> None:
        self.txn, self.claimed = txn, claimed
        self.catalog = CatalogReplay()
        self.revisions = 0
        self.live: Counter[str] = Counter()
        self.pending: VerificationError | None = None

    def index_fields(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """(indexId, indexed field) of each index of each stored table, for the fast
        path's index values and keys."""
        return {
            table_id: tuple((index.index_id, index.field) for index in table.indexes)
            for table_id, table in self.claimed.items()
            if table is not None
        }

    def add_block(self, block: Mapping[str, Any], seq: int) -> None:
        """The revisions of a block on IonPy values (the original checks)."""
        for idx, revision in enumerate(block.get("revisions") or ()):
            if is_opaque(revision):
                continue
            parts = revision_parts(revision, seq)
            table_id, table_name = revision_table(block, parts.doc_id, seq)
            self._check_pointers(parts.doc_id, parts.version, parts.ms, table_id, seq, idx)
            self.revisions += 1
            if table_id == CATALOG_TABLE_ID:
                self.catalog.catalog_revision(parts.doc_id, parts.data, seq)
                continue
            self.catalog.user_revision(table_id, table_name, seq)
            self._check_current(parts, revision, table_id, seq)

    def add_facts(self, facts: BlockFacts, seq: int) -> None:
        """The revisions of a block the fast path passed: their entries looked up by the
        keys the fast path built (the checks that word a problem run where one differs)."""
        get, table = self.txn.get, None
        for r in facts.revisions:
            k = r.keys
            if k is None or get("revisions", k.revision) != k.location or (
                get("history", k.history) != k.revision
            ):
                self._check_pointers(r.doc_id, r.version, r.ms, r.table_id, seq, r.idx)
            self.revisions += 1
            if (r.table_id, r.table_name) != table:  # a repeat in a row changes nothing
                table = r.table_id, r.table_name
                self.catalog.user_revision(r.table_id, r.table_name, seq)
            if k is None:
                self._check_current_facts(r, seq)
            else:
                self._check_current_keys(r, k, seq)

    def raise_pending(self) -> None:
        if self.pending is not None:
            raise self.pending

    def _check_pointers(
        self, doc_id: str, version: int, ms: int, table_id: str, seq: int, idx: int
    ) -> None:
        want = layout.location(seq, idx, ms)
        got = self.txn.get("revisions", layout.revision_key(doc_id, version))
        if got != want:
            raise VerificationError(
                f"revisions entry of version {version} is wrong",
                expected=want,
                computed=got,
                block=seq,
                document=doc_id,
            )
        try:
            key = layout.history_key(table_id, seq, idx)
        except ValueError as exc:
            raise VerificationError(
                f"malformed tableId ({exc})", block=seq, document=doc_id
            ) from None
        want = layout.history_value(doc_id, version)
        got = self.txn.get("history", key)
        if got != want:
            raise VerificationError(
                f"history entry of version {version} is wrong",
                expected=want,
                computed=got,
                block=seq,
                document=doc_id,
            )

    def _hold(
        self, message: str, seq: int, doc_id: str, expected: object = None, computed: object = None
    ) -> None:
        if self.pending is None:
            self.pending = VerificationError(
                message, expected=expected, computed=computed, block=seq, document=doc_id
            )

    def _check_current(self, p: RevisionParts, revision: Any, table_id: str, seq: int) -> None:
        """If this is the document's newest revision, its docs row and index entries."""
        if self.txn.get("revisions", layout.revision_key(p.doc_id, p.version + 1)) is not None:
            return  # superseded; the later revision's own check proves that entry
        row = self.txn.get("docs", layout.doc_key(table_id, p.doc_id))
        if not p.live and revision.get("dataHash") is None:
            if row is not None:
                self._hold("docs still holds a deleted document", seq, p.doc_id)
            return
        self.live[table_id] += 1
        if row is None:
            self._hold(
                f"docs has no row for the document's current version {p.version}", seq, p.doc_id
            )
            return
        data = self._check_row(p, row, seq)
        if data is not None:
            self._check_index_entries(table_id, p.doc_id, self._index_values(table_id, data), seq)

    def _check_current_facts(self, r: RevisionFacts, seq: int) -> None:
        """``_check_current`` for a revision the fast path read: when the docs row is the
        journal's header and data byte for byte, neither is decoded or hashed again."""
        if self.txn.get("revisions", layout.revision_key(r.doc_id, r.version + 1)) is not None:
            return  # superseded; the later revision's own check proves that entry
        row = self.txn.get("docs", layout.doc_key(r.table_id, r.doc_id))
        if not r.has_data and not r.has_data_hash:
            if row is not None:
                self._hold("docs still holds a deleted document", seq, r.doc_id)
            return
        self.live[r.table_id] += 1
        if row is None:
            self._hold(
                f"docs has no row for the document's current version {r.version}", seq, r.doc_id
            )
            return
        if r.index_values is not None and row == _expected_row(r, seq):  # the common case
            self._check_index_entries(r.table_id, r.doc_id, r.index_values, seq)
            return
        p = RevisionParts(r.doc_id, r.version, r.tx_id, r.ms, r.hash, None, r.has_data)
        data = self._check_row(p, row, seq)
        if data is not None:
            self._check_index_entries(
                r.table_id, r.doc_id, self._index_values(r.table_id, data), seq
            )

    def _check_current_keys(self, r: RevisionFacts, k: Keys, seq: int) -> None:
        """``_check_current_facts`` by the fast path's keys."""
        get = self.txn.get
        if get("revisions", k.next) is not None:
            return  # superseded; the later revision's own check proves that entry
        row = get("docs", k.doc)
        if row is None or not r.has_data or row != k.row or k.index_keys is None:
            self._check_current_facts(r, seq)
            return
        self.live[r.table_id] += 1  # the common case: the row commit writes, its entries
        for key in k.index_keys:
            if get("index", key) is None:
                self._check_index_entries(r.table_id, r.doc_id, r.index_values or (), seq)
                return

    def _index_values(self, table_id: str, data: Any) -> list[bytes]:
        table = self.claimed.get(table_id)
        return [index_value(data, index.field) for index in (table.indexes if table else ())]

    def _check_row(self, p: RevisionParts, row: bytes, seq: int) -> Any:
        want = layout.DocHeader(p.version, seq, p.ms, p.hash, p.tx_id)
        try:
            header = layout.decode_doc_header(row)
            data = ion.loads(blocks.row_data(self.txn, row))
        except Exception as exc:  # noqa: BLE001 - corrupt bytes may break the Ion reader anyhow
            self._hold(f"malformed docs row ({exc})", seq, p.doc_id)
            return None
        if header != want:
            self._hold(
                "docs row header differs from the journal's current revision",
                seq,
                p.doc_id,
                want,
                header,
            )
            return None
        metadata = {
            "id": p.doc_id,
            "version": header.version,
            "txTime": ms_timestamp(header.tx_time_ms),
            "txId": header.tx_id,
        }
        try:
            computed = revision_hash(metadata, data)
        except MALFORMED as exc:
            self._hold(f"docs row data cannot be hashed ({exc})", seq, p.doc_id)
            return None
        if computed != p.hash:
            self._hold(
                "the document in docs does not hash to the journal's revision hash",
                seq,
                p.doc_id,
                p.hash,
                computed,
            )
            return None
        return data

    def _check_index_entries(
        self, table_id: str, doc_id: str, values: Sequence[bytes], seq: int
    ) -> None:
        """Each index of the table has the entry (indexId, value, docId); ``values`` are
        the document's encoded values, one per index."""
        table = self.claimed.get(table_id)
        for index, value in zip(table.indexes if table else (), values, strict=True):
            try:
                key = layout.index_key(index.index_id, value, doc_id)
            except ValueError:
                self._hold(f"malformed index id {index.index_id!r}", seq, doc_id)
                return
            if self.txn.get("index", key) is None:
                self._hold(
                    f"index {index.index_id} on {index.field!r} has no entry for the document",
                    seq,
                    doc_id,
                    key,
                    None,
                )


def _expected_row(r: RevisionFacts, seq: int) -> bytes | None:
    """The docs row commit writes for the revision: its header and place in the block."""
    try:
        header = layout.DocHeader(r.version, seq, r.ms, r.hash, r.tx_id)
        return layout.encode_doc(header, r.idx)
    except (ValueError, struct.error):
        return None
