"""FROM sources: resolve a source expression and iterate its values.

A source is a table (user view), a committed view (``_ql_committed_t``), ``history()``,
``information_schema.user_tables``, or any expression (a nested collection, a
subquery, a literal).  Table sources read through the access path the planner chose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ledger.errors import DataError, ProgrammingError
from ledger.query import ast, planner
from ledger.query.context import Bound as CtxBound
from ledger.query.context import DocRecord, TableInfo
from ledger.query.env import Env, Fn
from ledger.query.evaluator import Scope, compile_collection, compile_expr
from ledger.query.values import (
    ABSENT,
    BAG,
    BOOL,
    FLOAT,
    LIST,
    MISSING,
    NUMBERS,
    SEXP,
    TEXTS,
    TIMESTAMP,
    Struct,
    instant,
    kind,
    symbol,
    text_of,
)

COMMITTED_PREFIX = "_ql_committed_"
DOC_KEY = "\0doc:"  # hidden binding: the DocRecord behind a table variable (for DML)
LOC_KEY = "\0loc:"  # hidden binding: where a nested variable sits inside its document

# (value, AT value, DocRecord or None, location steps or None)
Binding = tuple[Any, Any, DocRecord | None, tuple[Any, ...] | None]


@dataclass
class CompiledSource:
    """One FROM source, ready to iterate for an environment."""

    node: ast.Source
    alias: str
    kind: str  # table | committed | history | catalog | expression
    iterate: Callable[[Env], Iterator[Binding]]
    table: TableInfo | None = None
    access: planner.AccessPath = field(default_factory=planner.FullScan)
    ordered: Callable[[Env], bool] = lambda env: False
    # reads the same values whatever the row it is joined to (a hash join may build once)
    independent: bool = False

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.kind, "alias": self.alias}
        if self.table is not None:
            out["table"] = self.table.name
            out["tableId"] = self.table.table_id
        if self.kind in ("table", "committed"):
            out.update(self.access.describe())
        elif self.kind == "history":
            out["access"] = "history"
        else:
            out["access"] = "evaluate"
        return out


def default_alias(expr: ast.Expr, position: int) -> str:
    """PartiQL's implicit variable name: a name's own, a path's last field, else `_n`."""
    if isinstance(expr, ast.Var):
        return expr.name
    if isinstance(expr, ast.Path) and isinstance(expr.steps[-1], ast.FieldStep):
        return expr.steps[-1].name
    if isinstance(expr, ast.Call):
        return expr.name
    return f"_{position}"


def compile_source(
    node: ast.Source,
    scope: Scope,
    position: int,
    predicates: list[ast.Expr],
    earlier: frozenset[str],
    *,
    implicit: bool,
    order_by: tuple[ast.OrderKey, ...] = (),
    track_locations: bool = False,
) -> CompiledSource:
    """Resolve what ``node`` reads and how."""
    alias = node.alias or default_alias(node.expr, position)
    expr = node.expr
    if isinstance(expr, ast.Var) and not expr.scoped:
        # a bare name in FROM is a table, then a global, and only then a variable
        # (`@name` forces the variable), as PartiQL resolves FROM sources
        name = expr.name
        if _is_table(name, scope) or not (name in scope.rt.bindings or scope.knows(name)):
            shape = planner.SourceShape(alias, node.by, implicit=implicit, earlier=earlier)
            return _table_source(node, alias, expr, scope, predicates, shape, order_by)
        if name in scope.rt.bindings:
            value = scope.rt.bindings[name]
            source = _expression_source(node, alias, lambda env: value, None, scope.rt.strict)
            source.independent = True
            return source
    if _is_catalog(expr):
        return CompiledSource(node, alias, "catalog", _catalog_rows, independent=True)
    if isinstance(expr, ast.Call) and expr.name == "history":
        shape = planner.SourceShape(
            alias, node.by, id_path=("metadata", "id"), implicit=implicit, earlier=earlier
        )
        return _history_source(node, alias, expr, scope, predicates, shape)
    if node.by is not None:
        raise ProgrammingError(f"BY is only allowed on a table, not on {alias}")
    if isinstance(expr, ast.Literal) and kind(expr.value) in ABSENT:
        # `FROM Missing` reads as the keyword MISSING: almost surely a table name
        # that needs quotes, so say so instead of returning one empty row
        word = "MISSING" if expr.value is MISSING else "NULL"
        raise ProgrammingError(
            f'FROM {word} is not a table: quote a table named {word.title()} as "{word.title()}"'
        )
    base = _location_base(node.expr) if track_locations else None
    fn = compile_collection(node.expr, scope)
    return _expression_source(node, alias, fn, base, scope.rt.strict)


