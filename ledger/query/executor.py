"""Run one statement: parse (cached), bind parameters, plan (cached), evaluate, return Ion.

The entry point the rest of the ledger calls is ``execute(ctx, statement, params)``;
``explain`` compiles a statement without running it and describes each source's
access path.

Compiled plans are cached by statement text.  A plan depends on the catalog (which
tables exist, their ids and indexes), so each cache entry remembers the catalog
lookups its compilation made and is reused only while the context still answers them
the same way; a new index or a dropped table simply means a fresh compile.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ledger.errors import ProgrammingError
from ledger.query import ast, ddl, dml, planner, point
from ledger.query.context import QueryContext
from ledger.query.env import Env, Prepared, Runtime
from ledger.query.evaluator import Scope, compile_expr
from ledger.query.parser import parse_cached
from ledger.query.select import compile_select
from ledger.query.values import BAG, Bag, Struct, kind, to_ion

PLAN_CACHE_SIZE = 256


MODES = ("permissive", "strict")


def execute(
    ctx: QueryContext,
    statement: str,
    params: Sequence[Any] = (),
    *,
    bindings: Mapping[str, Any] | None = None,
    mode: str = "permissive",
) -> list[Any]:
    """Execute ``statement`` against ``ctx``; the result rows as simpleion values.

    ``params`` binds the statement's ``?`` markers in order; their number must match.
    ``bindings`` are extra global variables (a PartiQL environment) beside the tables.
    ``mode`` is PartiQL's typing mode: ``"permissive"`` (a type error in an expression
    yields MISSING) or ``"strict"`` (it raises ``DataError``).
    """
    if not bindings:  # a prepared point read runs without parse, plan cache or Runtime
        rows = point.run_prepared(ctx, statement, params, mode)
        if rows is not None:
            return rows
    rt = _runtime(ctx, statement, params, mode)
    if bindings:
        rt.bindings = bindings
    prepared = _prepared(statement, rt)
    return [to_ion(row) for row in prepared(rt)]


def evaluate(
    ctx: QueryContext,
    statement: str,
    params: Sequence[Any] = (),
    *,
    bindings: Mapping[str, Any] | None = None,
    mode: str = "permissive",
) -> Any:
    """The value of ``statement`` as one Ion value, as PartiQL defines it: a query's bag
    (``$bag::[...]``; a list under ORDER BY), an expression's value (MISSING as
    ``$missing::null``); other statements give the bag of their rows."""
    rt = _runtime(ctx, statement, params, mode)
    if bindings:
        rt.bindings = bindings
    node = parse_cached(statement).statement
    env = Env({}, None, rt)
    if isinstance(node, ast.Select):
        return to_ion(compile_select(node, Scope(rt)).run(env))
    if isinstance(node, ast.ExprStatement):
        return to_ion(compile_expr(node.expr, Scope(rt))(env))
    return to_ion(Bag(_prepared(statement, rt)(rt)))


def _prepared(statement: str, rt: Runtime) -> Prepared:
    """The compiled statement: from the plan cache when its catalog still holds."""
    node = parse_cached(statement).statement
    key = (statement, rt.strict)
    prepared = _plans.get(key, rt) if not rt.bindings else None
    if prepared is None:
        prepared = prepare(node, rt)
        if not rt.bindings and rt.cacheable:
            _plans.put(key, prepared, rt.catalog)
    return prepared


def explain(ctx: QueryContext, statement: str, params: Sequence[Any] = ()) -> list[Any]:
    """The plan of ``statement`` (without running it): one row per source."""
    rt = _runtime(ctx, statement, params, "permissive")
    node = parse_cached(statement).statement
    if isinstance(node, ast.Explain):
        node = node.statement
    return [to_ion(row) for row in _explain(node, rt)]


def _runtime(ctx: QueryContext, statement: str, params: Sequence[Any], mode: str) -> Runtime:
    if mode not in MODES:
        raise ProgrammingError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if isinstance(params, str | bytes) or not isinstance(params, Sequence):
        raise ProgrammingError(
            f"parameters must be a sequence (list or tuple), got {type(params).__name__}"
        )
    want = parse_cached(statement).param_count
    if len(params) != want:
        raise ProgrammingError(
            f"wrong number of parameters: the statement takes {want}, got {len(params)}"
        )
    return Runtime(ctx, params, statement, strict=mode == "strict")


# ---------------------------------------------------------------- compiling statements


def prepare(node: ast.Statement, rt: Runtime) -> Prepared:
    """Compile one parsed statement into a function of the execution's Runtime."""
    preparer = _PREPARERS.get(type(node))
    if preparer is None:
        raise ProgrammingError(f"cannot execute {type(node).__name__}")
    return preparer(node, rt)


