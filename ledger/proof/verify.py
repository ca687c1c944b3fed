"""Checking: the whole journal and its summary (``verify``), and proofs handed out.

``verify`` streams the blocks in key order and recomputes everything the journal
claims: every revision hash from its Ion data, H(transactionInfo) and the revisions
root as members of entriesHashList, entriesHash, blockHash, the previousBlockHash
chain, sequence numbers and strand id; then every ``block_hashes`` entry, every stored
ledger-tree node (a frontier of complete subtrees is carried along, so memory stays
flat) and the digest.  The same pass replays the journal against the summary: the
``revisions``, ``history`` and ``times`` entries of each block, the current row of each
document in ``docs`` (header and data, which must hash to the journal's revision
hash) and its index entries; the catalog (``tables``), ``table_seq`` and the catalog
sequence are rebuilt from the DDL revisions of ``information_schema.user_tables``.
Finally every database must hold exactly as many entries as the journal implies, so
nothing extra hides anywhere.  The first problem stops the run, located by block,
document, expected and computed values.

Speed: each block is first checked by ``verify_blocks`` (decoded once without Ion
wrapper types, every revision hashed once, the docs row compared as bytes with what
commit writes), in worker processes for large journals; the parent checks the chain,
the tree and every summary entry in order.  A block the fast path does not pass, and
a docs row that is not byte for byte what commit writes, get the original checks
below, which word every failure, so reports are the same either way.

Order of judgement: the journal and the indexes that point into it (``revisions``,
``history``, ``block_hashes``, ``tree``, ``times``) first, in block order; the catalog
next; then the current documents and index entries.  A problem found in a document
row is held back until the journal-side checks have all passed, because whether a
revision is current is read from ``revisions``, which must be proven first.

The proof checkers (``check_block_proof`` and friends) are QLDB's verifier with two
additions: the block or revision is rehashed from its contents, and a mismatch raises
VerificationError (tampered) while a malformed proof raises DataError.
"""

from __future__ import annotations

import base64
import struct
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from ledger import ion
from ledger.errors import DataError, VerificationError
from ledger.hashing import dot, fold, revision_hash, tree, verify_block
from ledger.journal import blocks, catalog
from ledger.journal.catalog import CATALOG_TABLE_ID
from ledger.journal.journal import Journal, NodeStore
from ledger.journal.transaction import index_value, ms_timestamp
from ledger.proof.signing import SavedDigest
from ledger.proof.verify_blocks import BlockFacts, Pipeline, RevisionFacts, workers_for
from ledger.proof.verify_parts import (
    MALFORMED,
    RevisionParts,
    block_ms,
    block_seq_and_strand,
    check_block_contents,
    is_opaque,
    revision_parts,
    revision_table,
    text,
)
from ledger.query.context import ACTIVE, INACTIVE, BlockAddress, TableInfo
from ledger.storage import layout
from ledger.storage.kv import ReadTxn

Progress = Callable[[int, int], None]  # (blocks done, blocks in the journal)


# -- the report -----------------------------------------------------------------------------
@dataclass
class VerifyReport:
    """What ``verify`` found: ``verified`` and, if not, the first problem and where."""

    verified: bool
    blocks: int
    revisions: int
    digest: bytes
    tip: BlockAddress
    failure: str | None = None
    block: int | None = None
    document: str | None = None
    expected: object = None
    computed: object = None
    saved_digest: SavedDigest | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, the shape of ``ledger verify --json``: the digest in base64
        (as GetDigest gives it), and so are expected/computed hashes of a failure."""
        out: dict[str, Any] = {
            "verified": self.verified,
            "blocks": self.blocks,
            "revisions": self.revisions,
            "digest": base64.b64encode(self.digest).decode("ascii"),
            "tip": {"strandId": self.tip.strand_id, "sequenceNo": self.tip.sequence_no},
            "failure": self.failure,
        }
        if self.saved_digest is not None:
            out["savedDigestTip"] = self.saved_digest.tip.sequence_no
        if not self.verified:
            out.update(
                block=self.block,
                document=self.document,
                expected=jsonable(self.expected),
                computed=jsonable(self.computed),
            )
        return out


def jsonable(value: object) -> object:
    """An expected/computed value for a JSON report: bytes in base64 (as every hash the
    ledger shows), other values as text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


