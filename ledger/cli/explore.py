"""Looking around a ledger: its tables, one table described, one document's history.

The data behind ``\\dt``, ``\\d``, ``\\history`` and ``ledger tables`` / ``ledger
history``, read straight from a snapshot's catalog and scans, as plain Ion-ready rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.cli.metadata import FieldStats, sample_table, snapshot
from ledger.database import Ledger
from ledger.errors import ProgrammingError
from ledger.journal.transaction import Transaction
from ledger.query.context import ACTIVE, TableInfo


def table_rows(db: Ledger) -> list[dict[str, Any]]:
    """One row per table, active ones first, each group by name."""
    with snapshot(db) as tx:
        tables = sorted(tx.tables(), key=lambda t: (t.status != ACTIVE, t.name, t.table_id))
    return [
        {
            "name": t.name,
            "tableId": t.table_id,
            "status": t.status,
            "indexes": ", ".join(ix.field for ix in t.indexes),
        }
        for t in tables
    ]


def find_table(tx: Transaction, name: str) -> TableInfo:
    """The active table called ``name``; else a dropped one of that name, or that id."""
    active = tx.table(name)
    if active is not None:
        return active
    for info in tx.tables():
        if name in (info.name, info.table_id):
            return info
    known = ", ".join(sorted(t.name for t in tx.tables() if t.status == ACTIVE)) or "none"
    raise ProgrammingError(f"no table named {name!r} (tables: {known})")


@dataclass(frozen=True)
class Description:
    info: TableInfo
    documents: int
    fields: FieldStats

    def to_ion(self) -> dict[str, Any]:
        return {
            "name": self.info.name,
            "tableId": self.info.table_id,
            "status": self.info.status,
            "documents": self.documents,
            "indexes": self.index_rows(),
            "fields": self.field_rows(),
        }

    def index_rows(self) -> list[dict[str, Any]]:
        return [
            {"field": ix.field, "indexId": ix.index_id, "status": ix.status}
            for ix in self.info.indexes
        ]

    def field_rows(self) -> list[dict[str, Any]]:
        stats = self.fields
        return [
            {
                "field": path,
                "types": " | ".join(sorted(stats.types[path])),
                "present": stats.seen[path],
            }
            for path in stats.paths()
        ]


def describe(db: Ledger, name: str) -> Description:
    """A table's indexes, document count and the fields of a sample of its documents."""
    with snapshot(db) as tx:
        info = find_table(tx, name)
        count = sum(1 for _ in tx.scan(info.table_id))
        stats = sample_table(tx, info)
    return Description(info, count, stats)


def history_rows(db: Ledger, table: str, doc_id: str | None = None) -> list[Any]:
    """Every committed revision of a table (or of one document), oldest first."""
    with snapshot(db) as tx:
        info = find_table(tx, table)
        return list(tx.history(info.table_id, None, None, doc_id))
