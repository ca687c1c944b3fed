"""The counts for ``verify``, after the stream: every database holds exactly as many
entries as the journal implies, so nothing extra hides anywhere.  When a count is off,
the entry that should not be there is located, so the report names it."""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ledger import ion
from ledger.errors import VerificationError
from ledger.journal import blocks
from ledger.journal.journal import Journal
from ledger.journal.transaction import index_value
from ledger.proof.verify_chain import tree_node_count
from ledger.proof.verify_parts import MALFORMED, revision_table, text
from ledger.query.context import TableInfo
from ledger.storage import layout
from ledger.storage.kv import ReadTxn


class Counts:
    """The entry counts of each summary database, judged against the journal."""

    def __init__(self, journal: Journal, txn: ReadTxn) -> None:
        self.journal, self.txn = journal, txn

    # -- the journal-side databases ------------------------------------------------------
    def check_journal(self, n: int, revisions: int) -> None:
        """block_hashes, tree, times for ``n`` blocks; revisions and history."""
        txn = self.txn
        _expect_count(txn, "block_hashes", n, lambda: self._extra_block_hash(n))
        _expect_count(txn, "tree", tree_node_count(n), lambda: self._extra_tree_node(n))
        _expect_count(txn, "times", n, lambda: self._extra_time(n))
        _expect_count(txn, "revisions", revisions, self._extra_revision)
        _expect_count(txn, "history", revisions, self._extra_history)

    def _extra_block_hash(self, n: int) -> VerificationError:
        for key, _ in self.txn.range("block_hashes", layout.block_key(n)):
            return VerificationError(
                "block_hashes has an entry for a block the journal does not hold "
                "(blocks deleted, or a hash added)",
                block=_u64_or_none(key),
            )
        return VerificationError("block_hashes has a malformed key")

    def _extra_tree_node(self, n: int) -> VerificationError:
        for key, _ in self.txn.range("tree"):
            level, index = (key[0], layout.read_u64(key[1:])) if len(key) == 9 else (0, -1)
            if not (1 <= level and 0 <= index < n >> level):
                return VerificationError(
                    f"tree has a node the journal does not imply: level {level}, index {index}"
                )
        return VerificationError("tree has a malformed key")

    def _extra_time(self, n: int) -> VerificationError:
        expected = 0
        for key, _ in self.txn.range("times"):
            ms, seq = layout.read_times_key(key) if len(key) == 16 else (0, -1)
            if seq != expected:
                return VerificationError(
                    "times has an entry the journal does not imply",
                    expected=expected,
                    computed=(ms, seq),
                    block=seq if seq >= 0 else None,
                )
            expected += 1
        return VerificationError("times has more entries than blocks")

    def _journal_revision(self, seq: int, idx: int) -> Any:
        try:
            return self.journal.block(self.txn, seq)["revisions"][idx]
        except (*MALFORMED, LookupError):
            return None

    def _extra_revision(self) -> VerificationError:
        for key, value in self.txn.range("revisions"):
            try:
                doc_id, version = layout.read_revision_key(key)
                seq, idx, _ = layout.read_location(value)
            except (*MALFORMED, UnicodeDecodeError):
                return VerificationError("revisions has a malformed entry", computed=key)
            revision = self._journal_revision(seq, idx)
            meta = revision.get("metadata") if isinstance(revision, Mapping) else None
            if not meta or text(meta.get("id")) != doc_id or meta.get("version") != version:
                return VerificationError(
                    f"revisions has an entry for version {version} that is not in the journal",
                    document=doc_id,
                    block=seq,
                )
        return VerificationError("revisions has more entries than the journal has revisions")

    def _extra_history(self) -> VerificationError:
        for key, value in self.txn.range("history"):
            try:
                table_id = key[: layout.ID_LEN].decode("ascii")
                seq, idx = layout.read_history_key(key)
                doc_id = value[: layout.ID_LEN].decode("ascii")
            except (*MALFORMED, UnicodeDecodeError):
                return VerificationError("history has a malformed entry", computed=key)
            revision = self._journal_revision(seq, idx)
            block = self.journal.block(self.txn, seq) if revision is not None else None
            if block is None or revision_table(block, doc_id, seq)[0] != table_id:
                return VerificationError(
                    "history has an entry that is not in the journal", block=seq, document=doc_id
                )
        return VerificationError("history has more entries than the journal has revisions")

    # -- docs -----------------------------------------------------------------------------
    def check_docs(self, live: Mapping[str, int]) -> None:
        """docs holds one row per live document of each table, no more."""
        found: Counter[bytes] = Counter()
        for key, _ in self.txn.range("docs"):
            if len(key) != 2 * layout.ID_LEN:
                raise VerificationError("docs has a malformed key", computed=key)
            found[key[: layout.ID_LEN]] += 1
        want = {table_id.encode("ascii"): n for table_id, n in live.items()}
        for table in sorted(set(found) | set(want)):
            if found[table] != want.get(table, 0):
                raise self._extra_doc(table, want.get(table, 0), found[table])

    def _extra_doc(self, table: bytes, want: int, got: int) -> VerificationError:
        for key, value in self.txn.prefix("docs", table):
            why = self._why_row_is_extra(key, value)
            if why:
                return VerificationError(
                    f"docs has a row the journal does not imply: {why}",
                    document=_ascii(key[layout.ID_LEN :]),
                )
        return VerificationError(
            f"docs holds {got} rows of table {_ascii(table)}, the journal implies {want}",
            expected=want,
            computed=got,
        )

    def _why_row_is_extra(self, key: bytes, value: bytes) -> str | None:
        try:
            table_id, doc_id = (
                key[: layout.ID_LEN].decode("ascii"),
                key[layout.ID_LEN :].decode("ascii"),
            )
            version = layout.decode_doc_header(value).version
        except (UnicodeDecodeError, struct.error):
            return "malformed key or header"
        location = self.txn.get("revisions", layout.revision_key(doc_id, version))
        if location is None:
            return f"no version {version} of the document in the journal"
        if self.txn.get("revisions", layout.revision_key(doc_id, version + 1)) is not None:
            return f"version {version} is not the document's newest"
        seq, idx, _ = layout.read_location(location)
        if self.txn.get("history", layout.history_key(table_id, seq, idx)) is None:
            return f"the document belongs to another table than {table_id}"
        return None

    # -- index ----------------------------------------------------------------------------
    def check_index(self, tables: Mapping[str, TableInfo], live: Mapping[str, int]) -> None:
        """Each index holds one entry per live document of its table, no more."""
        owners = {ix.index_id: (t, ix.field) for t in tables.values() for ix in t.indexes}
        found: Counter[bytes] = Counter()
        for key, _ in self.txn.range("index"):
            if len(key) < 2 * layout.ID_LEN:
                raise VerificationError("index has a malformed key", computed=key)
            found[key[: layout.ID_LEN]] += 1
        want = {ix.encode(): live.get(t.table_id, 0) for ix, (t, _) in owners.items()}
        for index_id in sorted(set(found) | set(want)):
            if found[index_id] != want.get(index_id, 0):
                raise self._extra_index_entry(
                    index_id, owners, want.get(index_id, 0), found[index_id]
                )

    def _extra_index_entry(
        self, index_id: bytes, owners: dict[str, tuple[TableInfo, str]], want: int, got: int
    ) -> VerificationError:
        name = index_id.decode("ascii", "replace")
        if name not in owners:
            return VerificationError(
                f"index holds {got} entries of index {name}, which no table has"
            )
        table, field_name = owners[name]
        for key, _ in self.txn.prefix("index", index_id):
            doc_id = _ascii(key[-layout.ID_LEN :])
            if not key[-layout.ID_LEN :].isascii():
                return VerificationError(
                    f"index {name} has a malformed key", document=doc_id, computed=key
                )
            row = self.txn.get("docs", layout.doc_key(table.table_id, doc_id))
            if row is None:
                return VerificationError(
                    f"index {name} has an entry for a document not in table {table.name}",
                    document=doc_id,
                    computed=key,
                )
            try:
                encoded = index_value(ion.loads(blocks.row_data(self.txn, row)), field_name)
            except Exception as exc:  # noqa: BLE001 - corrupt bytes may break the Ion reader
                return VerificationError(f"malformed docs row ({exc})", document=doc_id)
            if layout.index_encoded(key) != encoded:
                return VerificationError(
                    f"index {name} has a stale entry for the document",
                    document=doc_id,
                    expected=encoded,
                    computed=layout.index_encoded(key),
                )
        return VerificationError(
            f"index {name} holds {got} entries, the journal implies {want}",
            expected=want,
            computed=got,
        )


def _ascii(raw: bytes) -> str:
    return raw.decode("ascii", "replace")


def _u64_or_none(key: bytes) -> int | None:
    return layout.read_u64(key) if len(key) == 8 else None


def _expect_count(
    txn: ReadTxn, db: str, want: int, locate: Callable[[], VerificationError]
) -> None:
    got = sum(1 for _ in _keys(txn, db))
    if got != want:
        found = locate()
        raise VerificationError(
            f"{found.message} ({db} holds {got} entries, the journal implies {want})",
            expected=found.expected,
            computed=found.computed,
            block=found.block,
            document=found.document,
        )


def _keys(txn: ReadTxn, db: str) -> Iterator[bytes]:
    for key, _ in txn.range(db):
        yield key