# -- the ledger tree, streamed ----------------------------------------------------------------
class Frontier:
    """Roots of the complete subtrees over the leaves pushed so far: O(log n) hashes.

    ``push`` returns the nodes (level >= 1, index, hash) that the new leaf completes,
    exactly the nodes ``tree.append_leaf`` stores; ``root`` is the digest so far.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (level, root), largest first
        self.size = 0

    def push(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        index, node, level = self.size, leaf, 0
        completed = []
        while self._stack and self._stack[-1][0] == level:
            node = dot(self._stack.pop()[1], node)
            level += 1
            completed.append((level, index >> level, node))
        self._stack.append((level, node))
        self.size += 1
        return completed

    def root(self) -> bytes:
        acc = b""
        for _, h in reversed(self._stack):
            acc = dot(h, acc)
        return acc


def tree_node_count(size: int) -> int:
    """How many nodes above the leaves a ledger tree of ``size`` leaves stores."""
    count, level = 0, 1
    while size >> level:
        count += size >> level
        level += 1
    return count


# -- the catalog, replayed ------------------------------------------------------------------
@dataclass
class CatalogReplay:
    """The catalog rebuilt from the journal, as commit (and import) maintain it.

    Tables come from the DDL revisions of information_schema.user_tables.  A table that
    only appears in transactionInfo (a QLDB export, whose system tables are not in the
    journal) is *implicit*: ACTIVE, without indexes, named as transactionInfo names it;
    since QLDB allows one active table per name, writing to an implicit table marks any
    other implicit table of that name INACTIVE (it must have been dropped meanwhile).
    """

    tables: dict[str, TableInfo] = field(default_factory=dict)
    table_seq: dict[str, int] = field(default_factory=dict)
    catalog_seq: int = -1
    implicit: set[str] = field(default_factory=set)

    def copy(self) -> CatalogReplay:
        return CatalogReplay(
            dict(self.tables), dict(self.table_seq), self.catalog_seq, set(self.implicit)
        )

    def catalog_revision(
        self, table_id: str, data: Any, seq: int
    ) -> tuple[TableInfo | None, TableInfo]:
        """Apply a DDL revision; returns (table before, table after)."""
        if data is None:
            raise VerificationError("a catalog revision has no data", block=seq, document=table_id)
        try:
            after = catalog.from_record(table_id, data)
        except DataError as exc:
            raise VerificationError(str(exc), block=seq, document=table_id) from None
        before = self.tables.get(table_id)
        self.tables[table_id] = after
        self.implicit.discard(table_id)
        self.catalog_seq = seq
        self.table_seq[table_id] = seq
        return before, after

    def user_revision(self, table_id: str, table_name: str, seq: int) -> list[TableInfo]:
        """Note a revision of a user table; returns the implicit tables it changed."""
        self.table_seq[table_id] = seq
        if table_id in self.tables and table_id not in self.implicit:
            return []
        changed = [
            catalog.with_status(t, INACTIVE)
            for t in self.tables.values()
            if t.table_id in self.implicit
            and t.table_id != table_id
            and t.name == table_name
            and t.status == ACTIVE
        ]
        current = self.tables.get(table_id)
        if current is None or current.status != ACTIVE:
            changed.append(TableInfo(table_id=table_id, name=table_name, status=ACTIVE))
        for table in changed:
            self.tables[table.table_id] = table
        self.implicit.add(table_id)
        if changed:
            self.catalog_seq = seq
        return changed


# -- verify -----------------------------------------------------------------------------------
def verify(
    journal: Journal,
    *,
    saved_digest: SavedDigest | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Check the whole journal and its summary in one snapshot; never raises for tampering.

    With ``saved_digest`` (from ``get-digest``, plain or signed) also prove that the
    journal saved then is a prefix of today's.  Returns a VerifyReport; StorageError
    and the like propagate (the check could not run).
    """
    txn = journal.store.read()
    try:
        return _Verifier(journal, txn, saved_digest, progress).run()
    finally:
        txn.close()


