"""Tables and indexes: their records, their rules, and how DDL enters the journal.

DDL is journaled like data: each table is a document of the system table
``information_schema.user_tables`` whose id is the tableId, so CREATE/DROP/UNDROP
TABLE and CREATE/DROP INDEX each write a revision of it.  Replaying the journal thus
rebuilds the catalog, and ``ledger verify`` can check it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ledger import ion
from ledger.errors import DataError, ProgrammingError
from ledger.query.context import ACTIVE, IndexInfo, TableInfo

CATALOG_TABLE_NAME = "information_schema.user_tables"
CATALOG_TABLE_ID = "0000000000000000000000"  # fixed: the catalog's own table id

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_EXPR = re.compile(r"\[(.+)\]")

# PartiQL keywords QLDB refused as table names (a representative, documented subset).
RESERVED = frozenset(
    """
    ABSOLUTE ACTION ADD ALL ALLOCATE ALTER AND ANY ARE AS ASC ASSERTION AT AUTHORIZATION
    AVG BAG BEGIN BETWEEN BIT BIT_LENGTH BLOB BOOL BOOLEAN BOTH BY CASCADE CASE CAST
    CATALOG CHAR CHARACTER CHARACTER_LENGTH CHAR_LENGTH CHECK CLOB CLOSE COALESCE COLLATE
    COLUMN COMMIT CONNECT CONSTRAINT CONTINUE CONVERT COUNT CREATE CROSS CURRENT
    CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATE DATE_ADD
    DATE_DIFF DAY DEALLOCATE DEC DECIMAL DECLARE DEFAULT DELETE DESC DISTINCT DOUBLE DROP
    ELSE END ESCAPE EXCEPT EXEC EXECUTE EXISTS EXTRACT FALSE FETCH FLOAT FOR FOREIGN FROM
    FULL GET GLOBAL GO GOTO GRANT GROUP HAVING HOUR IDENTITY IN INDEX INNER INPUT
    INSENSITIVE INSERT INT INTEGER INTERSECT INTERVAL INTO IS JOIN KEY LANGUAGE LAST
    LEADING LEFT LEVEL LIKE LIMIT LIST LOWER MATCH MAX MIN MINUTE MISSING MODULE MONTH
    NATIONAL NATURAL NOT NULL NULLIF NUMERIC OF OFFSET ON ONLY OR ORDER OUTER PIVOT
    PRIMARY PUBLIC REAL REMOVE RIGHT SECOND SELECT SET SEXP SIZE SMALLINT SOME STRING
    STRUCT SUM SYMBOL TABLE THEN TIME TIMESTAMP TO TRUE UNDROP UNION UNIQUE UNKNOWN UNPIVOT
    UPDATE UPPER USER USING VALUE VALUES WHEN WHERE WITH
    """.split()
)


def check_table_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ProgrammingError(
            f"invalid table name {name!r}: 1-128 characters, a letter or _ first, "
            "then letters, digits or _"
        )
    if name.upper() in RESERVED:
        raise ProgrammingError(f"invalid table name {name!r}: it is a reserved word")


def to_record(table: TableInfo) -> dict[str, Any]:
    """The catalog document of a table, as journaled and as stored in ``tables``."""
    record: dict[str, Any] = {
        "name": table.name,
        "status": table.status,
        "indexes": [
            {"indexId": ix.index_id, "expr": ix.expr, "status": ix.status} for ix in table.indexes
        ],
    }
    if table.tags is not None:
        record["tags"] = table.tags
    return record


def from_record(table_id: str, record: Any) -> TableInfo:
    try:
        indexes = tuple(
            IndexInfo(str(ix["indexId"]), _field_of(str(ix["expr"])), str(ix["status"]))
            for ix in record["indexes"]
        )
        return TableInfo(
            table_id=table_id,
            name=str(record["name"]),
            status=str(record["status"]),
            indexes=indexes,
            tags=record.get("tags"),
        )
    except (KeyError, TypeError) as exc:
        raise DataError(f"malformed catalog record for table {table_id}: {exc}") from exc


def _field_of(expr: str) -> str:
    m = _EXPR.fullmatch(expr)
    if not m:
        raise DataError(f"malformed index expression {expr!r}")
    return m.group(1)


def encode(table: TableInfo) -> bytes:
    return ion.dumps(to_record(table))


def decode(table_id: str, raw: bytes) -> TableInfo:
    return from_record(table_id, ion.loads(raw))


def new_table(name: str, tags: Any = None) -> TableInfo:
    return TableInfo(table_id=ion.new_id(), name=name, status=ACTIVE, tags=tags)


def with_status(table: TableInfo, status: str) -> TableInfo:
    return replace(table, status=status)


def with_index(table: TableInfo, field_name: str) -> TableInfo:
    index = IndexInfo(index_id=ion.new_id(), field=field_name)
    return replace(table, indexes=table.indexes + (index,))


def without_index(table: TableInfo, index_id: str) -> TableInfo:
    return replace(table, indexes=tuple(ix for ix in table.indexes if ix.index_id != index_id))