def _is_table(name: str, scope: Scope) -> bool:
    rt = scope.rt
    if rt.table(name) is not None:
        return True
    return name.startswith(COMMITTED_PREFIX) and rt.table(name[len(COMMITTED_PREFIX) :]) is not None


# ---------------------------------------------------------------- tables


def _table_source(
    node: ast.Source,
    alias: str,
    expr: ast.Var,
    scope: Scope,
    predicates: list[ast.Expr],
    shape: planner.SourceShape,
    order_by: tuple[ast.OrderKey, ...],
) -> CompiledSource:
    rt = scope.rt
    name = expr.name
    view = "table"
    table = rt.table(name)
    if table is None and name.startswith(COMMITTED_PREFIX):
        table = rt.table(name[len(COMMITTED_PREFIX) :])
        view = "committed"
        shape = planner.SourceShape(
            alias, node.by, ("data",), ("metadata", "id"), shape.implicit, shape.earlier
        )
    if table is None:
        raise ProgrammingError(
            f"unknown table {name}",
            statement=scope.rt.statement or None,
            line=expr.line,
            column=expr.column,
        )
    access = planner.choose_access(table, shape, predicates, order_by)
    reader = _reader(table, access, scope)
    value_of: Callable[[DocRecord], Any] = (
        (lambda rec: rec.data) if view == "table" else (lambda rec: rec.committed())
    )

    def iterate(env: Env) -> Iterator[Binding]:
        for rec in reader(env):
            yield value_of(rec), MISSING, rec, None

    ordered = _ordered_check(access, scope)
    independent = isinstance(access, planner.FullScan)
    return CompiledSource(node, alias, view, iterate, table, access, ordered, independent)


def _reader(
    table: TableInfo, access: planner.AccessPath, scope: Scope
) -> Callable[[Env], Iterator[DocRecord]]:
    table_id = table.table_id
    if isinstance(access, planner.ById):
        keys = [compile_expr(k, scope) for k in access.keys]
        return lambda env: _by_ids(env, table_id, keys)
    if isinstance(access, planner.IndexLookup):
        keys = [compile_expr(k, scope) for k in access.keys]
        return lambda env: _index_lookup(env, table_id, access.field, keys)
    if isinstance(access, planner.IndexRange):
        return _range_reader(table_id, access, scope)
    return lambda env: _scan(env, table_id)


def _scan(env: Env, table_id: str) -> Iterator[DocRecord]:
    cached = env.rt.scans.get(("scan", table_id))
    if cached is not None:
        return iter(cached)
    records = list(env.rt.ctx.scan(table_id))
    env.rt.scans[("scan", table_id)] = records
    return iter(records)


def _by_ids(env: Env, table_id: str, keys: list[Fn]) -> Iterator[DocRecord]:
    seen: set[str] = set()
    for key in keys:
        value = key(env)
        if kind(value) not in TEXTS:
            continue  # an id is a string: nothing else can equal it
        doc_id = text_of(value)
        if doc_id in seen:
            continue
        seen.add(doc_id)
        rec = env.rt.ctx.get(table_id, doc_id)
        if rec is not None:
            yield rec


def _unified_text(env: Env) -> bool:
    """Whether the context's index keys strings and symbols alike (an optional
    capability: ``text_index_includes_symbols = True``), so one lookup finds both.
    By the QueryContext contract types sort apart, so by default we ask for each."""
    return bool(getattr(env.rt.ctx, "text_index_includes_symbols", False))


def _equality_keys(value: Any, unified_text: bool = False) -> list[Any] | None:
    """The index keys equal to ``value``; None when the index cannot answer."""
    k = kind(value)
    if k in ABSENT:
        return []  # `f = NULL` is never TRUE
    if k == FLOAT and math.isnan(value):
        return []
    if k in NUMBERS or k == BOOL or k == TIMESTAMP:
        return [value]  # the index orders timestamps by instant, as PartiQL compares them
    if k in TEXTS:
        text = text_of(value)
        if unified_text:
            return [text]
        return [text, symbol(text)]  # PartiQL: a string equals the symbol of the same text
    return None