class _Verifier:
    def __init__(
        self, journal: Journal, txn: ReadTxn, saved: SavedDigest | None, progress: Progress | None
    ) -> None:
        self.journal, self.txn, self.saved, self.progress = journal, txn, saved, progress
        self.strand = journal.strand_id
        self.total = journal.tip(txn).seq + 1
        self.frontier = Frontier()
        self.previous = b""
        self.blocks = 0
        self.revisions = 0
        self.catalog = CatalogReplay()
        self.claimed = _claimed_tables(txn)
        self.live: Counter[str] = Counter()
        self.pending: VerificationError | None = None
        self.bad_key: VerificationError | None = None

    # -- driver ------------------------------------------------------------------------------
    def run(self) -> VerifyReport:
        try:
            self._stream()
            for check in (
                self._check_counts,
                self._check_digest,
                self._check_saved_digest,
                self._check_catalog,
                self._raise_pending,
                self._check_docs_count,
                self._check_index_count,
            ):
                check()
        except VerificationError as exc:
            return self._report(exc)
        return self._report(None)

    def _report(self, exc: VerificationError | None) -> VerifyReport:
        report = VerifyReport(
            verified=exc is None,
            blocks=self.blocks,
            revisions=self.revisions,
            digest=self.frontier.root(),
            tip=BlockAddress(self.strand, self.blocks - 1),
            saved_digest=self.saved,
        )
        if exc is not None:
            report.failure = str(exc)
            report.block, report.document = exc.block, exc.document
            report.expected, report.computed = exc.expected, exc.computed
        return report

    def _stream(self) -> None:
        """Every block in key order: the fast checks (verify_blocks, in worker processes
        when the journal is large), and the original ones for a block they do not pass."""
        pipeline = Pipeline(self.strand, self._index_fields(), workers_for(self.total))
        with closing(pipeline.run(self._raw_blocks())) as results:
            for seq, raw, facts in results:
                if facts is None:
                    self._check_block(raw, seq)
                else:
                    self._check_facts(facts, seq)
                self.blocks += 1
                if self.progress is not None:
                    self.progress(self.blocks, max(self.total, self.blocks))
        if self.bad_key is not None:
            raise self.bad_key

    def _raw_blocks(self) -> Iterator[tuple[int, bytes]]:
        """(seq, stored bytes) in key order, up to the first key out of sequence."""
        for seq, (key, raw) in enumerate(self.txn.range("blocks")):
            if key != layout.block_key(seq):
                self.bad_key = self._bad_block_key(key, seq)
                return
            yield seq, raw

    def _index_fields(self) -> dict[str, tuple[str, ...]]:
        return {
            table_id: tuple(index.field for index in table.indexes)
            for table_id, table in self.claimed.items()
            if table is not None
        }

    def _check_block(self, raw: bytes, seq: int) -> None:
        """The original checks of one block, on IonPy values: they word every problem."""
        block = _decode(raw, seq)
        self.previous = check_block_contents(block, seq, self.strand, self.previous)
        self._check_tree(seq)
        self._check_time(block_ms(block, seq), seq)
        self._check_revisions(block, seq)

    def _check_facts(self, facts: BlockFacts, seq: int) -> None:
        """A block the fast path passed: the chain, tree, times and the replay."""
        if facts.previous != self.previous:
            raise VerificationError(
                "previousBlockHash breaks the chain",
                expected=self.previous,
                computed=facts.previous,
                block=seq,
            )
        self.previous = facts.block_hash
        self._check_tree(seq)
        self._check_time(facts.ms, seq)
        for r in facts.revisions:
            self._check_pointers(r.doc_id, r.version, r.ms, r.table_id, seq, r.idx)
            self.revisions += 1
            self.catalog.user_revision(r.table_id, r.table_name, seq)
            self._check_current_facts(r, seq)

    @staticmethod
    def _bad_block_key(key: bytes, seq: int) -> VerificationError:
        if len(key) != 8:
            return VerificationError(
                "the blocks database has a malformed key", computed=key, block=seq
            )
        return VerificationError(
            f"block {seq} is missing: the next block in the journal is {layout.read_u64(key)}",
            expected=seq,
            computed=layout.read_u64(key),
            block=seq,
        )

    # -- ledger tree, times -----------------------------------------------------------------------
    def _check_tree(self, seq: int) -> None:
        stored = self.txn.get("block_hashes", layout.block_key(seq))
        if stored != self.previous:
            raise VerificationError(
                "block_hashes entry differs from the block's blockHash",
                expected=self.previous,
                computed=stored,
                block=seq,
            )
        for level, index, node in self.frontier.push(self.previous):
            stored = self.txn.get("tree", layout.tree_key(level, index))
            if stored != node:
                raise VerificationError(
                    f"ledger tree node (level {level}, index {index}) is wrong",
                    expected=node,
                    computed=stored,
                    block=seq,
                )
        if self.saved is not None and self.saved.tip.sequence_no == seq:
            self._check_saved_root(seq)

    def _check_saved_root(self, seq: int) -> None:
        """The saved digest recomputed from the verified blocks themselves (the
        consistency proof at the end checks it once more from the stored tree)."""
        root = self.frontier.root()
        if self.saved is not None and self.saved.tip.strand_id == self.strand:
            if root != self.saved.digest:
                raise VerificationError(
                    f"the journal up to block {seq} no longer hashes to the saved digest: "
                    "blocks up to the saved tip were rewritten",
                    expected=self.saved.digest,
                    computed=root,
                    block=seq,
                )

    def _check_time(self, ms: int, seq: int) -> None:
        if self.txn.get("times", layout.times_key(ms, seq)) is None:
            raise VerificationError(
                "times has no entry for the block's timestamp",
                expected=layout.times_key(ms, seq),
                block=seq,
            )

    # -- revisions, history, docs, index ------------------------------------------------------------
    def _check_revisions(self, block: Mapping[str, Any], seq: int) -> None:
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

    # -- after the stream ---------------------------------------------------------------------------
    def _check_counts(self) -> None:
        n = self.blocks
        _expect_count(self.txn, "block_hashes", n, lambda: self._extra_block_hash(n))
        _expect_count(self.txn, "tree", tree_node_count(n), lambda: self._extra_tree_node(n))
        _expect_count(self.txn, "times", n, lambda: self._extra_time(n))
        _expect_count(self.txn, "revisions", self.revisions, self._extra_revision)
        _expect_count(self.txn, "history", self.revisions, self._extra_history)

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

    def _check_digest(self) -> None:
        root = self.frontier.root()
        stored, _ = self.journal.digest(self.txn, self.blocks - 1)
        if stored != root:
            raise VerificationError(
                "the digest from stored tree nodes differs from the recomputed one",
                expected=root,
                computed=stored,
            )

    def _check_saved_digest(self) -> None:
        saved = self.saved
        if saved is None:
            return
        if saved.tip.strand_id != self.strand:
            raise VerificationError(
                "the saved digest belongs to another ledger (strand)",
                expected=saved.tip.strand_id,
                computed=self.strand,
            )
        t = saved.tip.sequence_no
        if t >= self.blocks:
            raise VerificationError(
                f"the journal ends at block {self.blocks - 1} but the saved digest covers up to "
                f"block {t}: the newest blocks were removed (truncated)",
                expected=t,
                computed=self.blocks - 1,
                block=self.blocks,
            )
        proof = tree.consistency_proof(NodeStore(self.txn), t + 1, self.blocks)
        if not tree.verify_consistency(
            t + 1, self.blocks, saved.digest, self.frontier.root(), proof
        ):
            raise VerificationError(
                "today's journal does not extend the saved digest (consistency proof fails)",
                expected=saved.digest,
                block=t,
            )

    def _check_catalog(self) -> None:
        stored = self.claimed
        for table_id in sorted(set(stored) | set(self.catalog.tables)):
            want, got = self.catalog.tables.get(table_id), stored.get(table_id)
            if want != got:
                raise VerificationError(
                    "tables row differs from the catalog replayed from the journal",
                    expected=want,
                    computed=got,
                    document=table_id,
                )
        raw = self.txn.get("meta", b"catalog_seq")
        got_seq = -1 if raw is None else layout.read_u64(raw)
        if got_seq != self.catalog.catalog_seq:
            raise VerificationError(
                "meta catalog_seq differs from the last block that changed the catalog",
                expected=self.catalog.catalog_seq,
                computed=got_seq,
            )
        self._check_table_seq()

    def _check_table_seq(self) -> None:
        found: dict[str, int] = {}
        for key, value in self.txn.range("table_seq"):
            found[key.decode("ascii", "replace")] = (
                layout.read_u64(value) if len(value) == 8 else -1
            )
        for table_id in sorted(set(found) | set(self.catalog.table_seq)):
            want, got = self.catalog.table_seq.get(table_id), found.get(table_id)
            if want != got:
                raise VerificationError(
                    "table_seq differs from the last block that changed the table",
                    expected=want,
                    computed=got,
                    document=table_id,
                )

    def _raise_pending(self) -> None:
        if self.pending is not None:
            raise self.pending

    def _check_docs_count(self) -> None:
        found: Counter[bytes] = Counter()
        for key, _ in self.txn.range("docs"):
            if len(key) != 2 * layout.ID_LEN:
                raise VerificationError("docs has a malformed key", computed=key)
            found[key[: layout.ID_LEN]] += 1
        live = {table_id.encode("ascii"): n for table_id, n in self.live.items()}
        for table in sorted(set(found) | set(live)):
            if found[table] != live.get(table, 0):
                raise self._extra_doc(table, live.get(table, 0), found[table])

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

    def _check_index_count(self) -> None:
        owners = {
            ix.index_id: (t, ix.field) for t in self.catalog.tables.values() for ix in t.indexes
        }
        found: Counter[bytes] = Counter()
        for key, _ in self.txn.range("index"):
            if len(key) < 2 * layout.ID_LEN:
                raise VerificationError("index has a malformed key", computed=key)
            found[key[: layout.ID_LEN]] += 1
        want = {ix.encode(): self.live[t.table_id] for ix, (t, _) in owners.items()}
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


