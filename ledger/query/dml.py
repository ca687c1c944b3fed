"""INSERT, UPDATE / FROM-DML and DELETE: find the documents, compute the new data,
and hand each change to the context (``ctx.insert``/``update``/``delete``).

Updates edit a private copy of each matched document (keeping Ion types), so several
SET/REMOVE/INSERT operations and several nested bindings of one document make one
new revision.  Every statement returns one ``{documentId}`` row per document written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from amazon.ion.core import IonType
from amazon.ion.simple_types import IonPyDict

from ledger.errors import DataError, ProgrammingError
from ledger.query import ast
from ledger.query.context import DocRecord, TableInfo
from ledger.query.env import Env, Prepared, Runtime, error_at
from ledger.query.evaluator import Scope, compile_collection, compile_expr
from ledger.query.select import compile_select
from ledger.query.sources import DOC_KEY, LOC_KEY
from ledger.query.values import (
    BAG,
    INT,
    LIST,
    MISSING,
    SEXP,
    TEXTS,
    Struct,
    deep_copy,
    kind,
    text_of,
    to_ion,
)


def _row(doc_id: str) -> IonPyDict:
    """A DML statement's result row, ``{documentId: ...}``: the IonPyDict ``to_ion`` makes
    of ``Struct(documentId=doc_id)``, its attributes set at once (a bulk insert returns
    one per document; ~1 us instead of ~6).  tests/test_commit_fast_paths.py checks the
    attributes are what amazon.ion's constructor sets, whose private store the compiled
    encoder reads too."""
    row = IonPyDict.__new__(IonPyDict)
    row.__dict__ = {
        "ion_annotations": (), "_IonPyDict__store": {"documentId": [doc_id]},
        "ion_type": IonType.STRUCT,
    }  # fmt: skip
    return row


def _table(rt: Runtime, name: str) -> TableInfo:
    table = rt.table(name)
    if table is None:
        raise error_at(rt, f"unknown table {name}", name)
    return table


# ---------------------------------------------------------------- INSERT


def prepare_insert(node: ast.Insert, rt: Runtime) -> Prepared:
    table = _table(rt, node.table)
    scope = Scope(rt, clause="INSERT")
    # `INSERT INTO t (SELECT a FROM u)` inserts the query's rows: a collection, not
    # the one value a single-column subquery would be elsewhere
    value = (
        compile_expr(node.value, scope) if node.single else compile_collection(node.value, scope)
    )
    if rt.explain is not None:
        rt.explain.append({"source": "insert", "table": table.name, "tableId": table.table_id})

    def run(rt: Runtime) -> list[Any]:
        result = value(Env({}, None, rt))
        documents = [result] if node.single else _documents(result)
        return [_row(rt.ctx.insert(table.table_id, _document(doc), doc)) for doc in documents]

    return run


def _documents(value: Any) -> list[Any]:
    if kind(value) in (LIST, SEXP, BAG):
        return list(value)
    return [value]


def _document(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise DataError(f"a document must be a struct, got {kind(value)}")
    return to_ion(value, storage=True)


# ---------------------------------------------------------------- UPDATE / FROM


def _matcher(node: ast.Update | ast.Delete, rt: Runtime) -> Callable[[Runtime], list[Env]]:
    """The rows (bindings) a DML statement changes, read in full before any write."""
    sources = node.sources if isinstance(node, ast.Update) else (node.source,)
    query = ast.Select(ast.ProjectStar(), sources, node.where)
    plan = compile_select(query, Scope(rt), track_locations=True)
    first = plan.steps[0].source
    if first.kind != "table":
        raise ProgrammingError(f"{first.alias} is not a table: DML needs a table to change")
    return lambda rt: list(plan.bindings(Env({}, None, rt)))


def prepare_update(node: ast.Update, rt: Runtime) -> Prepared:
    matches = _matcher(node, rt)
    ops = _compile_ops(node, rt)
    root = _root_alias(node.sources[0])

    def run(rt: Runtime) -> list[Any]:
        changed: dict[str, tuple[DocRecord, Any]] = {}
        removed: set[str] = set()
        for row in matches(rt):
            record: DocRecord = row.vars[DOC_KEY + root]
            if record.doc_id not in changed:
                changed[record.doc_id] = (record, deep_copy(record.data))
            document = changed[record.doc_id][1]
            for op in ops:
                if op(row, root, document) is REMOVED:
                    removed.add(record.doc_id)
        out = []
        for record, document in changed.values():
            if record.doc_id in removed:  # REMOVE of the document itself: QLDB deletes it
                rt.ctx.delete(record.table_id, record.doc_id)
            else:
                rt.ctx.update(record.table_id, record.doc_id, to_ion(document, storage=True))
            out.append(_row(record.doc_id))
        return out

    return run


def _root_alias(source: ast.Source) -> str:
    from ledger.query.sources import default_alias

    return source.alias or default_alias(source.expr, 1)


def prepare_delete(node: ast.Delete, rt: Runtime) -> Prepared:
    matches = _matcher(node, rt)
    root = _root_alias(node.source)

    def run(rt: Runtime) -> list[Any]:
        seen: dict[str, DocRecord] = {}
        for row in matches(rt):
            record: DocRecord = row.vars[DOC_KEY + root]
            seen.setdefault(record.doc_id, record)
        for record in seen.values():
            rt.ctx.delete(record.table_id, record.doc_id)
        return [_row(doc_id) for doc_id in seen]

    return run


# ---------------------------------------------------------------- operations


def _compile_ops(node: ast.Update, rt: Runtime) -> list[Any]:
    aliases = [s.alias or _root_alias(s) for s in node.sources]
    aliases += [n for s in node.sources for n in (s.at, s.by) if n]
    scope = Scope(rt, frozenset(aliases), clause="SET")
    return [_compile_op(op, scope) for op in node.ops]


def _compile_op(op: ast.DmlOp, scope: Scope) -> Any:
    target = _compile_target(op.target, scope)
    if isinstance(op, ast.SetOp):
        value = compile_expr(op.value, scope)
        return lambda row, root, doc: _set(doc, target(row, root), value(row))
    if isinstance(op, ast.RemoveOp):
        return lambda row, root, doc: _remove(doc, target(row, root))
    value = compile_expr(op.value, scope)
    at = compile_expr(op.at, scope) if op.at is not None else None
    return lambda row, root, doc: _insert_into(
        doc, target(row, root), value(row), at(row) if at is not None else MISSING
    )


def _compile_target(expr: ast.Expr, scope: Scope) -> Any:
    """A function of (row, root alias) giving the target's steps inside the document."""
    root_var = expr if isinstance(expr, ast.Var) else expr.root  # type: ignore[attr-defined]
    if not isinstance(root_var, ast.Var):
        raise ProgrammingError("the target of SET, REMOVE or INSERT INTO must be a path")
    steps = expr.steps if isinstance(expr, ast.Path) else ()
    compiled = [_compile_step(s, scope) for s in steps]

    def resolve(row: Env, root: str) -> list[Any]:
        base = _base_steps(row, root, root_var.name)
        return base + [step(row) for step in compiled]

    return resolve


