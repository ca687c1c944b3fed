"""Parse tree -> AST: one transformer method per grammar rule (or alias).

Unsupported PartiQL (set operations, PIVOT, window functions, ...) is recognized
here and rejected with NotSupportedError naming the feature.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lark import Token, Transformer, v_args

from ledger.errors import DataError, NotSupportedError, ParseError
from ledger.ion import loads as ion_loads
from ledger.query import ast
from ledger.query.values import MISSING


def _unquote(text: str, quote: str) -> str:
    return text[1:-1].replace(quote * 2, quote)


@v_args(inline=True)
class Builder(Transformer[Token, Any]):
    """Builds ast nodes bottom-up; each method is one grammar rule (or alias)."""

    def __init__(self, statement: str) -> None:
        super().__init__()
        self.statement = statement
        self.param_count = 0
        self._parenthesized: set[int] = set()

    def _not_supported(self, feature: str) -> None:
        raise NotSupportedError(f"{feature} is not supported")

    # -- statements
    def start(self, statement: Any) -> ast.Statement:
        return _as_statement(statement)

    def explain_stmt(self, _kw: Token, statement: Any) -> ast.Explain:
        return ast.Explain(_as_statement(statement))

    def set_op(self, *_args: Any) -> None:
        self._not_supported("UNION/INTERSECT/EXCEPT")

    def pivot_stmt(self, *_args: Any) -> None:
        self._not_supported("PIVOT")

    def unpivot_source(self, *_args: Any) -> None:
        self._not_supported("UNPIVOT")

    def let_clause(self, *_args: Any) -> None:
        self._not_supported("LET")

    def over_clause(self, *_args: Any) -> None:
        self._not_supported("window functions (OVER)")

    def select_stmt(self, _kw: Token, *parts: Any) -> ast.Select:
        fields: dict[str, Any] = {}
        for part in parts:
            key, value = part
            if key == "group":
                fields.update(value)
            else:
                fields[key] = value
        return ast.Select(**fields)

    def distinct(self, _kw: Token) -> tuple[str, bool]:
        return ("distinct", True)

    def all(self, _kw: Token) -> tuple[str, bool]:
        return ("distinct", False)

    def project_star(self, _star: Token) -> tuple[str, Any]:
        return ("projection", ast.ProjectStar())

    def project_value(self, _kw: Token, expr: ast.Expr) -> tuple[str, Any]:
        return ("projection", ast.ProjectValue(expr))

    def project_list(self, *items: Any) -> tuple[str, Any]:
        return ("projection", ast.ProjectList(tuple(items)))

    def select_item(self, expr: ast.Expr, *rest: Any) -> ast.SelectItem | ast.SelectAll:
        alias = _last_name(rest)
        if isinstance(expr, ast.Path) and isinstance(expr.steps[-1], ast.UnpivotStep):
            if alias is not None:
                raise ParseError("`.*` in a select list cannot have an alias")
            root = expr.root if len(expr.steps) == 1 else ast.Path(expr.root, expr.steps[:-1])
            return ast.SelectAll(root)
        return ast.SelectItem(expr, alias)

    def from_clause(self, _kw: Token, *items: Any) -> tuple[str, Any]:
        return ("from_", tuple(items))

    def from_source(self, expr: ast.Expr, *rest: Any) -> ast.Source:
        alias = at = by = None
        pending = "as"
        for item in rest:
            if isinstance(item, Token):
                pending = item.type.lower()
                continue
            if pending == "at":
                at = item
            elif pending == "by":
                by = item
            else:
                alias = item
        line, column = _position(expr)
        return ast.Source(expr, alias, at, by, line, column)

    def join(self, left: Any, kind: str, _kw: Token, right: Any, *rest: Any) -> ast.Join:
        on = rest[-1] if rest else None
        if kind in ("right", "full"):
            self._not_supported(f"{kind.upper()} JOIN")
        if on is None:
            raise ParseError(f"{kind.upper()} JOIN needs an ON condition (or use CROSS JOIN)")
        return ast.Join(kind, left, right, on)

    def cross_join(self, left: Any, *rest: Any) -> ast.Join:
        """`CROSS JOIN` (or `INNER CROSS JOIN`): every pair."""
        return ast.Join("cross", left, rest[-1], None)

    def left_cross_join(self, left: Any, *rest: Any) -> ast.Join:
        """`LEFT CROSS JOIN`: every right binding, or one NULL-padded row when none."""
        return ast.Join("left", left, rest[-1], None)

    def inner_join(self, *_kw: Token) -> str:
        return "inner"

    def left_join(self, *_kw: Token) -> str:
        return "left"

    def right_join(self, *_kw: Token) -> str:
        return "right"

    def full_join(self, *_kw: Token) -> str:
        return "full"

    def where_clause(self, _kw: Token, expr: ast.Expr) -> tuple[str, Any]:
        return ("where", expr)

    def group_clause(self, *parts: Any) -> tuple[str, Any]:
        keys = tuple(p for p in parts if isinstance(p, ast.GroupKey))
        tokens = [p.type for p in parts if isinstance(p, Token)]
        if "PARTIAL" in tokens:
            self._not_supported("GROUP PARTIAL BY")
        group_as = _last_name(parts) if tokens.count("GROUP") > 1 else None
        return ("group", {"group_by": keys, "group_as": group_as})

    def group_key(self, expr: ast.Expr, *rest: Any) -> ast.GroupKey:
        return ast.GroupKey(expr, _last_name(rest))

    def having_clause(self, _kw: Token, expr: ast.Expr) -> tuple[str, Any]:
        return ("having", expr)

    def order_clause(self, _o: Token, _b: Token, *keys: ast.OrderKey) -> tuple[str, Any]:
        return ("order_by", tuple(keys))

    def order_key(self, expr: ast.Expr, *mods: str) -> ast.OrderKey:
        descending = "desc" in mods
        nulls: bool | None = None
        if "nulls_first" in mods:
            nulls = True
        elif "nulls_last" in mods:
            nulls = False
        return ast.OrderKey(expr, descending, nulls)

    def asc(self, _kw: Token) -> str:
        return "asc"

    def desc(self, _kw: Token) -> str:
        return "desc"

    def nulls_first(self, *_kw: Token) -> str:
        return "nulls_first"

    def nulls_last(self, *_kw: Token) -> str:
        return "nulls_last"

    def limit_clause(self, _kw: Token, expr: ast.Expr) -> tuple[str, Any]:
        return ("limit", expr)

    def offset_clause(self, _kw: Token, expr: ast.Expr) -> tuple[str, Any]:
        return ("offset", expr)

    # -- DML
    def insert_value(self, _i: Token, _n: Token, table: str, _v: Token, value: Any) -> ast.Insert:
        return ast.Insert(table, value, single=True)

    def insert_expr(self, _i: Token, _n: Token, table: str, value: Any) -> ast.Insert:
        return ast.Insert(table, value, single=False)

    def update_stmt(self, _kw: Token, source: ast.Source, *rest: Any) -> ast.Update:
        ops, where = _ops_and_where(rest)
        return ast.Update((source,), ops, where)

    def from_dml(self, _kw: Token, *rest: Any) -> ast.Update:
        sources = tuple(r for r in rest if isinstance(r, ast.Source))
        ops, where = _ops_and_where(tuple(r for r in rest if not isinstance(r, ast.Source)))
        return ast.Update(sources, ops, where)

    def delete_stmt(self, _d: Token, _f: Token, source: ast.Source, *rest: Any) -> ast.Delete:
        where = rest[0][1] if rest else None
        return ast.Delete(source, where)

    def set_op_dml(self, _kw: Token, *assignments: ast.SetOp) -> tuple[ast.SetOp, ...]:
        return assignments

    def assignment(self, target: ast.Expr, value: ast.Expr) -> ast.SetOp:
        return ast.SetOp(_dml_target(target), value)

    def remove_op(self, _kw: Token, target: ast.Expr) -> tuple[ast.RemoveOp]:
        return (ast.RemoveOp(_dml_target(target)),)

    def insert_op(
        self, _i: Token, _n: Token, target: Any, _v: Token, value: Any, *rest: Any
    ) -> tuple[ast.InsertOp]:
        at = rest[-1] if rest else None
        return (ast.InsertOp(_dml_target(target), value, at),)

    # -- DDL, EXEC
    def create_table(self, _c: Token, _t: Token, name: str, *rest: Any) -> ast.CreateTable:
        options = tuple(r for r in rest if isinstance(r, tuple))
        return ast.CreateTable(name, options)

    def table_option(self, name: str, value: ast.Expr) -> tuple[str, ast.Expr]:
        return (name, value)

    def drop_table(self, _d: Token, _t: Token, name: str) -> ast.DropTable:
        return ast.DropTable(name)

    def undrop_table(self, _u: Token, _t: Token, table_id: str) -> ast.UndropTable:
        return ast.UndropTable(table_id)

    def create_index(self, _c: Token, _i: Token, _o: Token, table: str, field: str) -> Any:
        return ast.CreateIndex(table, field)

    def drop_index(
        self, _d: Token, _i: Token, index_id: str, _o: Token, table: str, *rest: Any
    ) -> ast.DropIndex:
        options = tuple(r for r in rest if isinstance(r, tuple))
        return ast.DropIndex(index_id, table, options)

    def exec_stmt(self, _kw: Token, procedure: str, *args: ast.Expr) -> ast.Exec:
        return ast.Exec(procedure, tuple(args))

    # -- expressions
    def or_(self, left: ast.Expr, _kw: Token, right: ast.Expr) -> ast.Or:
        return ast.Or(left, right)

    def and_(self, left: ast.Expr, _kw: Token, right: ast.Expr) -> ast.And:
        return ast.And(left, right)

    def not_(self, _kw: Token, operand: ast.Expr) -> ast.Not:
        return ast.Not(operand)

    def compare(self, left: ast.Expr, op: str, right: ast.Expr) -> ast.Binary:
        return ast.Binary("<>" if op == "!=" else op, left, right)

    def comp_op(self, token: Token) -> str:
        return str(token)

    def is_type(self, operand: ast.Expr, _is: Token, *rest: Any) -> ast.IsType:
        return ast.IsType(operand, rest[-1], negated=len(rest) == 2)

    def in_(self, operand: ast.Expr, *rest: Any) -> ast.In:
        return ast.In(operand, rest[-1], negated=len(rest) == 3)

    def in_list(self, *items: ast.Expr) -> ast.ListLit:
        return ast.ListLit(tuple(items))

    def in_expr(self, expr: ast.Expr) -> ast.Expr:
        # PartiQL: `x IN (e)` is membership in the one-element list [e]
        if id(expr) in self._parenthesized:
            return ast.ListLit((expr,))
        return expr

    def paren(self, expr: ast.Expr) -> ast.Expr:
        self._parenthesized.add(id(expr))
        return expr

    def like(self, operand: ast.Expr, *rest: Any) -> ast.Like:
        negated = isinstance(rest[0], Token) and rest[0].type == "NOT"
        exprs = [r for r in rest if not isinstance(r, Token)]
        escape = exprs[1] if len(exprs) > 1 else None
        return ast.Like(operand, exprs[0], escape, negated)

    def between(self, operand: ast.Expr, *rest: Any) -> ast.Between:
        negated = rest[0].type == "NOT"
        exprs = [r for r in rest if not isinstance(r, Token)]
        return ast.Between(operand, exprs[0], exprs[1], negated)

    def concat(self, left: ast.Expr, right: ast.Expr) -> ast.Binary:
        return ast.Binary("||", left, right)

    def binary(self, left: ast.Expr, op: Token, right: ast.Expr) -> ast.Binary:
        return ast.Binary(str(op), left, right)

    def unary(self, op: Token, operand: ast.Expr) -> ast.Expr:
        if isinstance(operand, ast.Literal) and op == "-" and _is_number(operand.value):
            return ast.Literal(-operand.value)
        return ast.Unary(str(op), operand)

    # -- paths
    def path_field(self, base: ast.Expr, name: str) -> ast.Path:
        return _extend(base, ast.FieldStep(name))

    def path_field_string(self, base: ast.Expr, name: Token) -> ast.Path:
        """`x.'a'`: a field named by a string literal."""
        return _extend(base, ast.FieldStep(_unquote(str(name), "'")))

    def path_unpivot(self, base: ast.Expr, _star: Token) -> ast.Path:
        return _extend(base, ast.UnpivotStep())

    def path_index(self, base: ast.Expr, index: ast.Expr) -> ast.Path:
        return _extend(base, ast.IndexStep(index))

    def path_wildcard(self, base: ast.Expr, _star: Token) -> ast.Path:
        return _extend(base, ast.WildcardStep())

    # -- primaries
    def var_ref(self, name: Any) -> ast.Var:
        return ast.Var(str(name), quoted=name.quoted, line=name.line, column=name.column)

    def scoped_var_ref(self, name: Any) -> ast.Var:
        return ast.Var(str(name), quoted=name.quoted, scoped=True)

    def param(self, _token: Token) -> ast.Param:
        self.param_count += 1
        return ast.Param(self.param_count - 1)

    def subquery(self, query: Any) -> ast.Subquery:
        return ast.Subquery(query)

    def call_noargs(self, name: Any, *_over: Any) -> ast.Call:
        return ast.Call(str(name).lower(), (), line=name.line, column=name.column)

    def call_args(self, name: Any, *args: Any) -> ast.Call:
        distinct = False
        exprs: list[ast.Expr] = []
        for arg in args:
            if isinstance(arg, tuple):
                distinct = arg[1]
            else:
                exprs.append(arg)
        if str(name).lower() == "position" and len(exprs) == 1:
            exprs = _position_args(exprs[0], self.statement, name)
        return ast.Call(
            str(name).lower(), tuple(exprs), distinct, line=name.line, column=name.column
        )

    def call_query(self, name: Any, query: ast.Select) -> ast.Call:
        """`COLL_COUNT(SELECT ...)`: a query as the one argument."""
        return ast.Call(
            str(name).lower(), (ast.Subquery(query),), line=name.line, column=name.column
        )

    def call_star(self, name: Any, _star: Token, *_over: Any) -> ast.Call:
        return ast.Call(str(name).lower(), (), star=True, line=name.line, column=name.column)

    def call_from(
        self, name: Any, first: ast.Expr, _from: Token, second: ast.Expr, *rest: Any
    ) -> Any:
        fname = str(name).lower()
        if fname == "trim":
            return ast.Trim("both", first, second)
        if fname == "extract":
            return ast.Call(
                "extract", (_part_literal(first), second), line=name.line, column=name.column
            )
        if fname == "substring":
            length = rest[-1] if rest else None
            args = (first, second) if length is None else (first, second, length)
            return ast.Call("substring", args, line=name.line, column=name.column)
        raise ParseError(
            f"{str(name).upper()}(... FROM ...) is not a known form",
            statement=self.statement,
            line=name.line,
            column=name.column,
        )

    def call_overlay(self, name: Any, *parts: Any) -> ast.Call:
        if str(name).lower() != "overlay":
            raise ParseError(
                f"PLACING is only valid in OVERLAY, not in {str(name).upper()}",
                statement=self.statement,
                line=name.line,
                column=name.column,
            )
        args = tuple(p for p in parts if not isinstance(p, Token))
        return ast.Call("overlay", args, line=name.line, column=name.column)

    def call_trim(self, name: Any, spec: str, *rest: Any) -> ast.Trim:
        if str(name).lower() != "trim":
            raise ParseError(f"{spec.upper()} is only valid in TRIM", statement=self.statement)
        exprs = [r for r in rest if not isinstance(r, Token)]
        chars = exprs[0] if len(exprs) == 2 else None
        return ast.Trim(spec, chars, exprs[-1])

    def call_trim_from(self, name: Any, _from: Token, operand: ast.Expr) -> ast.Trim:
        if str(name).lower() != "trim":
            raise ParseError(f"{str(name).upper()}(FROM ...) is not a known form")
        return ast.Trim("both", None, operand)

    def trim_spec(self, token: Token) -> str:
        return str(token).lower()

    def exists_query(self, _kw: Token, query: ast.Select) -> ast.Exists:
        return ast.Exists(ast.Subquery(query))

    def exists_expr(self, _kw: Token, expr: ast.Expr) -> ast.Exists:
        return ast.Exists(expr)

    def case_expr(self, _kw: Token, *parts: Any) -> ast.Case:
        operand = None
        whens = []
        default = None
        pending_else = False
        for part in parts:
            if isinstance(part, Token):
                pending_else = part.type == "ELSE"
            elif isinstance(part, tuple):
                whens.append(part)
            elif pending_else:
                default = part
            else:
                operand = part
        return ast.Case(operand, tuple(whens), default)

    def when_clause(
        self, _w: Token, cond: ast.Expr, _t: Token, result: ast.Expr
    ) -> tuple[Any, Any]:
        return (cond, result)

    def cast_expr(self, _kw: Token, operand: ast.Expr, _as: Token, type_: ast.TypeName) -> ast.Cast:
        return ast.Cast(operand, type_)

    def type_name(self, name: str, *args: Token) -> ast.TypeName:
        return ast.TypeName(name.lower(), tuple(int(a) for a in args))

    def type_null(self, _kw: Token) -> ast.TypeName:
        return ast.TypeName("null")

    def type_missing(self, _kw: Token) -> ast.TypeName:
        return ast.TypeName("missing")

    def type_double(self, *_kw: Token) -> ast.TypeName:
        return ast.TypeName("float")

    def type_varchar(self, *parts: Token) -> ast.TypeName:
        """CHARACTER [VARYING] [(n)]: a string of at most n characters."""
        varying = any(p.type == "VARYING" for p in parts)
        name = "string" if varying else "character"
        return ast.TypeName(name, tuple(int(p) for p in parts if p.type == "INT"))

    # -- collections
    def list_lit(self, *items: ast.Expr) -> ast.ListLit:
        return ast.ListLit(tuple(items))

    def bag_lit(self, *items: ast.Expr) -> ast.BagLit:
        return ast.BagLit(tuple(items))

    def struct_lit(self, *fields: tuple[ast.Expr, ast.Expr]) -> ast.StructLit:
        return ast.StructLit(tuple(fields))

    def struct_field(self, key: ast.Expr, value: ast.Expr) -> tuple[ast.Expr, ast.Expr]:
        return (key, value)

    # -- literals
    def null(self, _t: Token) -> ast.Literal:
        return ast.Literal(None)

    def missing(self, _t: Token) -> ast.Literal:
        return ast.Literal(MISSING)

    def true(self, _t: Token) -> ast.Literal:
        return ast.Literal(True)

    def false(self, _t: Token) -> ast.Literal:
        return ast.Literal(False)

    def int_lit(self, token: Token) -> ast.Literal:
        return ast.Literal(int(token))

    def decimal_lit(self, token: Token) -> ast.Literal:
        return ast.Literal(Decimal(str(token)))

    def float_lit(self, token: Token) -> ast.Literal:
        # A number with an exponent is a decimal in QLDB's PartiQL (1e0 is 1d0, 1.5e3 is
        # 1.5d3), not a float: only an Ion literal in backticks makes a float.
        return ast.Literal(Decimal(str(token)))

    def string_lit(self, token: Token) -> ast.Literal:
        return ast.Literal(_unquote(str(token), "'"))

    def ion_lit(self, token: Token) -> ast.Literal:
        text = str(token)[1:-1]
        try:
            return ast.Literal(ion_loads(text))
        except DataError as exc:
            raise ParseError(
                f"invalid Ion literal: {exc}",
                statement=self.statement,
                line=token.line,
                column=token.column,
            ) from None

    def keyword_name(self, token: Token) -> _Name:
        return _Name(str(token), False, token.line, token.column)

    def ident(self, token: Token) -> _Name:
        return _Name(str(token), False, token.line, token.column)

    def quoted_ident(self, token: Token) -> _Name:
        return _Name(_unquote(str(token), '"'), True, token.line, token.column)


class _Name(str):
    """An identifier's text, remembering whether it was quoted and where it was."""

    quoted: bool
    line: int | None
    column: int | None

    def __new__(cls, text: str, quoted: bool, line: int | None, column: int | None) -> _Name:
        self = super().__new__(cls, text)
        self.quoted = quoted
        self.line = line
        self.column = column
        return self