def _expected_row(r: RevisionFacts, seq: int) -> bytes | None:
    """The docs row commit writes for the revision: its header and place in the block."""
    try:
        header = layout.DocHeader(r.version, seq, r.ms, r.hash, r.tx_id)
        return layout.encode_doc(header, r.idx)
    except (ValueError, struct.error):
        return None


def _decode(raw: bytes, seq: int) -> Any:
    try:
        return blocks.decode(raw)
    except Exception as exc:  # noqa: BLE001 - corrupt bytes may break the Ion reader anyhow
        raise VerificationError(f"block is not valid Ion ({exc})", block=seq) from None


def _claimed_tables(txn: ReadTxn) -> dict[str, TableInfo | None]:
    """The tables rows as stored (None for a row that does not decode)."""
    out: dict[str, TableInfo | None] = {}
    for key, value in txn.range("tables"):
        table_id = key.decode("ascii", "replace")
        try:
            out[table_id] = catalog.decode(table_id, value)
        except Exception:  # noqa: BLE001 - a corrupt row is judged later, by the catalog check
            out[table_id] = None
    return out


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


# -- proof checkers (a QLDB verifier, stricter) -----------------------------------------------------
def check_root(leaf: bytes, proof: list[bytes], digest: bytes, what: str, **where: Any) -> None:
    """``fold(dot, proof, leaf) == digest`` or VerificationError; DataError if malformed."""
    for h in proof:
        if len(h) != 32:
            raise DataError(f"a proof hash has 32 bytes, got {len(h)}: {bytes(h).hex()}")
    computed = fold(proof, leaf)
    if computed != digest:
        raise VerificationError(
            f"the {what} proof does not fold to the digest",
            expected=digest,
            computed=computed,
            **where,
        )


