"""Building proofs: GetBlock, GetRevision and consistency proofs, and their wire forms.

Only *building* lives here; checking a proof is ledger/proof/verify.py's job (the
transparency-dev habit: the prover and the checker share no code path but the hash).

Every proof folds with ``dot`` from its leaf to the ledger digest at a tip
(QLDB-HASHING.md §6): the block's ``blockHash`` for a block proof, the revision's
``hash`` for a revision proof.  Any tip at or after the block works, not only the
newest, so a digest saved long ago can still be used.  Addresses and proofs travel as
Ion text, as in QLDB's API: ``{strandId:"…",sequenceNo:N}`` and ``[{{base64}}, …]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from amazon.ion.core import IonType

from ledger import ion
from ledger.errors import DataError, ProgrammingError
from ledger.hashing import revision_proof, tree
from ledger.journal import blocks
from ledger.journal.journal import Journal, NodeStore
from ledger.query.context import BlockAddress
from ledger.storage.kv import ReadTxn

# a sequenceNo of this ledger, a full address, or one as an Ion struct or Ion text
# ({strandId, sequenceNo}: what queries of history() and committed views return)
Address = int | BlockAddress | Mapping[str, Any] | str


# -- wire forms ---------------------------------------------------------------------------
def address_ion_text(address: BlockAddress) -> str:
    """``{strandId:"…",sequenceNo:N}``, exactly as QLDB prints a block address."""
    return f'{{strandId:"{address.strand_id}",sequenceNo:{address.sequence_no}}}'


def parse_address(text: str) -> BlockAddress:
    """A block address from its Ion text; DataError (saying what is wrong) otherwise."""
    value = ion.loads(text)
    if not isinstance(value, Mapping):
        raise DataError(f"a block address is an Ion struct {{strandId, sequenceNo}}, got {text!r}")
    strand: Any = value.get("strandId")
    seq: Any = value.get("sequenceNo")
    if (
        ion.is_null(strand)
        or ion.is_null(seq)
        or ion.ion_type_of(strand) is not IonType.STRING
        or ion.ion_type_of(seq) is not IonType.INT
    ):
        raise DataError(
            f"a block address needs strandId (string) and sequenceNo (int), got {text!r}"
        )
    if seq < 0:
        raise DataError(f"sequenceNo must be >= 0, got {seq}")
    return BlockAddress(ion.text_of(strand), int(seq))


def proof_ion_text(proof: Sequence[bytes]) -> str:
    """``[{{base64}},…]``: a proof as QLDB's API returns it."""
    return ion.dumps_text([bytes(h) for h in proof])


def parse_proof(text: str) -> list[bytes]:
    """The hashes of a proof given as Ion text (a list of blobs)."""
    value = ion.loads(text)
    if not isinstance(value, list) or not all(isinstance(h, bytes | bytearray) for h in value):
        raise DataError(f"a proof is an Ion list of blobs, got {text[:80]!r}")
    return [bytes(h) for h in value]


# -- resolving addresses ------------------------------------------------------------------
def _seq_of(journal: Journal, address: Address, what: str) -> int:
    if isinstance(address, str):
        address = parse_address(address)
    elif isinstance(address, Mapping):
        address = parse_address(ion.dumps_text(address))
    if isinstance(address, BlockAddress):
        if address.strand_id != journal.strand_id:
            raise ProgrammingError(
                f"{what} {address_ion_text(address)} is on strand {address.strand_id}; "
                f"this ledger's strand is {journal.strand_id}"
            )
        return address.sequence_no
    return int(address)


def _check_in_journal(seq: int, last: int, what: str) -> None:
    if seq < 0:
        raise ProgrammingError(f"{what} sequenceNo must be >= 0, got {seq}")
    if seq > last:
        raise ProgrammingError(
            f"{what} sequenceNo {seq} is beyond the journal, whose last block is {last}"
        )


def _resolve(
    journal: Journal, txn: ReadTxn, block: Address, tip: Address | None
) -> tuple[int, int | None]:
    """(block seq, tip seq or None), checked: strand, bounds, block <= tip."""
    last = journal.tip(txn).seq
    seq = _seq_of(journal, block, "block address")
    _check_in_journal(seq, last, "block address")
    if tip is None:
        return seq, None
    tip_seq = _seq_of(journal, tip, "digest tip address")
    _check_in_journal(tip_seq, last, "digest tip address")
    if tip_seq < seq:
        raise ProgrammingError(
            f"digest tip {tip_seq} is before block {seq}: a digest covers only blocks "
            "up to its tip, so ask for a tip at or after the block"
        )
    return seq, tip_seq


