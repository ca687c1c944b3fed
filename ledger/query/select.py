"""SELECT: FROM (sources and joins) -> WHERE -> GROUP BY/HAVING -> ORDER BY -> project
-> DISTINCT -> OFFSET/LIMIT, over environments of variable bindings.

``compile_select`` builds a ``SelectPlan`` once per execution; the plan runs for an
outer environment (the statement's, or a correlated subquery's current row).
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.errors import DataError, NotSupportedError, ProgrammingError
from ledger.query import aggregates, ast, planner
from ledger.query.env import Env, Fn
from ledger.query.evaluator import (
    Scope,
    compile_expr,
    compile_predicate,
    compile_subqueries_with,
)
from ledger.query.sources import DOC_KEY, LOC_KEY, Binding, CompiledSource, compile_source
from ledger.query.values import (
    ABSENT,
    FLOAT,
    INT,
    MISSING,
    Bag,
    MultiStruct,
    Struct,
    group_key,
    kind,
    put_field,
    sort_key,
    text_of,
)

Predicate = Callable[[Env], bool]


@dataclass
class FromStep:
    """One source in the nested loop, with the filters that can run once it is bound."""

    source: CompiledSource
    kind: str = "inner"  # inner | left | cross
    on: Predicate | None = None
    filters: list[Predicate] = field(default_factory=list)
    on_node: ast.Expr | None = None
    hash_key: tuple[Fn, Fn] | None = None  # (probe on the outer row, build on this source)

    @property
    def names(self) -> list[str]:
        node = self.source.node
        return [n for n in (self.source.alias, node.at, node.by) if n]


@dataclass
class SelectPlan:
    node: ast.Select
    steps: list[FromStep]
    late_filters: list[Predicate]
    project: Fn
    grouping: bool
    group_keys: list[tuple[str, Fn]]
    aggregate_args: list[tuple[int, ast.Call, Fn | None]]
    having: Predicate | None
    order_keys: list[tuple[Fn, ast.OrderKey]]
    limit: Fn | None
    offset: Fn | None
    sorted_by_index: Callable[[Env], bool] = lambda env: False

    def __call__(self, env: Env) -> list[Any]:
        return self.run(env)

    # -- the pipeline
    def run(self, env: Env) -> list[Any]:
        rows: Iterable[Env] = self.bindings(env)
        if self.grouping:
            rows = self.groups(rows, env)
            if self.having is not None:
                rows = [g for g in rows if self.having(g)]
        values: Iterable[Any]
        if self.order_keys and not self.sorted_by_index(env):
            values = self.sorted_values(rows)
        else:
            values = (self.project(row) for row in rows)
        if self.node.distinct:
            values = _distinct(values)
        values = self.window(values, env)
        out = list(values)
        return out if self.order_keys else Bag(out)

    def bindings(self, env: Env) -> Iterator[Env]:
        start = Env({}, env, env.rt)
        tables: dict[int, dict[Any, list[Binding]]] = {}
        for row in self._walk(0, start, tables):
            if all(f(row) for f in self.late_filters):
                yield row

    def _walk(self, level: int, row: Env, tables: dict[int, Any]) -> Iterator[Env]:
        if level == len(self.steps):
            yield row
            return
        step = self.steps[level]
        matched = False
        for child in self._candidates(level, step, row, tables):
            if step.on is not None and not step.on(child):
                continue
            matched = True
            if all(f(child) for f in step.filters):
                yield from self._walk(level + 1, child, tables)
        if step.kind == "left" and not matched:
            child = _extend(row, step.source, (None, None, None, None))
            if all(f(child) for f in step.filters):
                yield from self._walk(level + 1, child, tables)

    def _candidates(
        self, level: int, step: FromStep, row: Env, tables: dict[int, Any]
    ) -> Iterable[Env]:
        """This step's bindings for ``row``: all of them, or (hash join) only those
        whose join key equals the row's; the join predicate is still applied after."""
        if step.hash_key is None:
            return (_extend(row, step.source, b) for b in step.source.iterate(row))
        probe, build = step.hash_key
        table = tables.get(level)
        if table is None:
            table = tables[level] = _hash_table(step.source, build, row)
        key = _join_key(probe(row))
        if key is None:
            return ()
        return [_extend(row, step.source, b) for b in table.get(key, ())]

    def groups(self, rows: Iterable[Env], env: Env) -> list[Env]:
        buckets: dict[tuple[Any, ...], tuple[list[Any], list[Env]]] = {}
        for row in rows:
            values = [_null_if_missing(fn(row)) for _, fn in self.group_keys]
            key = tuple(group_key(v) for v in values)
            bucket = buckets.get(key)
            if bucket is None:
                buckets[key] = (values, [row])
            else:
                bucket[1].append(row)
        if not buckets and not self.group_keys:
            return [self._group_env(env, [], [])]
        return [self._group_env(env, values, members) for values, members in buckets.values()]

    def _group_env(self, env: Env, values: list[Any], members: list[Env]) -> Env:
        first = members[0] if members else None
        variables = dict(first.vars) if first is not None else {}
        for i, ((name, _), value) in enumerate(zip(self.group_keys, values, strict=True)):
            variables[name] = value
            variables[GROUP_KEY + str(i)] = value
        if self.node.group_as is not None:
            variables[self.node.group_as] = Bag(self._group_member(row) for row in members)
        aggs = {
            slot: aggregates.compute(call, arg, members, env.rt.strict)
            for slot, call, arg in self.aggregate_args
        }
        return Env(variables, env, env.rt, first.from_vars if first else (), aggs)

    def _group_member(self, row: Env) -> Struct:
        """One row of a GROUP AS bag: every FROM variable of the row by name."""
        return Struct((name, row.vars[name]) for step in self.steps for name in step.names)

    def sorted_values(self, rows: Iterable[Env]) -> list[Any]:
        pairs = [(row, self.project(row)) for row in rows]
        for fn, key in reversed(self.order_keys):
            nulls_first = key.nulls_first if key.nulls_first is not None else key.descending
            nulls_high = nulls_first == key.descending
            keyed = [
                (sort_key(fn(_order_env(row, value)), nulls_high), (row, value))
                for row, value in pairs
            ]
            keyed.sort(key=lambda item: item[0], reverse=key.descending)
            pairs = [pair for _, pair in keyed]
        return [value for _, value in pairs]

    def window(self, values: Iterable[Any], env: Env) -> Iterable[Any]:
        offset = _count(self.offset, env, "OFFSET") if self.offset is not None else 0
        limit = _count(self.limit, env, "LIMIT") if self.limit is not None else None
        if offset == 0 and limit is None:
            return values
        offset = min(offset, sys.maxsize)
        stop = None if limit is None else min(offset + limit, sys.maxsize)
        return itertools.islice(values, offset, stop)