def digest_bytes(digest: Any) -> bytes:
    """The 32 digest bytes of ``digest``: bytes, or an object with ``.digest`` (the
    ``Digest`` that ``Ledger.digest()`` returns, a ``SavedDigest``)."""
    value = getattr(digest, "digest", digest)
    if not isinstance(value, bytes | bytearray | memoryview):
        raise DataError(f"a digest is bytes or a Digest, got {type(digest).__name__}")
    return bytes(value)


def check_block_proof(block: Mapping[str, Any], proof: list[bytes], digest: Any) -> None:
    """The block's hashes recompute from its contents and its proof folds to ``digest``
    (bytes, or the ``Digest`` from ``Ledger.digest()``)."""
    digest = digest_bytes(digest)
    seq, _ = block_seq_and_strand(block)
    try:
        verify_block(block)
    except MALFORMED as exc:
        raise DataError(f"malformed block: {exc}") from exc
    check_root(bytes(block["blockHash"]), proof, digest, "block", block=seq)


def check_revision_proof(revision: Mapping[str, Any], proof: list[bytes], digest: Any) -> None:
    """The revision's hash recomputes from its metadata and data; its proof folds to ``digest``
    (bytes, or the ``Digest`` from ``Ledger.digest()``)."""
    digest = digest_bytes(digest)
    try:
        metadata, data_hash = revision["metadata"], revision.get("dataHash")
        computed = revision_hash(
            metadata,
            revision.get("data") if data_hash is None else None,
            bytes(data_hash) if data_hash is not None else None,
        )
        claimed = bytes(revision["hash"])
    except MALFORMED as exc:
        raise DataError(f"malformed revision: {exc}") from exc
    doc_id = text(metadata.get("id"))
    if computed != claimed:
        raise VerificationError(
            "revision hash does not match its contents",
            expected=claimed,
            computed=computed,
            document=doc_id,
        )
    check_root(claimed, proof, digest, "revision", document=doc_id)


def check_consistency(
    old_digest: bytes, old_seq: int, new_digest: bytes, new_seq: int, proof: list[bytes]
) -> None:
    """The journal at ``new_seq`` (digest ``new_digest``) extends the one at ``old_seq``."""
    if not 0 <= old_seq <= new_seq:
        raise DataError(
            f"consistency runs from an older tip to a newer one, got {old_seq}, {new_seq}"
        )
    if any(len(h) != 32 for h in proof):
        raise DataError("a consistency proof holds 32-byte hashes")
    if not tree.verify_consistency(old_seq + 1, new_seq + 1, old_digest, new_digest, proof):
        raise VerificationError(
            f"the digest at tip {new_seq} does not extend the digest at tip {old_seq}",
            expected=old_digest,
            block=old_seq,
        )
