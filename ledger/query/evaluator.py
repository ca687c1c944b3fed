"""Expressions: compile AST expression nodes into closures over an ``Env``.

Compiling once per statement execution (instead of walking the tree for every row)
keeps per-row work to plain Python calls.  NULL and MISSING propagate as PartiQL
defines, WHERE keeps only TRUE.  The typing mode is chosen when compiling: in
permissive mode a type mismatch (``1 + 'a'``, a path into a scalar) yields MISSING; in
strict mode (``Runtime.strict``) it raises DataError, and so does a path step that
finds nothing (``{'a': 1}.b``) or a name that is bound nowhere.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.errors import DataError, NotSupportedError, ProgrammingError
from ledger.query import aggregates, ast, functions, operators
from ledger.query.env import Env, Fn, Runtime, check_unambiguous
from ledger.query.values import (
    BAG,
    LIST,
    MISSING,
    MISSING_TYPE,
    NULL,
    SEXP,
    STRUCT,
    TEXTS,
    Bag,
    MultiStruct,
    Struct,
    deep_copy,
    equal,
    is_true,
    kind,
    put_field,
    text_of,
)

_slots = itertools.count()


@dataclass
class Scope:
    """Compile-time knowledge: which names are variables, where aggregates go."""

    rt: Runtime
    aliases: frozenset[str] = frozenset()
    aggregates: list[tuple[int, ast.Call]] | None = None
    clause: str = "expression"
    parent: Scope | None = None
    # GROUP BY: an expression equal to a group key stands for the group's key value
    group_exprs: dict[ast.Expr, str] | None = None

    def knows(self, name: str) -> bool:
        if name in self.rt.bindings:
            return True
        scope: Scope | None = self
        while scope is not None:
            if name in scope.aliases:
                return True
            scope = scope.parent
        return False

    def visible(self) -> frozenset[str]:
        """Every variable name this scope and its enclosing scopes bind."""
        names: set[str] = set()
        scope: Scope | None = self
        while scope is not None:
            names |= scope.aliases
            scope = scope.parent
        return frozenset(names)

    def nested(self, aliases: Iterable[str]) -> Scope:
        """The scope of a subquery: sees these names and every enclosing one."""
        return Scope(self.rt, frozenset(aliases), None, "expression", self)

    def with_clause(
        self,
        clause: str,
        aggregates: list[tuple[int, ast.Call]] | None,
        group_exprs: dict[ast.Expr, str] | None = None,
    ) -> Scope:
        return Scope(self.rt, self.aliases, aggregates, clause, self.parent, group_exprs)


def compile_expr(node: ast.Expr, scope: Scope) -> Fn:
    """A closure computing ``node`` for a row's environment."""
    if scope.group_exprs and node in scope.group_exprs:
        name = scope.group_exprs[node]
        return lambda env: env.lookup(name)
    compiler = _COMPILERS.get(type(node))
    if compiler is None:
        raise ProgrammingError(f"cannot evaluate {type(node).__name__}")
    return compiler(node, scope)


def compile_predicate(node: ast.Expr | None, scope: Scope) -> Callable[[Env], bool]:
    """A WHERE/ON/HAVING test: true only when the expression is TRUE."""
    if node is None:
        return lambda env: True
    fn = compile_expr(node, scope)
    return lambda env: is_true(fn(env))


# ---------------------------------------------------------------- leaves


def _literal(node: ast.Literal, scope: Scope) -> Fn:
    value = node.value
    if isinstance(value, Mapping | list):
        return lambda env: deep_copy(value)
    return lambda env: value


def _param(node: ast.Param, scope: Scope) -> Fn:
    index = node.index
    return lambda env: env.rt.params[index]


def _var(node: ast.Var, scope: Scope) -> Fn:
    name = node.name
    return lambda env: env.lookup(name)


# ---------------------------------------------------------------- paths