def _join_key(value: Any) -> Any:
    """A hash key under which PartiQL-equal values meet; None for values `=` never
    makes TRUE (NULL, MISSING, NaN)."""
    k = kind(value)
    if k in ABSENT or (k == FLOAT and math.isnan(value)):
        return None
    return group_key(value)


def _hash_table(source: CompiledSource, build: Fn, row: Env) -> dict[Any, list[Binding]]:
    table: dict[Any, list[Binding]] = {}
    for binding in source.iterate(row):
        key = _join_key(build(_extend(row, source, binding)))
        if key is not None:
            table.setdefault(key, []).append(binding)
    return table


def _null_if_missing(value: Any) -> Any:
    """GROUP BY puts MISSING keys in the NULL group (PartiQL)."""
    return None if value is MISSING else value


def _order_env(row: Env, value: Any) -> Env:
    """ORDER BY sees the select list's names as well as the FROM variables."""
    if isinstance(value, Mapping):
        return Env(dict(value.items()), row, row.rt)
    return row


def _count(fn: Fn, env: Env, clause: str) -> int:
    value = fn(env)
    if kind(value) != INT or int(value) < 0:
        raise DataError(f"{clause} must be a non-negative integer, got {value!r}")
    return int(value)


def _distinct(values: Iterable[Any]) -> Iterator[Any]:
    seen: set[tuple[Any, ...]] = set()
    for value in values:
        key = group_key(value)
        if key not in seen:
            seen.add(key)
            yield value


def _extend(row: Env, source: CompiledSource, binding: Binding) -> Env:
    value, at, record, location = binding
    variables = dict(row.vars)
    variables[source.alias] = value
    node = source.node
    if node.at:
        variables[node.at] = at
    if node.by:
        variables[node.by] = record.doc_id if record is not None else None
    if record is not None:
        variables[DOC_KEY + source.alias] = record
    if location is not None:
        variables[LOC_KEY + source.alias] = location
    return Env(variables, row.parent, row.rt, row.from_vars + (source.alias,))