def _prepare_select(node: ast.Select, rt: Runtime) -> Prepared:
    plan = compile_select(node, Scope(rt))

    def general(rt: Runtime) -> list[Any]:
        return list(plan.run(Env({}, None, rt)))

    # a point read (index equality or BY id on one table) skips the pipeline
    return point.point_read(node, rt, general) or general


def _prepare_expression(node: ast.ExprStatement, rt: Runtime) -> Prepared:
    fn = compile_expr(node.expr, Scope(rt))

    def run(rt: Runtime) -> list[Any]:
        value = fn(Env({}, None, rt))
        return list(value) if kind(value) == BAG else [value]

    return run


def _at_run_time(
    handler: Callable[[Any, Runtime], list[Any]],
) -> Callable[[Any, Runtime], Prepared]:
    """DDL and EXEC read the catalog when they run, so there is nothing to compile."""
    return lambda node, rt: lambda rt: handler(node, rt)


def _prepare_explain(node: ast.Explain, rt: Runtime) -> Prepared:
    return lambda rt: _explain(
        node.statement, Runtime(rt.ctx, rt.params, rt.statement, strict=rt.strict)
    )


_PREPARERS: dict[type, Callable[[Any, Runtime], Prepared]] = {
    ast.Select: _prepare_select,
    ast.ExprStatement: _prepare_expression,
    ast.Insert: dml.prepare_insert,
    ast.Update: dml.prepare_update,
    ast.Delete: dml.prepare_delete,
    ast.CreateTable: _at_run_time(ddl.create_table),
    ast.DropTable: _at_run_time(ddl.drop_table),
    ast.UndropTable: _at_run_time(ddl.undrop_table),
    ast.CreateIndex: _at_run_time(ddl.create_index),
    ast.DropIndex: _at_run_time(ddl.drop_index),
    ast.Exec: _at_run_time(ddl.exec_procedure),
    ast.Explain: _prepare_explain,
}


# ---------------------------------------------------------------- EXPLAIN


def _explain(node: ast.Statement, rt: Runtime) -> list[Any]:
    rt.explain = []
    if not isinstance(node, ast.Explain):
        prepare(node, rt)  # compiling records each source's access path; nothing runs
    if not rt.explain:
        rt.explain.append({"access": "none"})
    statement = _STATEMENT_NAMES.get(type(node), type(node).__name__.upper())
    rows = [{k: _bound(v, rt) for k, v in row.items()} for row in rt.explain]
    return [Struct(step=i + 1, statement=statement, **row) for i, row in enumerate(rows)]


def _bound(value: Any, rt: Runtime) -> Any:
    """A ``?`` in an EXPLAIN row becomes the value bound to it."""
    return rt.params[value.index] if isinstance(value, planner.ParamRef) else value


_STATEMENT_NAMES = {
    ast.Select: "SELECT",
    ast.ExprStatement: "EXPRESSION",
    ast.Insert: "INSERT",
    ast.Update: "UPDATE",
    ast.Delete: "DELETE",
    ast.CreateTable: "CREATE TABLE",
    ast.DropTable: "DROP TABLE",
    ast.UndropTable: "UNDROP TABLE",
    ast.CreateIndex: "CREATE INDEX",
    ast.DropIndex: "DROP INDEX",
    ast.Exec: "EXEC",
}


# ---------------------------------------------------------------- the plan cache


PlanKey = tuple[str, bool]  # the statement text and whether it runs in strict mode


class _PlanCache:
    """Compiled statements by text, each valid while its catalog lookups still hold."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[PlanKey, tuple[Prepared, tuple[tuple[str, str, Any], ...]]] = (
            OrderedDict()
        )
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, statement: PlanKey, rt: Runtime) -> Prepared | None:
        with self.lock:
            entry = self.entries.get(statement)
            if entry is not None:
                self.entries.move_to_end(statement)
        if entry is not None and _still_valid(entry[1], rt):
            self.hits += 1
            return entry[0]
        self.misses += 1
        return None

    def put(
        self, statement: PlanKey, prepared: Prepared, catalog: list[tuple[str, str, Any]]
    ) -> None:
        with self.lock:
            self.entries[statement] = (prepared, tuple(catalog))
            self.entries.move_to_end(statement)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def _still_valid(catalog: tuple[tuple[str, str, Any], ...], rt: Runtime) -> bool:
    ctx = rt.ctx
    for lookup, key, info in catalog:
        now = ctx.table(key) if lookup == "name" else ctx.table_by_id(key)
        if now != info:
            return False
    return True


_plans = _PlanCache(PLAN_CACHE_SIZE)


def plan_cache_info() -> dict[str, int]:
    """Hits, misses and size of the compiled-plan cache (for tests and tuning)."""
    return {"hits": _plans.hits, "misses": _plans.misses, "size": len(_plans.entries)}


def clear_plan_cache() -> None:
    _plans.clear()
    point.clear_prepared()
