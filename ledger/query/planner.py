"""Access paths: how each table source of a statement reads its documents.

For every table source the planner looks at the WHERE (and JOIN ... ON) conjuncts and
picks, best first: a ``BY id`` lookup (``ctx.get``), an index lookup for ``f = v`` or
``f IN (...)``, an index range for ``<, <=, >, >=, BETWEEN``, the whole index in order
for ``ORDER BY f`` on an indexed field, else a full scan.  The
key expressions must not depend on the source itself (literals, parameters, or
variables of sources to its left).  An access path only narrows the read: the full
predicate is always applied again to what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ledger.query import ast
from ledger.query.context import TableInfo

# ---------------------------------------------------------------- access paths


@dataclass(frozen=True)
class FullScan:
    def describe(self) -> dict[str, Any]:
        return {"access": "full scan"}


@dataclass(frozen=True)
class ById:
    """``BY id = v`` / ``metadata.id IN (...)``: one ``ctx.get`` per key."""

    keys: tuple[ast.Expr, ...]

    def describe(self) -> dict[str, Any]:
        return {"access": "by id", "lookups": len(self.keys)}


@dataclass(frozen=True)
class IndexLookup:
    """``f = v`` or ``f IN (...)`` on an indexed field: one equality range per key."""

    field: str
    index_id: str
    keys: tuple[ast.Expr, ...]
    in_list: bool = False

    def describe(self) -> dict[str, Any]:
        kind = "index IN" if self.in_list else "index equality"
        return {
            "access": kind,
            "field": self.field,
            "indexId": self.index_id,
            "lookups": len(self.keys),
        }


@dataclass(frozen=True)
class Bound:
    expr: ast.Expr
    inclusive: bool

    def shown(self) -> Any:
        """The bound's value for EXPLAIN: a literal, a parameter (ParamRef, bound by the
        executor), or None when it is computed per row."""
        if isinstance(self.expr, ast.Literal):
            return self.expr.value
        if isinstance(self.expr, ast.Param):
            return ParamRef(self.expr.index)
        return None


@dataclass(frozen=True)
class ParamRef:
    """A ``?`` in an EXPLAIN row; the executor puts the bound value in its place."""

    index: int


@dataclass(frozen=True)
class IndexRange:
    field: str
    index_id: str
    low: Bound | None
    high: Bound | None
    descending: bool = False
    ordered: bool = False  # the query's ORDER BY is this field: skip the sort if provable

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "access": "index range",
            "field": self.field,
            "indexId": self.index_id,
        }
        for name, bound in (("low", self.low), ("high", self.high)):
            if bound is None:
                continue
            out[name] = (
                (">=" if bound.inclusive else ">")
                if name == "low"
                else ("<=" if bound.inclusive else "<")
            )
            value = bound.shown()
            if value is not None:
                out[f"{name}Value"] = value
        if self.ordered:
            out["order"] = "DESC" if self.descending else "ASC"
        return out


AccessPath = FullScan | ById | IndexLookup | IndexRange


# ---------------------------------------------------------------- what a source looks like


@dataclass(frozen=True)
class SourceShape:
    """How a table source's fields and id are spelled in expressions."""

    alias: str
    by: str | None = None
    prefix: tuple[str, ...] = ()  # ("data",) for the committed view
    id_path: tuple[str, ...] | None = None  # ("metadata", "id") for the committed view
    implicit: bool = False  # unqualified names may refer to this source's fields
    earlier: frozenset[str] = field(default_factory=frozenset)


def conjuncts(expr: ast.Expr | None) -> list[ast.Expr]:
    """The AND-ed parts of a predicate."""
    if expr is None:
        return []
    if isinstance(expr, ast.And):
        return conjuncts(expr.left) + conjuncts(expr.right)
    return [expr]


def field_of(expr: ast.Expr, shape: SourceShape) -> str | None:
    """The top-level field ``expr`` reads from the source, if it is that simple."""
    steps = _steps_from(expr, shape)
    if steps is None or len(steps) != len(shape.prefix) + 1:
        return None
    if tuple(steps[: len(shape.prefix)]) != shape.prefix:
        return None
    return steps[-1]


def is_doc_id(expr: ast.Expr, shape: SourceShape) -> bool:
    """True for the BY variable, or ``alias.metadata.id`` (``metadata.id`` for a lone
    source) in the committed view and history."""
    if shape.by is not None and isinstance(expr, ast.Var) and expr.name == shape.by:
        return True
    if shape.id_path is None:
        return False
    steps = _steps_from(expr, shape)
    return steps is not None and tuple(steps) == shape.id_path


def _steps_from(expr: ast.Expr, shape: SourceShape) -> list[str] | None:
    if isinstance(expr, ast.Var):
        if shape.implicit and expr.name not in shape.earlier and expr.name != shape.alias:
            return [*shape.prefix, expr.name] if not shape.prefix else None
        return None
    if not isinstance(expr, ast.Path) or not isinstance(expr.root, ast.Var):
        return None
    names: list[str] = []
    root = expr.root.name
    if root != shape.alias:
        # ``metadata.id`` with the source's name left out, as a lone source allows
        if not shape.implicit or root in shape.earlier:
            return None
        names.append(root)
    for step in expr.steps:
        if isinstance(step, ast.FieldStep):
            names.append(step.name)
        elif (
            isinstance(step, ast.IndexStep)
            and isinstance(step.index, ast.Literal)
            and isinstance(step.index.value, str)
        ):
            names.append(step.index.value)
        else:
            return None
    return names