# ---------------------------------------------------------------- compiling


def compile_select(node: ast.Select, outer: Scope, *, track_locations: bool = False) -> SelectPlan:
    """Plan and compile one SELECT (top-level or nested)."""
    where = planner.conjuncts(node.where)
    steps = compile_from(node.from_, outer, where, node.order_by, track_locations=track_locations)
    names = [n for step in steps for n in step.names]
    scope = outer.nested(names + ([node.group_as] if node.group_as else []))
    _plan_hash_joins(steps, where, scope)
    if outer.rt.explain is not None:
        outer.rt.explain.extend(_describe(step) for step in steps)
    late = _place_filters(where, steps, scope)
    aggs: list[tuple[int, ast.Call]] = []
    keys = _group_keys(node, set(names))
    group_exprs = {key.expr: GROUP_KEY + str(i) for i, key in enumerate(keys)} or None
    project = compile_projection(
        node.projection, scope.with_clause("SELECT", aggs, group_exprs), steps
    )
    having = (
        compile_predicate(node.having, scope.with_clause("HAVING", aggs, group_exprs))
        if node.having is not None
        else None
    )
    order_keys = [
        (compile_expr(k.expr, scope.with_clause("ORDER BY", aggs, group_exprs)), k)
        for k in node.order_by
    ]
    group_keys = [
        (
            key.alias if key.alias is not None else _group_name(key.expr, i + 1),
            compile_expr(key.expr, scope.with_clause("GROUP BY", None)),
        )
        for i, key in enumerate(keys)
    ]
    grouping = bool(node.group_by or node.group_as or aggs or node.having is not None)
    if grouping and isinstance(node.projection, ast.ProjectStar):
        raise ProgrammingError("SELECT * cannot be used with GROUP BY or aggregates")
    plan = SelectPlan(
        node,
        steps,
        late,
        project,
        grouping,
        group_keys,
        [(slot, call, _aggregate_arg(call, scope)) for slot, call in aggs],
        having,
        order_keys,
        _clause_expr(node.limit, outer, "LIMIT"),
        _clause_expr(node.offset, outer, "OFFSET"),
    )
    plan.sorted_by_index = _index_order(node, steps, grouping)
    return plan


GROUP_KEY = "\0group:"  # hidden binding: the i-th GROUP BY key of a group


def _group_keys(node: ast.Select, from_names: set[str]) -> list[ast.GroupKey]:
    """GROUP BY keys; a bare name that is a select-list alias (not a FROM variable)
    means that item's expression (`SELECT a.x AS k ... GROUP BY k`)."""
    aliases: dict[str, ast.Expr] = {}
    if isinstance(node.projection, ast.ProjectList):
        for item in node.projection.items:
            if isinstance(item, ast.SelectItem) and item.alias is not None:
                aliases[item.alias] = item.expr
    keys = []
    for key in node.group_by:
        expr = key.expr
        if isinstance(expr, ast.Var) and expr.name in aliases and expr.name not in from_names:
            keys.append(ast.GroupKey(aliases[expr.name], key.alias or expr.name))
        else:
            keys.append(key)
    return keys


def _group_name(expr: ast.Expr, position: int) -> str:
    if isinstance(expr, ast.Cast):
        return _group_name(expr.operand, position)
    return _default_name(expr, position)


def _aggregate_arg(call: ast.Call, scope: Scope) -> Fn | None:
    if call.star:
        return None
    return compile_expr(call.args[0], scope.with_clause(f"{call.name.upper()}()", None))


def _clause_expr(node: ast.Expr | None, scope: Scope, clause: str) -> Fn | None:
    if node is None:
        return None
    return compile_expr(node, scope.with_clause(clause, None))


