"""The proof side of the ledger as the shell uses it: digest, verify, revision proofs.

``Ledger.verify`` and ``Ledger.get_revision`` are typed here as a Protocol, so the
shell depends on their documented shape only.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from ledger.database import Ledger
from ledger.errors import DataError
from ledger.proof import proofs as journal_proofs
from ledger.query.context import BlockAddress


class VerifyReport(Protocol):
    verified: bool
    blocks: int
    revisions: int
    digest: bytes
    tip: BlockAddress
    failure: str | None

    def to_json(self) -> dict[str, Any]: ...


class ProvingLedger(Protocol):
    def verify(self) -> VerifyReport: ...

    def get_revision(
        self, block_address: BlockAddress, document_id: str, tip: BlockAddress | None = None
    ) -> tuple[Any, list[bytes] | None]: ...


def proving(db: Ledger) -> ProvingLedger:
    return cast(ProvingLedger, db)


def digest_row(db: Ledger) -> dict[str, Any]:
    """QLDB's GetDigest: the digest (a blob) and the tip address as Ion text."""
    digest = db.digest()
    return {"digest": digest.digest, "digestTipAddress": digest.tip_ion_text()}


def verify(db: Ledger) -> VerifyReport:
    return proving(db).verify()


def parse_address(text: str) -> BlockAddress:
    """A block address from Ion text: ``{strandId:"…",sequenceNo:N}`` (backticks optional)."""
    return journal_proofs.parse_address(text.strip().strip("`"))


def split_proof_args(args: str) -> tuple[BlockAddress, str]:
    """``ADDRESS DOCUMENT_ID``: the id is the last word, the address everything before."""
    address, _, doc_id = args.strip().rpartition(" ")
    if not address or not doc_id:
        raise DataError('usage: \\proof {strandId:"…",sequenceNo:N} DOCUMENT_ID')
    return parse_address(address), doc_id


def proof_row(db: Ledger, address: BlockAddress, doc_id: str) -> dict[str, Any]:
    """QLDB's GetRevision against the current digest: the revision and its proof hashes."""
    digest = db.digest()
    revision, proof = proving(db).get_revision(address, doc_id, tip=digest.tip)
    return {
        "revision": revision,
        "proof": list(proof or []),
        "digest": digest.digest,
        "digestTipAddress": digest.tip_ion_text(),
    }


def check_row(row: dict[str, Any]) -> None:
    """Check a ``proof_row`` as an auditor would: recompute the revision's hash and fold
    the proof to the digest (VerificationError when it does not check out)."""
    from ledger.proof.verify import check_revision_proof

    check_revision_proof(row["revision"], row["proof"], row["digest"])
