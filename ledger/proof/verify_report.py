"""The report: what ``verify`` found, and its JSON shape (``ledger verify --json``)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from ledger.errors import VerificationError
from ledger.proof.signing import SavedDigest
from ledger.query.context import BlockAddress


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


def report(
    exc: VerificationError | None,
    *,
    blocks: int,
    revisions: int,
    digest: bytes,
    strand: str,
    saved: SavedDigest | None,
) -> VerifyReport:
    """The report of a run that stopped at ``exc`` (None: everything verified)."""
    out = VerifyReport(
        verified=exc is None,
        blocks=blocks,
        revisions=revisions,
        digest=digest,
        tip=BlockAddress(strand, blocks - 1),
        saved_digest=saved,
    )
    if exc is not None:
        out.failure = str(exc)
        out.block, out.document = exc.block, exc.document
        out.expected, out.computed = exc.expected, exc.computed
    return out


def jsonable(value: object) -> object:
    """An expected/computed value for a JSON report: bytes in base64 (as every hash the
    ledger shows), other values as text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)
