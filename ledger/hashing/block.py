"""Hashes of a revision and a block, and the GetRevision proof (QLDB-HASHING.md §4-6).

The ledger's entriesHashList order (QLDB's own holds two internal entries nobody can
recompute, and verifiers only check membership, so the order is ours to define):

    [H(transactionInfo), revisionsRoot (if any revisions), H(redactionInfo) (if any)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import DataError, VerificationError
from ledger.hashing.dot import dot
from ledger.hashing.ion_hash import ion_hash
from ledger.hashing.merkle import merkle_proof, merkle_root


def revision_hash(
    metadata: Mapping[str, Any], data: Any = None, data_hash: bytes | None = None
) -> bytes:
    """``dot(H(metadata), H(data))``; a redacted revision passes its stored ``data_hash``.

    With neither (a deleted document's last revision) the hash is ``H(metadata)``.
    ``data=None`` means "no data": QLDB documents are structs, never a bare null.
    """
    if data is not None and data_hash is not None:
        raise DataError("a revision has data or a dataHash (redacted), not both")
    if data_hash is None:
        data_hash = ion_hash(data) if data is not None else b""
    return dot(ion_hash(metadata), data_hash)


def entries_hash_list(
    transaction_info: Any,
    revision_hashes: Sequence[bytes] = (),
    redaction_info: Any = None,
    *,
    revisions_root: bytes | None = None,
) -> list[bytes]:
    """The block's entriesHashList, in the ledger's order (see the module docstring).

    ``revisions_root``: ``merkle_root(revision_hashes)`` when the caller has it."""
    entries = [ion_hash(transaction_info)]
    if revision_hashes:
        entries.append(merkle_root(revision_hashes) if revisions_root is None else revisions_root)
    if redaction_info is not None:
        entries.append(ion_hash(redaction_info))
    return entries


@dataclass(frozen=True)
class BlockHashes:
    """Every hash a block carries, computed from its parts."""

    revisions_root: bytes  # b"" when the block has no revisions
    entries_hash_list: list[bytes]
    entries_hash: bytes
    block_hash: bytes


def block_hashes(
    transaction_info: Any,
    revision_hashes: Sequence[bytes] = (),
    previous_block_hash: bytes = b"",
    redaction_info: Any = None,
) -> BlockHashes:
    """entriesHash = merkle(entriesHashList); blockHash = dot(entriesHash, previous).

    The genesis block has no previous hash (``b""``), so its blockHash is its entriesHash.
    """
    revisions_root = merkle_root(revision_hashes)  # once: a 40-revision root is 39 hashes
    entries = entries_hash_list(
        transaction_info, revision_hashes, redaction_info, revisions_root=revisions_root
    )
    entries_hash = merkle_root(entries)
    return BlockHashes(
        revisions_root=revisions_root,
        entries_hash_list=entries,
        entries_hash=entries_hash,
        block_hash=dot(entries_hash, previous_block_hash),
    )


def revision_proof(
    revision_hashes: Sequence[bytes],
    index: int,
    entries: Sequence[bytes],
    previous_block_hash: bytes,
    block_proof: Sequence[bytes],
) -> list[bytes]:
    """QLDB's GetRevision proof of ``revision_hashes[index]``, folding to the digest.

    Siblings inside the revisions tree, then those of revisionsRoot inside ``entries``
    (the block's entriesHashList), then ``previous_block_hash`` (none for genesis),
    then ``block_proof`` (the block's inclusion proof in the ledger tree).
    """
    revisions_root = merkle_root(revision_hashes)
    try:
        position = list(entries).index(revisions_root)
    except ValueError:
        raise DataError("the block's entriesHashList does not hold its revisions root") from None
    proof = merkle_proof(revision_hashes, index) + merkle_proof(entries, position)
    if previous_block_hash:
        proof.append(previous_block_hash)
    proof.extend(block_proof)
    return proof


def _field(block: Mapping[str, Any], name: str, seq: int | None) -> Any:
    try:
        return block[name]
    except KeyError:
        raise VerificationError(f"block has no {name}", block=seq) from None


def _sequence_no(block: Mapping[str, Any]) -> int | None:
    address = block.get("blockAddress")
    if isinstance(address, Mapping) and "sequenceNo" in address:
        return int(address["sequenceNo"])
    return None


def _check(expected: bytes, computed: bytes, what: str, **where: Any) -> None:
    if bytes(expected) != computed:
        raise VerificationError(
            f"{what} does not match", expected=expected, computed=computed, **where
        )


def _check_revisions(block: Mapping[str, Any], seq: int | None) -> list[bytes]:
    hashes = []
    for r in block.get("revisions") or ():
        if isinstance(r, Mapping) and set(r) == {"hash"}:
            # QLDB exports a system table's revision as its hash alone: counted, not read
            hashes.append(bytes(r["hash"]))
            continue
        metadata = _field(r, "metadata", seq)
        data_hash = r.get("dataHash")
        computed = revision_hash(
            metadata,
            r.get("data") if data_hash is None else None,
            bytes(data_hash) if data_hash is not None else None,
        )
        document = str(metadata.get("id"))
        _check(_field(r, "hash", seq), computed, "revision hash", block=seq, document=document)
        hashes.append(computed)
    return hashes


def _check_member(entries: list[bytes], h: bytes, what: str, seq: int | None) -> None:
    if h not in entries:
        raise VerificationError(f"{what} is not in entriesHashList", computed=h, block=seq)


def verify_block(block: Mapping[str, Any]) -> None:
    """Recompute a block's hashes from its contents; VerificationError at the first lie.

    Works on QLDB's own blocks too (a journal export): entriesHashList is only checked
    for membership, since QLDB's holds entries nobody can recompute.
    """
    seq = _sequence_no(block)
    entries = [bytes(e) for e in _field(block, "entriesHashList", seq)]
    _check_member(
        entries, ion_hash(_field(block, "transactionInfo", seq)), "H(transactionInfo)", seq
    )
    revision_hashes = _check_revisions(block, seq)
    if revision_hashes:
        _check_member(entries, merkle_root(revision_hashes), "the revisions root", seq)
    if block.get("redactionInfo") is not None:
        _check_member(entries, ion_hash(block["redactionInfo"]), "H(redactionInfo)", seq)
    entries_hash = merkle_root(entries)
    _check(_field(block, "entriesHash", seq), entries_hash, "entriesHash", block=seq)
    previous = block.get("previousBlockHash")
    computed = dot(entries_hash, bytes(previous) if previous is not None else b"")
    _check(_field(block, "blockHash", seq), computed, "blockHash", block=seq)
