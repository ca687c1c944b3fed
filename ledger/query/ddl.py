"""CREATE/DROP/UNDROP TABLE, CREATE/DROP INDEX and EXEC (stored procedures).

Names are checked (validity, uniqueness, limits) by the context; here a statement is
turned into the context call and QLDB's one-row result.
"""

from __future__ import annotations

from typing import Any

from ledger.errors import DataError, ProgrammingError
from ledger.query import ast
from ledger.query.context import BlockAddress, TableInfo
from ledger.query.env import Env, Runtime, error_at
from ledger.query.evaluator import Scope, compile_expr
from ledger.query.values import ABSENT, INT, STRUCT, TEXTS, Struct, is_true, kind, text_of


def _table(rt: Runtime, name: str) -> TableInfo:
    table = rt.ctx.table(name)
    if table is None:
        raise error_at(rt, f"unknown table {name}", name)
    return table


def _value(expr: ast.Expr, rt: Runtime) -> Any:
    return compile_expr(expr, Scope(rt))(Env({}, None, rt))


def _options(
    options: tuple[tuple[str, ast.Expr], ...], allowed: set[str], rt: Runtime, statement: str
) -> dict[str, Any]:
    out = {}
    for name, expr in options:
        if name.lower() not in allowed:
            raise ProgrammingError(f"{statement}: unknown option {name}")
        out[name.lower()] = _value(expr, rt)
    return out


def _result(table_id: str) -> list[Any]:
    return [Struct(tableId=table_id)]


def create_table(node: ast.CreateTable, rt: Runtime) -> list[Any]:
    options = _options(node.options, {"aws_tags"}, rt, "CREATE TABLE")
    tags = options.get("aws_tags")
    if tags is not None and kind(tags) != STRUCT:
        raise DataError(f"aws_tags must be a struct, got {kind(tags)}")
    return _result(rt.ctx.create_table(node.name, tags))


def drop_table(node: ast.DropTable, rt: Runtime) -> list[Any]:
    table = _table(rt, node.name)
    rt.ctx.drop_table(table.table_id)
    return _result(table.table_id)


def undrop_table(node: ast.UndropTable, rt: Runtime) -> list[Any]:
    table = rt.ctx.table_by_id(node.table_id)
    if table is None:
        raise error_at(rt, f"unknown table id {node.table_id}", node.table_id)
    rt.ctx.undrop_table(table.table_id)
    return _result(table.table_id)


def create_index(node: ast.CreateIndex, rt: Runtime) -> list[Any]:
    table = _table(rt, node.table)
    rt.ctx.create_index(table.table_id, node.field)
    return _result(table.table_id)


def drop_index(node: ast.DropIndex, rt: Runtime) -> list[Any]:
    table = _table(rt, node.table)
    options = _options(node.options, {"purge"}, rt, "DROP INDEX")
    if "purge" not in options or not is_true(options["purge"]):
        # QLDB's PartiQL reference, "DROP INDEX command": the purge option is required
        raise ProgrammingError("DROP INDEX supports only WITH (purge = true), and requires it")
    if not any(index.index_id == node.index_id for index in table.indexes):
        raise error_at(rt, f"unknown index {node.index_id} on table {table.name}", node.index_id)
    rt.ctx.drop_index(table.table_id, node.index_id)
    return _result(table.table_id)


# ---------------------------------------------------------------- EXEC


def exec_procedure(node: ast.Exec, rt: Runtime) -> list[Any]:
    if node.procedure.upper() != "REDACT_REVISION":
        raise error_at(rt, f"unknown stored procedure {node.procedure}", node.procedure)
    if len(node.args) != 3:
        raise ProgrammingError(
            f"REDACT_REVISION takes 3 arguments (block address, table id, document id), "
            f"got {len(node.args)}"
        )
    address, table_id, doc_id = (_value(arg, rt) for arg in node.args)
    block = _block_address(address)
    result = rt.ctx.redact(block, _text(table_id, "table id"), _text(doc_id, "document id"))
    return [result]


def _text(value: Any, what: str) -> str:
    if kind(value) not in TEXTS:
        raise DataError(f"REDACT_REVISION: the {what} must be a string, got {kind(value)}")
    return text_of(value)


def _block_address(value: Any) -> BlockAddress:
    if kind(value) != STRUCT:
        raise DataError(f"REDACT_REVISION: the block address must be a struct, got {kind(value)}")
    strand = value.get("strandId")
    sequence = value.get("sequenceNo")
    if kind(strand) not in TEXTS or kind(sequence) != INT or kind(strand) in ABSENT:
        raise DataError(
            "REDACT_REVISION: the block address must be {strandId: string, sequenceNo: int}"
        )
    return BlockAddress(text_of(strand), int(sequence))
