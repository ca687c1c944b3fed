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

Stages, one module each: ``verify_reader`` (the stored blocks in key order),
``verify_blocks`` (the fast path, in worker processes), ``verify_chain`` (the chain,
block_hashes, the ledger tree, times, digests), ``verify_replay`` (revisions, history,
docs, index per revision), ``verify_catalog`` (the catalog replayed and compared),
``verify_counts`` (nothing extra anywhere) and ``verify_report``; this module drives
them in order.

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

from collections.abc import Callable, Mapping
from contextlib import closing
from typing import Any

from ledger.errors import DataError, VerificationError
from ledger.hashing import fold, revision_hash, tree, verify_block
from ledger.journal.journal import Journal
from ledger.proof.signing import SavedDigest
from ledger.proof.verify_blocks import BlockFacts, Pipeline, workers_for
from ledger.proof.verify_catalog import CatalogReplay, check_catalog, claimed_tables
from ledger.proof.verify_chain import Chain, Frontier, tree_node_count
from ledger.proof.verify_counts import Counts
from ledger.proof.verify_parts import MALFORMED, block_seq_and_strand, check_block_contents, text
from ledger.proof.verify_reader import BlockReader, decode
from ledger.proof.verify_replay import Replay
from ledger.proof.verify_report import VerifyReport, jsonable, report
from ledger.storage.kv import ReadTxn

__all__ = [
    "CatalogReplay",
    "Frontier",
    "Progress",
    "VerifyReport",
    "check_block_contents",
    "check_block_proof",
    "check_consistency",
    "check_revision_proof",
    "check_root",
    "jsonable",
    "tree_node_count",
    "verify",
    "workers_for",
]

Progress = Callable[[int, int], None]  # (blocks done, blocks in the journal)


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
    """The stages in order: every block through the chain and the replay, then the
    digests, the catalog, the held-back document problems and the counts."""

    def __init__(
        self, journal: Journal, txn: ReadTxn, saved: SavedDigest | None, progress: Progress | None
    ) -> None:
        self.txn, self.saved, self.progress = txn, saved, progress
        self.total = journal.tip(txn).seq + 1
        self.blocks = 0
        self.chain = Chain(journal, txn, saved)
        self.replay = Replay(txn, claimed_tables(txn))
        self.counts = Counts(journal, txn)

    def run(self) -> VerifyReport:
        try:
            self._stream()
            self.counts.check_journal(self.blocks, self.replay.revisions)
            self.chain.check_digest(self.blocks)
            self.chain.check_saved_digest(self.blocks)
            check_catalog(self.txn, self.replay.claimed, self.replay.catalog)
            self.replay.raise_pending()
            self.counts.check_docs(self.replay.live)
            self.counts.check_index(self.replay.catalog.tables, self.replay.live)
        except VerificationError as exc:
            return self._report(exc)
        return self._report(None)

    def _report(self, exc: VerificationError | None) -> VerifyReport:
        return report(
            exc,
            blocks=self.blocks,
            revisions=self.replay.revisions,
            digest=self.chain.frontier.root(),
            strand=self.chain.strand,
            saved=self.saved,
        )

    def _stream(self) -> None:
        """Every block in key order: the fast checks (verify_blocks, in worker processes
        when the journal is large), and the original ones for a block they do not pass."""
        reader = BlockReader(self.txn)
        workers = workers_for(self.total)
        pipeline = Pipeline(self.chain.strand, self.replay.index_fields(), workers)
        with closing(pipeline.run(reader)) as results:
            for seq, raw, facts in results:
                if facts is None:
                    self._check_block(raw, seq)
                else:
                    self._check_facts(facts, seq)
                self.blocks += 1
                if self.progress is not None:
                    self.progress(self.blocks, max(self.total, self.blocks))
        reader.raise_bad_key()

    def _check_block(self, raw: bytes, seq: int) -> None:
        """The original checks of one block, on IonPy values: they word every problem."""
        block = decode(raw, seq)
        self.chain.add_block(block, seq)
        self.replay.add_block(block, seq)

    def _check_facts(self, facts: BlockFacts, seq: int) -> None:
        """A block the fast path passed: the chain, tree, times and the replay."""
        self.chain.add_facts(facts, seq)
        self.replay.add_facts(facts, seq)


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
