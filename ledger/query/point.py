"""The prepared fast path for point reads: ``SELECT * FROM t WHERE k = ?`` with an
index on ``k``, and ``SELECT * FROM t [AS x] BY id WHERE id = ?``.

The general pipeline (SelectPlan: environments, generators, filters, projection) costs
more than the read itself for these statements, which are most of an application's
reads.  ``point_read`` recognises the shape once, when the statement is compiled (the
plan is cached by statement text), and returns a runner that goes from the parameter
straight to the context's read (``index_range`` or ``get``, which record the read set
exactly as the general path's reads do), re-applies the equality as PartiQL's ``=``,
and returns the documents.  Any parameter the index cannot answer (a list, a struct, a
blob: the general path scans for those) runs the general plan instead, which was
compiled beside the fast one, so compile-time errors and every result stay the same.

Prepared statements: each time a point-read runner runs, it registers itself under its
statement text and typing mode, with the catalog it was compiled against (the snapshot's
committed catalog object, ``ctx.catalog_token()``).  ``run_prepared`` (called first by
``executor.execute``) finds it there with one dict look-up and, while the transaction
still sees that very catalog object, runs it directly: no parse-cache look-ups, no plan
cache (its lock and catalog comparisons), no Runtime.  The index is read through
``ctx.index_equal`` (one cursor, no generators) when the transaction has no writes of its
own, else through ``index_range`` as before; either records the same read set.

``ENABLED = False`` (tests) makes every runner take the general plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ledger.errors import DataError, ProgrammingError
from ledger.query import ast, operators, planner
from ledger.query.context import Bound
from ledger.query.env import Prepared, Runtime, check_unambiguous
from ledger.query.sources import _equality_keys
from ledger.query.values import MISSING, NULL, TEXTS, is_true, kind, text_of, to_ion

ENABLED = True  # False: every point-read runner defers to the general plan (tests)

_NOT_FOUND = object()

Target = Callable[[Any], Any]  # a document's data -> the value the equality compares


def point_read(node: ast.Select, rt: Runtime, general: Prepared) -> Prepared | None:
    """A fast runner for ``node`` when it is a point read on one table, else None.

    ``general`` is the statement compiled by the general pipeline (already done, so its
    catalog lookups and compile-time errors are those of the statement)."""
    source = _lone_table_source(node, rt)
    if source is None or not isinstance(node.where, ast.Binary) or node.where.op != "=":
        return None
    left, right = node.where.left, node.where.right
    if isinstance(right, ast.Param) and not isinstance(left, ast.Param):
        target, param, param_first = left, right, False
    elif isinstance(left, ast.Param) and not isinstance(right, ast.Param):
        target, param, param_first = right, left, True
    else:
        return None
    table = rt.table(source.expr.name)  # type: ignore[attr-defined]
    if table is None:
        return None
    alias = source.alias or source.expr.name  # type: ignore[attr-defined]
    shape = planner.SourceShape(alias, source.by, implicit=True)
    # `=` as the typing mode has it (the evaluator's ``_typed``)
    eq = operators.strict(operators.eq, "=") if rt.strict else operators.eq
    test: Callable[[Any, Any], Any] = (
        (lambda p, v: eq(p, v)) if param_first else (lambda p, v: eq(v, p))
    )
    if planner.is_doc_id(target, shape):
        if not isinstance(target, ast.Var):
            return None
        return _by_id_runner(table.table_id, param.index, test, general)
    name = planner.field_of(target, shape)
    index = None if name is None else table.index_on(name)
    if name is None or index is None:
        return None
    fetch = _target(target, name, rt)
    if fetch is None:
        return None
    return _index_runner(table.table_id, name, index.index_id, fetch, param.index, test, general)


def _lone_table_source(node: ast.Select, rt: Runtime) -> ast.Source | None:
    """The one FROM source of a plain ``SELECT *`` (no other clause) if it is a table
    of the user view, read by name."""
    if (
        not isinstance(node.projection, ast.ProjectStar)
        or len(node.from_) != 1
        or node.group_by
        or node.group_as is not None
        or node.having is not None
        or node.order_by
        or node.limit is not None
        or node.offset is not None
        or node.distinct
        or rt.bindings
        or rt.explain is not None
    ):
        return None
    source = node.from_[0]
    if not isinstance(source, ast.Source) or source.at is not None:
        return None
    expr = source.expr
    if not isinstance(expr, ast.Var) or expr.scoped:
        return None
    return source


def _target(target: ast.Expr, name: str, rt: Runtime) -> Target | None:
    """How the general path evaluates the compared field on a document's data."""
    if isinstance(target, ast.Var):  # implicit attribute of the lone source (Env.lookup)
        strict, statement = rt.strict, rt.statement

        def implicit(data: Any) -> Any:
            found = data.get(name, _NOT_FOUND) if isinstance(data, Mapping) else _NOT_FOUND
            if found is _NOT_FOUND:
                if strict:
                    raise ProgrammingError(
                        f"undefined variable {name} (strict mode)", statement=statement or None
                    )
                return MISSING
            if strict:
                check_unambiguous(data, name)
            return found

        return implicit
    if not isinstance(target, ast.Path) or len(target.steps) != 1:
        return None
    if not rt.strict:
        return lambda data: data.get(name, MISSING) if isinstance(data, Mapping) else MISSING
    # strict path steps (evaluator ``_strict_field`` / subscript): a step that finds
    # nothing raises; a field step also refuses an ambiguous name
    step = target.steps[0]
    field_step = isinstance(step, ast.FieldStep)
    shown = repr(name) if field_step else f"[{name!r}]"

    def strict_step(data: Any) -> Any:
        found = data.get(name, MISSING) if isinstance(data, Mapping) else MISSING
        if found is MISSING and kind(data) != NULL:
            raise DataError(f"path step {shown} finds nothing in {kind(data)} (strict mode)")
        if field_step and isinstance(data, Mapping):
            check_unambiguous(data, name)
        return found

    return strict_step