def _compile_step(step: ast.Step, scope: Scope) -> Any:
    if isinstance(step, ast.FieldStep):
        name = step.name
        return lambda row: name
    if isinstance(step, ast.IndexStep):
        index = compile_expr(step.index, scope)

        def key(row: Env) -> Any:
            value = index(row)
            if kind(value) == INT:
                return int(value)
            if kind(value) in TEXTS:
                return text_of(value)
            raise DataError(f"a path step must be a number or a name, got {kind(value)}")

        return key
    raise ProgrammingError("wildcards cannot be the target of SET, REMOVE or INSERT INTO")


def _base_steps(row: Env, root: str, name: str) -> list[Any]:
    if name == root:
        return []
    location = row.vars.get(LOC_KEY + name)
    if location is not None:
        if location[0] != root:
            raise ProgrammingError(f"{name} is not inside the document of {root}")
        return list(location[1:])
    if name in row.vars:
        raise ProgrammingError(f"{name} cannot be changed: it is not a path into {root}")
    return [name]  # an unqualified field of the document


def _walk(doc: Any, steps: list[Any], create: bool) -> Any:
    """The container at ``steps`` (creating missing structs if asked), or MISSING."""
    node = doc
    for step in steps:
        child = _child(node, step)
        if child is MISSING:
            if not create or not isinstance(node, MutableMapping) or not isinstance(step, str):
                return MISSING
            child = Struct()
            node[step] = child
        node = child
    return node


