"""Reading the journal for ``verify``: the stored blocks in key order, decoded on demand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ledger.errors import VerificationError
from ledger.journal import blocks
from ledger.storage import layout
from ledger.storage.kv import ReadTxn


class BlockReader:
    """(seq, stored bytes) of every block in key order, up to the first key out of
    sequence; that key's problem is kept in ``bad_key``, judged after the stream."""

    def __init__(self, txn: ReadTxn) -> None:
        self.txn = txn
        self.bad_key: VerificationError | None = None

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        for seq, (key, raw) in enumerate(self.txn.range("blocks")):
            if key != layout.block_key(seq):
                self.bad_key = bad_block_key(key, seq)
                return
            yield seq, raw

    def raise_bad_key(self) -> None:
        if self.bad_key is not None:
            raise self.bad_key


def bad_block_key(key: bytes, seq: int) -> VerificationError:
    if len(key) != 8:
        return VerificationError("the blocks database has a malformed key", computed=key, block=seq)
    return VerificationError(
        f"block {seq} is missing: the next block in the journal is {layout.read_u64(key)}",
        expected=seq,
        computed=layout.read_u64(key),
        block=seq,
    )


def decode(raw: bytes, seq: int) -> Any:
    """A stored block as IonPy values, for the original (wording) checks."""
    try:
        return blocks.decode(raw)
    except Exception as exc:  # noqa: BLE001 - corrupt bytes may break the Ion reader anyhow
        raise VerificationError(f"block is not valid Ion ({exc})", block=seq) from None