# -- prepared statements -----------------------------------------------------------------
PREPARED_SIZE = 256  # statements kept; the registry starts over when full

Read = Callable[[Any, Sequence[Any]], "list[Any] | None"]  # (ctx, params) -> rows, or None


class _Entry:
    __slots__ = ("token", "param_count", "read")

    def __init__(self, token: object, param_count: int, read: Read) -> None:
        self.token = token
        self.param_count = param_count
        self.read = read


_prepared: dict[tuple[str, str], _Entry] = {}


def run_prepared(ctx: Any, statement: str, params: Sequence[Any], mode: str) -> list[Any] | None:
    """The rows of ``statement`` as ``executor.execute`` returns them, when it is a point
    read prepared against the catalog ``ctx`` sees; None when it must take the general way
    (not prepared, another catalog, a parameter the index cannot answer, ...)."""
    entry = _prepared.get((statement, mode))
    if entry is None or not ENABLED or type(params) not in (tuple, list):
        return None
    token_of = getattr(ctx, "catalog_token", None)
    if token_of is None or len(params) != entry.param_count or token_of() is not entry.token:
        return None
    rows = entry.read(ctx, params)
    return None if rows is None else [to_ion(row) for row in rows]


def _register(rt: Runtime, read: Read) -> None:
    """Remember the runner that just ran, against the catalog it ran with."""
    token_of = getattr(rt.ctx, "catalog_token", None)
    if token_of is None or rt.bindings or not rt.statement:
        return
    token = token_of()
    if token is None:
        return
    if len(_prepared) >= PREPARED_SIZE:
        _prepared.clear()
    mode = "strict" if rt.strict else "permissive"
    _prepared[(rt.statement, mode)] = _Entry(token, len(rt.params), read)


def clear_prepared() -> None:
    _prepared.clear()


def _records(records: Iterable[Any]) -> list[tuple[str, Any]]:
    """``index_range``'s records as ``index_equal`` gives them: (doc id, data)."""
    return [(rec.doc_id, rec.data) for rec in records]


# -- the runners -------------------------------------------------------------------------
def _index_runner(
    table_id: str,
    field_name: str,
    index_id: str,
    fetch: Target,
    index: int,
    test: Callable[[Any, Any], Any],
    general: Prepared,
) -> Prepared:
    def read(ctx: Any, params: Sequence[Any]) -> list[Any] | None:
        value = params[index]
        unified = bool(getattr(ctx, "text_index_includes_symbols", False))
        # a str's keys are itself where strings and symbols share the index's keys
        keys = [value] if unified and type(value) is str else _equality_keys(value, unified)
        if keys is None:
            return None  # the index cannot answer: the general path scans
        equal = getattr(ctx, "index_equal", None)
        rows: list[Any] = []
        seen: set[str] = set()
        for key in keys:
            found_docs = None if equal is None else equal(table_id, index_id, key)
            if found_docs is None:
                found_docs = _records(ctx.index_range(table_id, field_name, Bound(key), Bound(key)))
            for doc_id, data in found_docs:
                if doc_id in seen:
                    continue
                seen.add(doc_id)
                found = fetch(data)
                # two str: PartiQL's `=` is str equality in either mode (the common case)
                if type(found) is str and type(value) is str:
                    if found == value:
                        rows.append(data)
                elif is_true(test(value, found)):
                    rows.append(data)
        return rows

    def run(rt: Runtime) -> list[Any]:
        if not ENABLED:
            return general(rt)
        rows = read(rt.ctx, rt.params)
        if rows is None:
            return general(rt)
        _register(rt, read)
        return rows

    run.general = general  # type: ignore[attr-defined]
    return run


def _by_id_runner(
    table_id: str, index: int, test: Callable[[Any, Any], Any], general: Prepared
) -> Prepared:
    def read(ctx: Any, params: Sequence[Any]) -> list[Any]:
        value = params[index]
        if kind(value) not in TEXTS:
            return []  # an id is a string: nothing else can equal it
        rec = ctx.get(table_id, text_of(value))
        if rec is None:
            return []
        if not is_true(test(value, rec.doc_id)):
            return []
        return [rec.data]

    def run(rt: Runtime) -> list[Any]:
        if not ENABLED:
            return general(rt)
        rows = read(rt.ctx, rt.params)
        _register(rt, read)
        return rows

    run.general = general  # type: ignore[attr-defined]
    return run
