"""What a transaction hands to commit: its buffered writes, read set and statements.

commit.py works on these shapes (and the ``Staged`` protocol) rather than on
``Transaction`` itself, so imports inside journal/ flow one way:
transaction -> commit -> journal, and transaction -> history -> journal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ledger import ion
from ledger.hashing import KnownSerializations, statement_digest
from ledger.query.context import TableInfo
from ledger.storage import layout


@dataclass(slots=True)
class Pending:
    """A document this transaction wrote: its next revision (data None = deleted)."""

    table_id: str
    doc_id: str
    version: int
    data: Any
    encoded: bytes  # Ion binary of data (b"" when deleted)
    data_hash: bytes  # H(data), computed with the encoding (b"" when deleted)
    base: layout.DocHeader | None  # the committed revision it replaces
    statements: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Redaction:
    """A revision this transaction redacts: where it is and whose it is."""

    seq: int
    index: int  # position in the block's revisions
    table_id: str
    doc_id: str
    version: int

    def to_ion(self, strand_id: str) -> dict[str, Any]:
        return {
            "blockAddress": {"strandId": strand_id, "sequenceNo": self.seq},
            "tableId": self.table_id,
            "documentId": self.doc_id,
            "version": self.version,
        }


@dataclass
class StatementRecord:
    text: str
    params: tuple[Any, ...]
    start_ms: int
    digest: bytes = b""  # statementDigest, taken once the transaction writes

    def take_digest(self, known: KnownSerializations | None = None) -> bytes:
        if not self.digest:
            self.digest = statement_digest(self.text, self.params, known)
        return self.digest


@dataclass
class ReadSet:
    docs: dict[tuple[str, str], int] = field(default_factory=dict)  # -> seq seen, -1 absent
    tables: set[str] = field(default_factory=set)  # fully scanned
    ranges: list[tuple[str, bytes, bytes | None]] = field(default_factory=list)  # index ranges
    catalog: bool = False


class Staged(Protocol):
    """What commit reads from a transaction (``journal.transaction.Transaction``)."""

    @property
    def id(self) -> str: ...

    @property
    def snapshot_seq(self) -> int: ...

    @property
    def snapshot_catalog_seq(self) -> int: ...

    @property
    def reads(self) -> ReadSet: ...

    @property
    def docs(self) -> dict[tuple[str, str], Pending]: ...

    @property
    def catalog_changes(self) -> dict[str, TableInfo]: ...

    @property
    def catalog_statements(self) -> dict[str, list[int]]: ...

    @property
    def statements(self) -> Sequence[StatementRecord]: ...

    @property
    def redactions(self) -> Sequence[Redaction]: ...

    def table_by_id(self, table_id: str) -> TableInfo | None: ...


def index_value(data: Any, field_name: str) -> bytes:
    """The encoded value of a document's indexed field (MISSING sorts first)."""
    try:
        value = data[field_name]
    except (KeyError, TypeError, IndexError):
        return layout.MISSING_VALUE
    return layout.index_value(value)


ms_timestamp = ion.timestamp_of_ms