def _path(node: ast.Path, scope: Scope) -> Fn:
    root = compile_expr(node.root, scope)
    compile_step = _compile_strict_step if scope.rt.strict else _compile_step
    steps = [compile_step(step, scope) for step in node.steps]
    if not any(isinstance(s, ast.WildcardStep | ast.UnpivotStep) for s in node.steps):
        return _simple_path(root, steps)
    return _wildcard_path(root, steps, node.steps)


def _simple_path(root: Fn, steps: list[Callable[[Any, Env], Any]]) -> Fn:
    def run(env: Env) -> Any:
        value = root(env)
        for step in steps:
            value = step(value, env)
            if value is MISSING:
                return MISSING
        return value

    return run


def _wildcard_path(
    root: Fn, steps: list[Callable[[Any, Env], Any]], nodes: tuple[ast.Step, ...]
) -> Fn:
    def run(env: Env) -> Any:
        values = [root(env)]
        for step, step_node in zip(steps, nodes, strict=True):
            if isinstance(step_node, ast.WildcardStep | ast.UnpivotStep):
                values = [v for value in values for v in step(value, env)]
            else:
                values = [v for v in (step(value, env) for value in values) if v is not MISSING]
        return Bag(values)

    return run


def _compile_step(step: ast.Step, scope: Scope) -> Callable[[Any, Env], Any]:
    if isinstance(step, ast.FieldStep):
        return _field_step(step.name)
    if isinstance(step, ast.IndexStep):
        return _index_step(compile_expr(step.index, scope))
    if isinstance(step, ast.WildcardStep):
        return lambda value, env: _wildcard(value)
    return lambda value, env: _unpivot(value)


def _field_step(name: str) -> Callable[[Any, Env], Any]:
    def step(value: Any, env: Env) -> Any:
        if isinstance(value, Mapping):
            return value.get(name, MISSING)
        return MISSING

    return step


def _index_step(index: Fn) -> Callable[[Any, Env], Any]:
    def step(value: Any, env: Env) -> Any:
        return get_index(value, index(env))

    return step


def get_index(value: Any, key: Any) -> Any:
    """``value[key]``: a list position or a struct field; MISSING when there is none."""
    k = kind(key)
    if k in TEXTS:
        if isinstance(value, Mapping):
            return value.get(text_of(key), MISSING)
        return MISSING
    if k == "int" and kind(value) in (LIST, SEXP):
        position = int(key)
        return value[position] if 0 <= position < len(value) else MISSING
    return MISSING


def _compile_strict_step(step: ast.Step, scope: Scope) -> Callable[[Any, Env], Any]:
    """A path step in strict mode: a step that finds nothing raises (a step from
    NULL still gives MISSING, as the PartiQL suite has it)."""
    if isinstance(step, ast.WildcardStep | ast.UnpivotStep):
        return _strict_many(step, _compile_step(step, scope))
    if isinstance(step, ast.FieldStep):
        return _strict_field(step.name)
    assert isinstance(step, ast.IndexStep)
    index = compile_expr(step.index, scope)

    def subscript(value: Any, env: Env) -> Any:
        key = index(env)
        return _found(value, get_index(value, key), f"[{key!r}]")

    return subscript


def _strict_many(step: ast.Step, loose: Callable[[Any, Env], Any]) -> Callable[[Any, Env], Any]:
    """`[*]` over a non-collection, `.*` over a non-struct: a strict-mode error."""
    what = "[*]" if isinstance(step, ast.WildcardStep) else ".*"
    wants = (LIST, SEXP, BAG) if isinstance(step, ast.WildcardStep) else (STRUCT,)

    def many(value: Any, env: Env) -> Any:
        if kind(value) not in wants:
            raise DataError(f"{what} cannot range over {kind(value)} in strict mode")
        return loose(value, env)

    return many


def _strict_field(name: str) -> Callable[[Any, Env], Any]:
    def field(value: Any, env: Env) -> Any:
        found = _found(value, get_index(value, name), repr(name))
        if isinstance(value, Mapping):
            check_unambiguous(value, name)
        return found

    return field


