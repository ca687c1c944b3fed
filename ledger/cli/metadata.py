"""What the shell knows about a ledger's shape: active tables and sampled field paths.

Read through a transaction's catalog and scans (no query engine needed), a bounded
sample per table, so building it costs the same on a large ledger as on a small one.
Used by completion (refreshed in the background) and by ``\\d``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from amazon.ion.core import IonType

from ledger import ion
from ledger.database import Ledger
from ledger.journal.transaction import Transaction
from ledger.query.context import ACTIVE, TableInfo

SAMPLE_SIZE = 100


@contextmanager
def snapshot(db: Ledger) -> Iterator[Transaction]:
    """A read-only transaction, always aborted: it never conflicts and never writes."""
    tx = db.transaction()
    try:
        yield tx
    finally:
        tx.abort()


def type_name(value: Any) -> str:
    """``string``, ``decimal``, ``struct``…; any null is ``null``."""
    if ion.is_null(value):
        return "null"
    kind = ion.ion_type_of(value)
    return "unknown" if kind is None else kind.name.lower()


@dataclass
class FieldStats:
    """For each dotted path seen in a sample: how many documents had it, with which types."""

    documents: int = 0
    seen: Counter[str] = field(default_factory=Counter)
    types: dict[str, set[str]] = field(default_factory=dict)

    def add(self, document: Any) -> None:
        self.documents += 1
        for path, value in _paths(document, ""):
            self.seen[path] += 1
            self.types.setdefault(path, set()).add(type_name(value))

    def paths(self) -> list[str]:
        return list(self.types)


def _paths(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if ion.ion_type_of(value) is not IonType.STRUCT or ion.is_null(value):
        return
    for key, child in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        yield path, child
        yield from _paths(child, path)


def sample_fields(documents: Iterable[Any], limit: int = SAMPLE_SIZE) -> FieldStats:
    stats = FieldStats()
    for document in islice(documents, limit):
        stats.add(document)
    return stats


def sample_table(tx: Transaction, info: TableInfo, limit: int = SAMPLE_SIZE) -> FieldStats:
    return sample_fields((record.data for record in tx.scan(info.table_id)), limit)


@dataclass(frozen=True)
class Metadata:
    """Active tables by name, each with the field paths sampled from it."""

    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def table_names(self) -> list[str]:
        return sorted(self.tables)

    def fields(self, table: str) -> tuple[str, ...]:
        return self.tables.get(table, ())


def load_metadata(db: Ledger, limit: int = SAMPLE_SIZE) -> Metadata:
    """Tables and sampled fields, read from one snapshot."""
    with snapshot(db) as tx:
        active = [t for t in tx.tables() if t.status == ACTIVE]
        tables = {t.name: tuple(sample_table(tx, t, limit).paths()) for t in active}
    return Metadata(tables)