def _child(node: Any, step: Any) -> Any:
    if isinstance(step, str) and isinstance(node, Mapping):
        return node.get(step, MISSING)
    if isinstance(step, int) and kind(node) in (LIST, SEXP) and 0 <= step < len(node):
        return node[step]
    return MISSING


def _set(doc: Any, steps: list[Any], value: Any) -> None:
    if not steps:
        raise ProgrammingError("SET needs a path below the document, not the document itself")
    if value is MISSING:
        _remove(doc, steps)
        return
    parent = _walk(doc, steps[:-1], create=True)
    last = steps[-1]
    if isinstance(last, str) and isinstance(parent, MutableMapping):
        parent[last] = to_ion(value, storage=True)
    elif isinstance(last, int) and kind(parent) in (LIST, SEXP) and 0 <= last < len(parent):
        parent[last] = to_ion(value, storage=True)
    else:
        raise DataError(f"cannot SET {_render(steps)}: no such place in the document")


REMOVED = object()  # what REMOVE of a whole document returns: the statement deletes it


def _remove(doc: Any, steps: list[Any]) -> Any:
    """Remove the value at ``steps``; with no steps (``REMOVE p`` of the document's own
    alias) say REMOVED: QLDB's guide gives ``FROM t AS p WHERE ... REMOVE p`` and
    ``UPDATE t AS p REMOVE p WHERE ...`` as equal to DELETE (PartiQL reference, "REMOVE
    command")."""
    if not steps:
        return REMOVED
    parent = _walk(doc, steps[:-1], create=False)
    last = steps[-1]
    if isinstance(last, str) and isinstance(parent, MutableMapping) and last in parent:
        del parent[last]
    elif isinstance(last, int) and kind(parent) in (LIST, SEXP) and 0 <= last < len(parent):
        del parent[last]


def _insert_into(doc: Any, steps: list[Any], value: Any, at: Any) -> None:
    target = _walk(doc, steps, create=False)
    if value is MISSING:
        raise DataError("INSERT INTO needs a value, got MISSING")
    stored = to_ion(value, storage=True)
    if kind(target) in (LIST, SEXP, BAG):
        _insert_element(target, stored, at, steps)
    elif isinstance(target, MutableMapping):
        if kind(at) not in TEXTS:
            raise DataError(f"INSERT INTO the struct {_render(steps)} needs AT 'field name'")
        name = text_of(at)
        if name in target:
            raise DataError(f"cannot INSERT INTO {_render(steps)}: field {name!r} already exists")
        target[name] = stored
    else:
        raise DataError(f"cannot INSERT INTO {_render(steps)}: it is not a list or struct")


def _insert_element(target: Any, stored: Any, at: Any, steps: list[Any]) -> None:
    if at is MISSING:
        target.append(stored)
        return
    if kind(at) != INT or not 0 <= int(at) <= len(target):
        raise DataError(f"INSERT INTO {_render(steps)} AT {at!r}: position out of range")
    target.insert(int(at), stored)


def _render(steps: list[Any]) -> str:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text.lstrip(".") or "the document"