def available(expr: ast.Expr, earlier: frozenset[str]) -> bool:
    """True if ``expr`` can be computed before reading the source: it uses only
    literals, parameters and the variables of earlier sources."""
    if isinstance(expr, ast.Literal | ast.Param):
        return True
    if isinstance(expr, ast.Var):
        return expr.name in earlier
    if isinstance(expr, ast.Path):
        return available(expr.root, earlier) and all(
            available(s.index, earlier) for s in expr.steps if isinstance(s, ast.IndexStep)
        )
    if isinstance(expr, ast.Unary):
        return available(expr.operand, earlier)
    if isinstance(expr, ast.Binary):
        return available(expr.left, earlier) and available(expr.right, earlier)
    if isinstance(expr, ast.ListLit | ast.BagLit):
        return all(available(i, earlier) for i in expr.items)
    if isinstance(expr, ast.Call) and expr.name in ("utcnow", "txid", "to_timestamp", "date_add"):
        return all(available(a, earlier) for a in expr.args)
    return False


# ---------------------------------------------------------------- choosing


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}


@dataclass
class _Candidates:
    ids: list[tuple[ast.Expr, ...]] = field(default_factory=list)
    equal: dict[str, list[tuple[tuple[ast.Expr, ...], bool]]] = field(default_factory=dict)
    low: dict[str, Bound] = field(default_factory=dict)
    high: dict[str, Bound] = field(default_factory=dict)


def choose_access(
    table: TableInfo,
    shape: SourceShape,
    predicates: Iterable[ast.Expr],
    order_by: tuple[ast.OrderKey, ...] = (),
) -> AccessPath:
    """The best access path for one table source under these predicates."""
    found = _Candidates()
    for conjunct in predicates:
        _collect(conjunct, shape, found)
    if found.ids:
        return ById(found.ids[0])
    for field_name, options in found.equal.items():
        index = table.index_on(field_name)
        if index is not None:
            keys, in_list = options[0]
            return IndexLookup(field_name, index.index_id, keys, in_list)
    best = _best_range(table, shape, found, order_by)
    return best if not isinstance(best, FullScan) else _index_order(table, shape, order_by)


def _index_order(
    table: TableInfo, shape: SourceShape, order_by: tuple[ast.OrderKey, ...]
) -> AccessPath:
    """``ORDER BY f`` on an indexed field with nothing narrower to read: the whole
    index, in the order asked for (every document: the contract's unbounded range)."""
    name = field_of(order_by[0].expr, shape) if len(order_by) == 1 else None
    index = table.index_on(name) if name is not None else None
    if name is None or index is None:
        return FullScan()
    return IndexRange(name, index.index_id, None, None, order_by[0].descending, ordered=True)


def _best_range(
    table: TableInfo, shape: SourceShape, found: _Candidates, order_by: tuple[ast.OrderKey, ...]
) -> AccessPath:
    fields = [f for f in list(found.low) + list(found.high) if table.index_on(f) is not None]
    if not fields:
        return FullScan()
    order_field = field_of(order_by[0].expr, shape) if len(order_by) == 1 else None
    both = [f for f in fields if f in found.low and f in found.high]
    chosen = order_field if order_field in fields else (both or fields)[0]
    index = table.index_on(chosen)
    assert index is not None
    ordered = chosen == order_field
    descending = ordered and order_by[0].descending
    return IndexRange(
        chosen, index.index_id, found.low.get(chosen), found.high.get(chosen), descending, ordered
    )


def _collect(expr: ast.Expr, shape: SourceShape, found: _Candidates) -> None:
    if isinstance(expr, ast.Binary) and expr.op in _FLIP:
        _collect_comparison(expr.op, expr.left, expr.right, shape, found)
        _collect_comparison(_FLIP[expr.op], expr.right, expr.left, shape, found)
    elif isinstance(expr, ast.In) and not expr.negated:
        _collect_in(expr, shape, found)
    elif isinstance(expr, ast.Between) and not expr.negated:
        name = field_of(expr.operand, shape)
        if name and available(expr.low, shape.earlier) and available(expr.high, shape.earlier):
            found.low.setdefault(name, Bound(expr.low, True))
            found.high.setdefault(name, Bound(expr.high, True))


def _collect_comparison(
    op: str, target: ast.Expr, other: ast.Expr, shape: SourceShape, found: _Candidates
) -> None:
    if not available(other, shape.earlier):
        return
    if op == "=" and is_doc_id(target, shape):
        found.ids.append((other,))
        return
    name = field_of(target, shape)
    if name is None:
        return
    if op == "=":
        found.equal.setdefault(name, []).append(((other,), False))
    elif op in (">", ">="):
        found.low.setdefault(name, Bound(other, op == ">="))
    else:
        found.high.setdefault(name, Bound(other, op == "<="))


def _collect_in(expr: ast.In, shape: SourceShape, found: _Candidates) -> None:
    if not isinstance(expr.collection, ast.ListLit):
        return
    keys = expr.collection.items
    if not all(available(k, shape.earlier) for k in keys):
        return
    if is_doc_id(expr.operand, shape):
        found.ids.append(keys)
        return
    name = field_of(expr.operand, shape)
    if name is not None:
        found.equal.setdefault(name, []).append((keys, True))


def history_doc_id(shape: SourceShape, predicates: Iterable[ast.Expr]) -> ast.Expr | None:
    """The ``h.metadata.id = v`` a history() source is pinned to, if any."""
    for conjunct in predicates:
        if isinstance(conjunct, ast.Binary) and conjunct.op == "=":
            for target, other in ((conjunct.left, conjunct.right), (conjunct.right, conjunct.left)):
                if is_doc_id(target, shape) and available(other, shape.earlier):
                    return other
    return None