def _found(value: Any, result: Any, step: str) -> Any:
    if result is MISSING and kind(value) != NULL:
        raise DataError(f"path step {step} finds nothing in {kind(value)} (strict mode)")
    return result


def _wildcard(value: Any) -> list[Any]:
    if kind(value) in (LIST, SEXP, BAG):
        return list(value)
    return [] if value is MISSING else [value]


def _unpivot(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [v for _, v in value.items()]
    return [] if value is MISSING else [value]


# ---------------------------------------------------------------- operators


def _unary(node: ast.Unary, scope: Scope) -> Fn:
    operand = compile_expr(node.operand, scope)
    op = _typed(operators.negate if node.op == "-" else operators.positive, node.op, scope)
    return lambda env: op(operand(env))


def _binary(node: ast.Binary, scope: Scope) -> Fn:
    left = _operand(node.left, scope)
    right = _operand(node.right, scope)
    op = _typed(operators.BINARY[node.op], node.op, scope)
    return lambda env: op(left(env), right(env))


def _typed(op: Callable[..., Any], name: str, scope: Scope) -> Callable[..., Any]:
    """``op`` as the typing mode has it: itself (permissive), or raising where it
    would answer MISSING for operands none of which is MISSING (strict)."""
    return operators.strict(op, name) if scope.rt.strict else op


def _operand(node: ast.Expr, scope: Scope) -> Fn:
    return compile_expr(node, scope)


def compile_collection(node: ast.Expr, scope: Scope) -> Fn:
    """An expression read as a collection (FROM, IN, EXISTS): a subquery stays a bag,
    never coerced to its one value."""
    if isinstance(node, ast.Subquery):
        return _compile_select(node.query, scope)
    return compile_expr(node, scope)


# A subquery is a SELECT, compiled by ``select``: a stage above this one, which compiles
# its own expressions here.  ``select`` hands its compiler in when it loads (the package
# loads it with the executor), so imports flow one way: select -> sources -> evaluator.
SelectCompiler = Callable[[ast.Select, Scope], Fn]
_select_compiler: SelectCompiler | None = None


def compile_subqueries_with(compiler: SelectCompiler) -> None:
    """Let expressions hold subqueries, compiled by ``compiler`` (``select.compile_select``)."""
    global _select_compiler
    _select_compiler = compiler


def _compile_select(query: ast.Select, scope: Scope) -> Fn:
    if _select_compiler is None:  # only when ledger.query.select was never imported
        raise NotSupportedError("subqueries need the SELECT compiler (ledger.query.select)")
    return _select_compiler(query, scope)


def _and(node: ast.And, scope: Scope) -> Fn:
    left = compile_expr(node.left, scope)
    right = compile_expr(node.right, scope)
    op = _logical(operators.and_, "AND", scope)
    return lambda env: op(left(env), lambda: right(env))


def _or(node: ast.Or, scope: Scope) -> Fn:
    left = compile_expr(node.left, scope)
    right = compile_expr(node.right, scope)
    op = _logical(operators.or_, "OR", scope)
    return lambda env: op(left(env), lambda: right(env))


def _not(node: ast.Not, scope: Scope) -> Fn:
    operand = compile_expr(node.operand, scope)
    op = _typed(operators.not_, "NOT", scope)
    return lambda env: op(operand(env))


def _logical(op: Callable[[Any, Callable[[], Any]], Any], name: str, scope: Scope) -> Any:
    """AND/OR answer MISSING only for a non-boolean operand: strict mode raises."""
    if not scope.rt.strict:
        return op

    def run(left: Any, right: Callable[[], Any]) -> Any:
        result = op(left, right)
        if result is MISSING:
            raise DataError(f"{name} needs booleans (strict mode), got {kind(left)}")
        return result

    return run


def _is_type(node: ast.IsType, scope: Scope) -> Fn:
    if node.type.args:
        # rather than a wrong TRUE: the parameters would have to be checked too
        shown = ", ".join(map(str, node.type.args))
        raise NotSupportedError(
            f"IS {node.type.name.upper()}({shown}): type parameters in IS are not supported"
        )
    operand = compile_expr(node.operand, scope)
    test = operators.type_test(node.type.name)
    if node.negated:
        return lambda env: not test(operand(env))
    return lambda env: test(operand(env))


def _in(node: ast.In, scope: Scope) -> Fn:
    operand = _operand(node.operand, scope)
    collection = compile_collection(node.collection, scope)
    if isinstance(node.collection, ast.Subquery) and _single_column(node.collection.query):
        inner = collection
        collection = lambda env: operators.column_values(inner(env))  # noqa: E731
    # not typed: `x IN 5` is no error even in strict mode, just never TRUE
    if node.negated:
        return lambda env: operators.not_(operators.in_(operand(env), collection(env)))
    return lambda env: operators.in_(operand(env), collection(env))


def _single_column(query: ast.Select) -> bool:
    projection = query.projection
    return isinstance(projection, ast.ProjectList) and len(projection.items) == 1


def _like(node: ast.Like, scope: Scope) -> Fn:
    operand = compile_expr(node.operand, scope)
    pattern = compile_expr(node.pattern, scope)
    escape = compile_expr(node.escape, scope) if node.escape is not None else (lambda env: None)
    has_escape = node.escape is not None
    like = _typed(operators.like, "LIKE", scope)

    def run(env: Env) -> Any:
        result = like(operand(env), pattern(env), escape(env), has_escape)
        return operators.not_(result) if node.negated else result

    return run


def _between(node: ast.Between, scope: Scope) -> Fn:
    operand = _operand(node.operand, scope)
    low = _operand(node.low, scope)
    high = _operand(node.high, scope)
    ge = _typed(operators.ge, "BETWEEN", scope)
    le = _typed(operators.le, "BETWEEN", scope)

    def run(env: Env) -> Any:
        value = operand(env)
        result = operators.and_(ge(value, low(env)), lambda: le(value, high(env)))
        return operators.not_(result) if node.negated else result

    return run


def _case(node: ast.Case, scope: Scope) -> Fn:
    whens = [(compile_expr(c, scope), compile_expr(r, scope)) for c, r in node.whens]
    default = compile_expr(node.default, scope) if node.default is not None else None
    subject = compile_expr(node.operand, scope) if node.operand is not None else None

    def run(env: Env) -> Any:
        value = subject(env) if subject is not None else None
        for cond, result in whens:
            test = equal(value, cond(env)) if subject is not None else cond(env)
            if is_true(test):
                return result(env)
        return default(env) if default is not None else None

    return run


# ---------------------------------------------------------------- constructors


def _list(node: ast.ListLit, scope: Scope) -> Fn:
    items = [compile_expr(item, scope) for item in node.items]
    return lambda env: [item(env) for item in items]


def _bag(node: ast.BagLit, scope: Scope) -> Fn:
    items = [compile_expr(item, scope) for item in node.items]
    return lambda env: Bag(item(env) for item in items)


def _struct(node: ast.StructLit, scope: Scope) -> Fn:
    fields = [(compile_expr(k, scope), compile_expr(v, scope)) for k, v in node.fields]

    def run(env: Env) -> Any:
        out: Struct | MultiStruct = Struct()
        for key_fn, value_fn in fields:
            key = key_fn(env)
            if kind(key) not in TEXTS:
                raise DataError(f"a struct field name must be a string, got {kind(key)}")
            value = value_fn(env)
            if value is not MISSING:
                out = put_field(out, text_of(key), value)
        return out

    return run


# ---------------------------------------------------------------- queries and calls


def _subquery(node: ast.Subquery, scope: Scope) -> Fn:
    """A subquery as a value: SQL-style `(SELECT x FROM ...)` is its one value (MISSING
    for no row); `SELECT VALUE`/`SELECT *` subqueries are bags."""
    plan = compile_collection(node, scope)
    if _single_column(node.query):
        return lambda env: operators.scalar_subquery(plan(env))
    return plan


def _exists(node: ast.Exists, scope: Scope) -> Fn:
    operand = compile_collection(node.operand, scope)

    def run(env: Env) -> Any:
        value = operand(env)
        k = kind(value)
        if k in (LIST, SEXP, BAG, STRUCT):
            return len(value) > 0
        if k == MISSING_TYPE:  # QLDB Developer Guide, "EXISTS function": EXISTS(missing) -- error
            raise DataError("EXISTS of MISSING is an error (EXISTS of a scalar or NULL is false)")
        return False

    return run


def _call(node: ast.Call, scope: Scope) -> Fn:
    if node.name in functions.AGGREGATES:
        return _aggregate_ref(node, scope)
    if node.name in functions.COLLECTION_AGGREGATES:
        return _collection_aggregate(node, scope)
    spec = functions.lookup(node.name)
    if spec is None:
        raise ProgrammingError(
            f"unknown function {node.name.upper()}",
            statement=scope.rt.statement or None,
            line=node.line,
            column=node.column,
        )
    try:
        spec.check_arity(len(node.args), node.star)
    except ProgrammingError as exc:
        raise ProgrammingError(
            exc.message, statement=scope.rt.statement or None, line=node.line, column=node.column
        ) from None
    args = [_function_arg(node, i, arg, scope) for i, arg in enumerate(node.args)]
    return spec.bind(args, scope.rt.strict)


def _collection_aggregate(node: ast.Call, scope: Scope) -> Fn:
    """``COLL_SUM(collection)`` and friends: an aggregate over one value's elements."""
    if node.star or len(node.args) != 1:
        got = "*" if node.star else str(len(node.args))
        raise ProgrammingError(f"{node.name.upper()} takes 1 argument, got {got}")
    operand = compile_collection(node.args[0], scope)
    name, distinct, strict = node.name[len("coll_") :], node.distinct, scope.rt.strict
    return lambda env: aggregates.over_collection(name, operand(env), distinct, strict)


def _function_arg(node: ast.Call, position: int, arg: ast.Expr, scope: Scope) -> Fn:
    """Date-part arguments (`DATE_ADD(year, ...)`) are names, not variables."""
    if position == 0 and node.name in functions.PART_FIRST and isinstance(arg, ast.Var):
        part = arg.name.lower()
        return lambda env: part
    return _operand(arg, scope)


def _aggregate_ref(node: ast.Call, scope: Scope) -> Fn:
    if scope.aggregates is None:
        raise ProgrammingError(f"aggregate {node.name.upper()} is not allowed in {scope.clause}")
    if len(node.args) != (0 if node.star else 1):
        raise ProgrammingError(f"{node.name.upper()} takes one argument, got {len(node.args)}")
    slot = next(_slots)
    scope.aggregates.append((slot, node))
    return lambda env: env.aggregate(slot)


def _trim(node: ast.Trim, scope: Scope) -> Fn:
    operand = compile_expr(node.operand, scope)
    chars = compile_expr(node.chars, scope) if node.chars is not None else (lambda env: " ")
    spec = node.spec
    trim = _typed(functions.trim, "TRIM", scope)
    return lambda env: trim(spec, chars(env), operand(env))


def _cast(node: ast.Cast, scope: Scope) -> Fn:
    operand = compile_expr(node.operand, scope)
    convert = functions.caster(node.type)
    return lambda env: convert(operand(env))


_COMPILERS: dict[type, Callable[[Any, Scope], Fn]] = {
    ast.Literal: _literal,
    ast.Param: _param,
    ast.Var: _var,
    ast.Path: _path,
    ast.Unary: _unary,
    ast.Binary: _binary,
    ast.And: _and,
    ast.Or: _or,
    ast.Not: _not,
    ast.IsType: _is_type,
    ast.In: _in,
    ast.Like: _like,
    ast.Between: _between,
    ast.Case: _case,
    ast.ListLit: _list,
    ast.BagLit: _bag,
    ast.StructLit: _struct,
    ast.Subquery: _subquery,
    ast.Exists: _exists,
    ast.Call: _call,
    ast.Trim: _trim,
    ast.Cast: _cast,
}