# -- GetBlock, GetRevision ----------------------------------------------------------------
def block_proof(txn: ReadTxn, seq: int, tip_seq: int) -> list[bytes]:
    """The block's siblings in the ledger tree of blocks ``0..tip_seq``, bottom-up."""
    return tree.inclusion_proof(NodeStore(txn), seq, tip_seq + 1)


def _load_block(journal: Journal, txn: ReadTxn, seq: int) -> Any:
    """A fresh copy of the block as stored in this snapshot (the caller may change it;
    the journal's shared cache is not handed out)."""
    return journal.load_block(txn, seq)


def get_block(
    journal: Journal, txn: ReadTxn, seq: Address, tip_seq: Address | None = None
) -> tuple[Any, list[bytes] | None]:
    """QLDB's GetBlock: the block, and (with a tip) its proof to the digest at that tip.

    ``fold(dot, proof, block.blockHash) == digest at tip_seq``.  ProgrammingError
    when the block or tip is not in this journal or the tip precedes the block.
    """
    block_seq, tip = _resolve(journal, txn, seq, tip_seq)
    block = _load_block(journal, txn, block_seq)
    return block, None if tip is None else block_proof(txn, block_seq, tip)


def find_revision(block: Mapping[str, Any], document_id: str) -> tuple[int, Any]:
    """(index in the block, revision) of ``document_id``'s revision in ``block``."""
    for index, revision in enumerate(block.get("revisions") or ()):
        metadata = revision.get("metadata") or {}
        if ion.text_of(metadata.get("id", "")) == document_id:
            return index, revision
    seq = block["blockAddress"]["sequenceNo"]
    raise ProgrammingError(f"block {seq} holds no revision of document {document_id!r}")


def get_revision(
    journal: Journal,
    txn: ReadTxn,
    seq: Address,
    document_id: str,
    tip_seq: Address | None = None,
) -> tuple[Any, list[bytes] | None]:
    """QLDB's GetRevision: the document's revision in a block, and its proof.

    The proof (QLDB-HASHING.md §6) folds from ``revision.hash`` through the block's
    revisions tree, its entriesHashList, previousBlockHash and the ledger tree to the
    digest at ``tip_seq``.
    """
    block_seq, tip = _resolve(journal, txn, seq, tip_seq)
    block, parts = journal.load_envelope(txn, block_seq)  # the other revisions' data stay bytes
    index, _ = find_revision(block, document_id)
    revision = blocks.revision(block, parts, index, ion.loads_document)
    if tip is None:
        return revision, None
    return revision, revision_proof_in(block, document_id, block_proof(txn, block_seq, tip))


def revision_proof_in(
    block: Mapping[str, Any], document_id: str, proof_of_block: Sequence[bytes]
) -> list[bytes]:
    """The GetRevision proof of ``document_id``'s revision, given the block's own proof.

    Works on any block in QLDB's format (ours, or one from a QLDB export).
    """
    index, _ = find_revision(block, document_id)
    hashes = [bytes(r["hash"]) for r in block["revisions"]]
    entries = [bytes(e) for e in block["entriesHashList"]]
    previous = bytes(block.get("previousBlockHash") or b"")
    return revision_proof(hashes, index, entries, previous, list(proof_of_block))


# -- consistency (beyond QLDB) ------------------------------------------------------------
def consistency(
    journal: Journal, txn: ReadTxn, old_seq: Address, new_seq: Address | None = None
) -> list[bytes]:
    """RFC 9162 consistency proof that the journal at ``new_seq`` extends ``old_seq``.

    ``new_seq`` defaults to the current tip.  Check it with
    ``verify.check_consistency(old_digest, old_seq, new_digest, new_seq, proof)``.
    """
    last = journal.tip(txn).seq
    old = _seq_of(journal, old_seq, "old digest tip")
    new = last if new_seq is None else _seq_of(journal, new_seq, "new digest tip")
    _check_in_journal(old, last, "old digest tip")
    _check_in_journal(new, last, "new digest tip")
    if old > new:
        raise ProgrammingError(
            f"consistency runs from an older tip to a newer one, got {old} > {new}"
        )
    return tree.consistency_proof(NodeStore(txn), old + 1, new + 1)
