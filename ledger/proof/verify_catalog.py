"""The catalog for ``verify``: rebuilt from the journal's DDL revisions and compared with
the stored ``tables`` rows, ``table_seq`` and the catalog sequence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.errors import DataError, VerificationError
from ledger.journal import catalog
from ledger.query.context import ACTIVE, INACTIVE, TableInfo
from ledger.storage import layout
from ledger.storage.kv import ReadTxn


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


def claimed_tables(txn: ReadTxn) -> dict[str, TableInfo | None]:
    """The tables rows as stored (None for a row that does not decode)."""
    out: dict[str, TableInfo | None] = {}
    for key, value in txn.range("tables"):
        table_id = key.decode("ascii", "replace")
        try:
            out[table_id] = catalog.decode(table_id, value)
        except Exception:  # noqa: BLE001 - a corrupt row is judged later, by the catalog check
            out[table_id] = None
    return out


def check_catalog(
    txn: ReadTxn, claimed: dict[str, TableInfo | None], replayed: CatalogReplay
) -> None:
    """The stored tables rows, catalog_seq and table_seq are what the journal implies."""
    for table_id in sorted(set(claimed) | set(replayed.tables)):
        want, got = replayed.tables.get(table_id), claimed.get(table_id)
        if want != got:
            raise VerificationError(
                "tables row differs from the catalog replayed from the journal",
                expected=want,
                computed=got,
                document=table_id,
            )
    raw = txn.get("meta", b"catalog_seq")
    got_seq = -1 if raw is None else layout.read_u64(raw)
    if got_seq != replayed.catalog_seq:
        raise VerificationError(
            "meta catalog_seq differs from the last block that changed the catalog",
            expected=replayed.catalog_seq,
            computed=got_seq,
        )
    _check_table_seq(txn, replayed)


def _check_table_seq(txn: ReadTxn, replayed: CatalogReplay) -> None:
    found: dict[str, int] = {}
    for key, value in txn.range("table_seq"):
        found[key.decode("ascii", "replace")] = layout.read_u64(value) if len(value) == 8 else -1
    for table_id in sorted(set(found) | set(replayed.table_seq)):
        want, got = replayed.table_seq.get(table_id), found.get(table_id)
        if want != got:
            raise VerificationError(
                "table_seq differs from the last block that changed the table",
                expected=want,
                computed=got,
                document=table_id,
            )