def _as_statement(node: Any) -> ast.Statement:
    if isinstance(node, ast.Expr):
        return ast.ExprStatement(node)
    return node


def _position(expr: ast.Expr) -> tuple[int | None, int | None]:
    while isinstance(expr, ast.Path):
        expr = expr.root
    if isinstance(expr, ast.Var | ast.Call):
        return expr.line, expr.column
    return None, None


def _last_name(rest: tuple[Any, ...]) -> str | None:
    names = [r for r in rest if isinstance(r, _Name)]
    return str(names[-1]) if names else None


def _extend(base: ast.Expr, step: ast.Step) -> ast.Path:
    if isinstance(base, ast.Path):
        return ast.Path(base.root, base.steps + (step,))
    return ast.Path(base, (step,))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _position_args(expr: ast.Expr, statement: str, name: Any) -> list[ast.Expr]:
    """``POSITION(a IN b)`` parses as a call on the predicate ``a IN b``: its operands
    are the arguments."""
    if isinstance(expr, ast.In) and not expr.negated:
        return [expr.operand, expr.collection]
    raise ParseError(
        "POSITION needs the form POSITION(substring IN string)",
        statement=statement,
        line=name.line,
        column=name.column,
    )


def _part_literal(expr: ast.Expr) -> ast.Expr:
    if isinstance(expr, ast.Var):
        return ast.Literal(expr.name.lower())
    return expr


def _dml_target(expr: ast.Expr) -> ast.Expr:
    if not isinstance(expr, ast.Var | ast.Path):
        raise ParseError("the target of SET, REMOVE or INSERT INTO must be a path")
    return expr


def _ops_and_where(rest: tuple[Any, ...]) -> tuple[tuple[ast.DmlOp, ...], ast.Expr | None]:
    ops: list[ast.DmlOp] = []
    where = None
    for item in rest:
        if isinstance(item, tuple) and item and item[0] == "where":
            where = item[1]
        else:
            ops.extend(item)
    return tuple(ops), where