def _index_lookup(env: Env, table_id: str, field_name: str, keys: list[Fn]) -> Iterator[DocRecord]:
    ctx = env.rt.ctx
    wanted: list[Any] = []
    for key in keys:
        found = _equality_keys(key(env), _unified_text(env))
        if found is None:
            yield from _scan(env, table_id)
            return
        wanted.extend(found)
    seen: set[str] = set()
    for value in wanted:
        bound = CtxBound(value, True)
        for rec in ctx.index_range(table_id, field_name, bound, bound):
            if rec.doc_id not in seen:
                seen.add(rec.doc_id)
                yield rec


def _range_class(value: Any) -> str | None:
    k = kind(value)
    if k in NUMBERS and not (k == FLOAT and math.isnan(value)):
        return "number"
    if k in TEXTS:
        return "text"
    if k == TIMESTAMP:
        return "timestamp"
    if k in ABSENT:
        return "absent"
    return None


def _range_reader(
    table_id: str, access: planner.IndexRange, scope: Scope
) -> Callable[[Env], Iterator[DocRecord]]:
    low = compile_expr(access.low.expr, scope) if access.low else None
    high = compile_expr(access.high.expr, scope) if access.high else None

    def read(env: Env) -> Iterator[DocRecord]:
        if low is None and high is None:  # ORDER BY alone: the whole index, in order
            return _ranges(env, table_id, access, [(None, None)])
        lo = low(env) if low else None
        hi = high(env) if high else None
        classes = {_range_class(v) for v, f in ((lo, low), (hi, high)) if f is not None}
        if "absent" in classes:
            return iter(())  # a comparison with NULL is never TRUE
        if None in classes or len(classes) != 1:
            return _scan(env, table_id)
        variants = [(lo, hi)]
        if classes == {"text"} and not _unified_text(env):
            variants = [
                (_text(lo, False), _text(hi, False)),
                (_text(lo, True), _text(hi, True)),
            ]
        return _ranges(env, table_id, access, variants)

    return read


def _text(value: Any, as_symbol: bool) -> Any:
    if value is None:
        return None
    return symbol(text_of(value)) if as_symbol else text_of(value)


def _ranges(
    env: Env, table_id: str, access: planner.IndexRange, variants: list[tuple[Any, Any]]
) -> Iterator[DocRecord]:
    ctx = env.rt.ctx
    seen: set[str] = set()
    for lo, hi in variants:
        low = CtxBound(lo, access.low.inclusive) if access.low and lo is not None else None
        high = CtxBound(hi, access.high.inclusive) if access.high and hi is not None else None
        for rec in ctx.index_range(table_id, access.field, low, high, descending=access.descending):
            if rec.doc_id not in seen:
                seen.add(rec.doc_id)
                yield rec


def _ordered_check(access: planner.AccessPath, scope: Scope) -> Callable[[Env], bool]:
    """Whether this execution's index range already yields the ORDER BY order: only a
    number or timestamp range qualifies (one type class, no NULLs, one index stream).

    The whole index (no bounds) is read in order but sorted anyway: it holds documents
    lacking the field first and then nulls, where PartiQL puts both by NULLS FIRST or
    LAST; NaN after the numbers, where PartiQL puts it before them; lists and
    S-expressions in one rank; long values cut short.  Its order is close to PartiQL's,
    which makes the (stable, run-detecting) sort of what it returns nearly linear."""
    if not isinstance(access, planner.IndexRange) or not access.ordered:
        return lambda env: False
    if access.low is None and access.high is None:
        return lambda env: False
    bounds = [compile_expr(b.expr, scope) for b in (access.low, access.high) if b is not None]
    return lambda env: all(_range_class(b(env)) in ("number", "timestamp") for b in bounds)


# ---------------------------------------------------------------- history, catalog


def _history_source(
    node: ast.Source,
    alias: str,
    call: ast.Call,
    scope: Scope,
    predicates: list[ast.Expr],
    shape: planner.SourceShape,
) -> CompiledSource:
    if not 1 <= len(call.args) <= 3:
        raise ProgrammingError(f"history() takes 1 to 3 arguments, got {len(call.args)}")
    table = _history_table(call.args[0], scope)
    window = [compile_expr(a, scope) for a in call.args[1:]]
    pinned = planner.history_doc_id(shape, predicates)
    doc_id = compile_expr(pinned, scope) if pinned is not None else None

    def iterate(env: Env) -> Iterator[Binding]:
        start, end = (_window_bound(w(env)) for w in window + [lambda e: None] * (2 - len(window)))
        pin = doc_id(env) if doc_id is not None else None
        if pin is not None and kind(pin) not in TEXTS:
            return
        pin_text = text_of(pin) if pin is not None else None
        for revision in env.rt.ctx.history(table.table_id, start, end, pin_text):
            yield revision, MISSING, None, None

    return CompiledSource(node, alias, "history", iterate, table)