def compile_from(
    items: tuple[ast.FromItem, ...],
    outer: Scope,
    where: list[ast.Expr],
    order_by: tuple[ast.OrderKey, ...] = (),
    *,
    track_locations: bool = False,
) -> list[FromStep]:
    """The FROM clause as a list of nested-loop steps, access paths chosen."""
    flat = [entry for item in items for entry in _flatten(item, "inner", None)]
    implicit = len(flat) == 1
    steps: list[FromStep] = []
    earlier: list[str] = []
    outer_names = outer.visible()  # a correlated subquery's keys may use the outer row
    for position, (source, join_kind, on) in enumerate(flat, start=1):
        usable = planner.conjuncts(on) + (where if join_kind != "left" else [])
        compiled = compile_source(
            source,
            outer.nested(earlier),
            position,
            usable,
            outer_names | frozenset(earlier),
            implicit=implicit,
            order_by=order_by if implicit else (),
            track_locations=track_locations,
        )
        step = FromStep(compiled, join_kind, on_node=on)
        earlier.extend(step.names)
        if on is not None:
            step.on = compile_predicate(on, outer.nested(earlier).with_clause("ON", None))
        steps.append(step)
    return steps


def _flatten(
    item: ast.FromItem, kind: str, on: ast.Expr | None
) -> list[tuple[ast.Source, str, ast.Expr | None]]:
    """Joins as a list of nested-loop steps: each source, how it joins the ones before
    it, and its ON condition.  A parenthesized inner join on the right,
    `A JOIN (B JOIN C ON p) ON q`, is the same as `A, B, C` filtered by p and q."""
    if isinstance(item, ast.Source):
        return [(item, kind, on)]
    assert isinstance(item, ast.Join)
    left = _flatten(item.left, "inner", None)
    if isinstance(item.right, ast.Source):
        return left + [(item.right, item.kind, item.on)]
    if item.kind == "left":
        raise NotSupportedError("LEFT JOIN of a parenthesized join is not supported")
    right = _flatten(item.right, "inner", None)
    source, inner_kind, inner_on = right[-1]
    right[-1] = (source, inner_kind, _both(inner_on, item.on))
    return left + right


def _both(a: ast.Expr | None, b: ast.Expr | None) -> ast.Expr | None:
    if a is None or b is None:
        return a if b is None else b
    return ast.And(a, b)


def _place_filters(where: list[ast.Expr], steps: list[FromStep], scope: Scope) -> list[Predicate]:
    """Attach each WHERE conjunct to the first step that binds everything it uses."""
    level_of: dict[str, int] = {}
    for i, step in enumerate(steps):
        for name in step.names:
            level_of[name] = i
    late: list[Predicate] = []
    for conjunct in where:
        test = compile_predicate(conjunct, scope.with_clause("WHERE", None))
        used = _names_in(conjunct)
        if used is None or not steps or any(n not in level_of for n in used):
            late.append(test)
        else:
            steps[max((level_of[n] for n in used), default=0)].filters.append(test)
    return late


def _plan_hash_joins(steps: list[FromStep], where: list[ast.Expr], scope: Scope) -> None:
    """Join a source that reads the same rows for every outer row on `a.x = b.y` by
    hashing it once instead of scanning it per outer row."""
    earlier: set[str] = set()
    for i, step in enumerate(steps):
        if i > 0 and _independent(step.source):
            usable = planner.conjuncts(step.on_node) + (where if step.kind != "left" else [])
            step.hash_key = _equi_join_key(usable, set(step.names), earlier, scope)
        earlier.update(step.names)


def _describe(step: FromStep) -> dict[str, Any]:
    row = step.source.describe()
    if step.kind != "inner":
        row["join"] = step.kind
    if step.hash_key is not None:
        row["join"] = f"{step.kind} hash"
    return row


def _independent(source: CompiledSource) -> bool:
    if source.independent:
        return True
    return source.kind == "expression" and _names_in(source.node.expr) == set()


def _equi_join_key(
    conjuncts: list[ast.Expr], mine: set[str], earlier: set[str], scope: Scope
) -> tuple[Fn, Fn] | None:
    for conjunct in conjuncts:
        if not isinstance(conjunct, ast.Binary) or conjunct.op != "=":
            continue
        for probe, build in ((conjunct.left, conjunct.right), (conjunct.right, conjunct.left)):
            probe_names, build_names = _names_in(probe), _names_in(build)
            if probe_names and build_names and probe_names <= earlier and build_names <= mine:
                where = scope.with_clause("WHERE", None)
                return compile_expr(probe, where), compile_expr(build, where)
    return None