def _history_table(arg: ast.Expr, scope: Scope) -> TableInfo:
    rt = scope.rt
    if isinstance(arg, ast.Var):
        table = rt.table(arg.name)
        if table is None:
            raise ProgrammingError(
                f"unknown table {arg.name}",
                statement=rt.statement or None,
                line=arg.line,
                column=arg.column,
            )
        return table
    if isinstance(arg, ast.Literal) and kind(arg.value) in TEXTS:
        table = rt.table_by_id(text_of(arg.value))
        if table is None:
            raise ProgrammingError(f"unknown table id {text_of(arg.value)}")
        return table
    if isinstance(arg, ast.Param):
        value = rt.params[arg.index]
        rt.cacheable = False  # the plan depends on this parameter's value
        if kind(value) in TEXTS:
            table = rt.table_by_id(text_of(value)) or rt.table(text_of(value))
            if table is not None:
                return table
        raise ProgrammingError(f"unknown table id {value!r}")
    raise ProgrammingError("history() needs a table name or a table id string")


def _window_bound(value: Any) -> Any:
    k = kind(value)
    if k in ABSENT:
        return None
    if k != TIMESTAMP:
        raise DataError(f"history() window bounds must be timestamps, got {k}")
    return instant(value)  # aware UTC: `2019-06-05T` (no offset) means UTC


def _is_catalog(expr: ast.Expr) -> bool:
    return (
        isinstance(expr, ast.Path)
        and isinstance(expr.root, ast.Var)
        and expr.root.name == "information_schema"
        and len(expr.steps) == 1
        and isinstance(expr.steps[0], ast.FieldStep)
        and expr.steps[0].name == "user_tables"
    )


def _catalog_rows(env: Env) -> Iterator[Binding]:
    for table in env.rt.ctx.tables():
        row = Struct(
            tableId=table.table_id,
            name=table.name,
            indexes=[
                Struct(indexId=i.index_id, expr=i.expr, status=i.status) for i in table.indexes
            ],
            status=table.status,
        )
        yield row, MISSING, None, None


# ---------------------------------------------------------------- expressions


def _expression_source(
    node: ast.Source,
    alias: str,
    fn: Fn,
    base: tuple[str, tuple[Any, ...]] | None,
    strict: bool = False,
) -> CompiledSource:
    track_locations = base is not None

    def iterate(env: Env) -> Iterator[Binding]:
        value = fn(env)
        loc = _location(env, base)
        k = kind(value)
        if strict:
            _check_strict_range(k, node)
        if k in (LIST, SEXP):
            for i, item in enumerate(value):
                yield item, i, None, (loc + (i,)) if loc is not None else None
        elif k == BAG:
            for item in value:
                yield item, MISSING, None, None
        elif not (track_locations and value is MISSING):
            # PartiQL binds a missing path as MISSING (one row); DML must not write there
            yield value, MISSING, None, loc

    return CompiledSource(node, alias, "expression", iterate)


def _check_strict_range(k: str, node: ast.Source) -> None:
    """Strict mode ranges only over collections, and AT needs an ordered one."""
    if k not in (LIST, SEXP, BAG):
        raise DataError(f"FROM cannot range over {k} in strict mode (only over a collection)")
    if k == BAG and node.at is not None:
        raise DataError("FROM ... AT needs a list in strict mode: a bag has no positions")


def _location_base(expr: ast.Expr) -> tuple[str, tuple[Any, ...]] | None:
    """For `a.b.c` (a variable and field names): ("a", ("b", "c"))."""
    if not isinstance(expr, ast.Path) or not isinstance(expr.root, ast.Var):
        return None
    names: list[Any] = []
    for step in expr.steps:
        if isinstance(step, ast.FieldStep):
            names.append(step.name)
        elif isinstance(step, ast.IndexStep) and isinstance(step.index, ast.Literal):
            names.append(step.index.value)
        else:
            return None
    return expr.root.name, tuple(names)


def _location(env: Env, base: tuple[str, tuple[Any, ...]] | None) -> tuple[Any, ...] | None:
    """Where the source's value lives: (table variable, step, step, ...)."""
    if base is None:
        return None
    root, steps = base
    if DOC_KEY + root in env.vars:
        return (root, *steps)
    parent = env.vars.get(LOC_KEY + root)
    if parent is None:
        return None
    return (*parent, *steps)