def _names_in(node: Any) -> set[str] | None:
    """Every variable name an expression mentions; None if it holds a subquery."""
    if isinstance(node, ast.Subquery):
        return None
    if isinstance(node, ast.Var):
        return {node.name}
    names: set[str] = set()
    children: Iterable[Any]
    if isinstance(node, tuple | list):
        children = node
    elif hasattr(node, "__dataclass_fields__"):
        children = (getattr(node, f) for f in node.__dataclass_fields__)
    else:
        return names
    for child in children:
        found = _names_in(child)
        if found is None:
            return None
        names |= found
    return names


def _index_order(node: ast.Select, steps: list[FromStep], grouping: bool) -> Callable[[Env], bool]:
    """The sort can be skipped when the one source's index range yields ORDER BY's
    order (and no select-list name shadows the ordered path)."""
    if grouping or len(steps) != 1 or len(node.order_by) != 1:
        return lambda env: False
    access = steps[0].source.access
    if not isinstance(access, planner.IndexRange) or not access.ordered:
        return lambda env: False
    key = node.order_by[0].expr
    if not isinstance(key, ast.Path) or not isinstance(key.root, ast.Var):
        return lambda env: False
    if key.root.name in _projected_names(node.projection):
        return lambda env: False
    return steps[0].source.ordered


# ---------------------------------------------------------------- projection


def _default_name(expr: ast.Expr, position: int) -> str:
    if isinstance(expr, ast.Var):
        return expr.name
    if isinstance(expr, ast.Path):
        last = expr.steps[-1]
        if isinstance(last, ast.FieldStep):
            return last.name
        if isinstance(last, ast.IndexStep) and isinstance(last.index, ast.Literal):
            if kind(last.index.value) in ("string", "symbol"):
                return text_of(last.index.value)
    return f"_{position}"


def _projected_names(projection: ast.Projection) -> set[str]:
    if not isinstance(projection, ast.ProjectList):
        return set()
    return set(_item_names(projection))


def compile_projection(projection: ast.Projection, scope: Scope, steps: list[FromStep]) -> Fn:
    if isinstance(projection, ast.ProjectValue):
        return compile_expr(projection.expr, scope)
    if isinstance(projection, ast.ProjectStar):
        return _star
    parts: list[tuple[str, Fn, bool]] = []
    for name, item in zip(_item_names(projection), projection.items, strict=True):
        parts.append((name, compile_expr(item.expr, scope), isinstance(item, ast.SelectAll)))
    return lambda env: _project_list(env, parts)


def _item_names(projection: ast.ProjectList) -> list[str]:
    """Each select item's field name: its alias, a path's last step, or `_n` counting
    the items that need a made-up name (PartiQL: `SELECT a, COUNT(*)` gives `_1`).
    An `x.*` item's name is used only when x is not a struct."""
    names: list[str] = []
    unnamed = 0
    for item in projection.items:
        if isinstance(item, ast.SelectItem) and item.alias is not None:
            names.append(item.alias)
            continue
        name = "_0" if isinstance(item, ast.SelectAll) else _default_name(item.expr, 0)
        if name == "_0":
            unnamed += 1
            name = f"_{unnamed}"
        names.append(name)
    return names


def _project_list(env: Env, parts: list[tuple[str, Fn, bool]]) -> Struct | MultiStruct:
    out: Struct | MultiStruct = Struct()
    for name, fn, every_field in parts:
        value = fn(env)
        if every_field and isinstance(value, Mapping):
            for field_name, item in value.items():
                out = put_field(out, field_name, item)
        elif value is not MISSING:
            out = put_field(out, name, value)  # `x.*` of a non-struct: {_n: x}
    return out


def _star(env: Env) -> Any:
    """SELECT *: the one variable's struct, or every variable's fields together (a
    name two of them have appears twice, as PartiQL has it)."""
    names = env.from_vars
    if len(names) == 1:
        value = env.vars[names[0]]
        if isinstance(value, Mapping):
            return value
    out: Struct | MultiStruct = Struct()
    for position, name in enumerate(names, start=1):
        value = env.vars[name]
        if isinstance(value, Mapping):
            for field_name, item in value.items():
                out = put_field(out, field_name, item)
        elif value is not MISSING:
            out = put_field(out, f"_{position}", value)  # a non-struct binding: by position
    return out


compile_subqueries_with(compile_select)  # subqueries inside expressions (evaluator)
