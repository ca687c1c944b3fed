"""Typed syntax tree of a statement: what parser.py builds and the later stages read.

Nodes are frozen dataclasses, so a parsed statement can be cached and shared between
executions; parameters are ``Param(index)`` placeholders bound at execution time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------- expressions


class Expr:
    """Base class of every expression node."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    value: Any  # a Python/Ion value, or values.MISSING


@dataclass(frozen=True, slots=True)
class Param(Expr):
    index: int  # 0-based position among the statement's `?`


@dataclass(frozen=True, slots=True)
class Var(Expr):
    """A name: a variable, an implicit attribute of a FROM variable, or a table."""

    name: str
    quoted: bool = False
    scoped: bool = False  # `@name`: a variable only, never a table
    line: int | None = field(default=None, compare=False)
    column: int | None = field(default=None, compare=False)


class Step:
    """One step of a path."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class FieldStep(Step):
    name: str


@dataclass(frozen=True, slots=True)
class IndexStep(Step):
    index: Expr  # `[expr]`: a list position or a struct key


@dataclass(frozen=True, slots=True)
class WildcardStep(Step):
    """`[*]`: every element of a list or bag."""


@dataclass(frozen=True, slots=True)
class UnpivotStep(Step):
    """`.*`: every field value of a struct."""


@dataclass(frozen=True, slots=True)
class Path(Expr):
    root: Expr
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str  # '+', '-'
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    op: str  # + - * / % || = <> < <= > >=
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class And(Expr):
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or(Expr):
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True)
class TypeName:
    name: str  # lower case: int, decimal, string, null, missing, ...
    args: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class IsType(Expr):
    operand: Expr
    type: TypeName
    negated: bool = False


@dataclass(frozen=True, slots=True)
class In(Expr):
    operand: Expr
    collection: Expr
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Like(Expr):
    operand: Expr
    pattern: Expr
    escape: Expr | None = None
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Between(Expr):
    operand: Expr
    low: Expr
    high: Expr
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Call(Expr):
    name: str  # lower case
    args: tuple[Expr, ...]
    distinct: bool = False
    star: bool = False  # COUNT(*)
    line: int | None = field(default=None, compare=False)
    column: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Trim(Expr):
    spec: str  # leading | trailing | both
    chars: Expr | None
    operand: Expr


@dataclass(frozen=True, slots=True)
class Cast(Expr):
    operand: Expr
    type: TypeName


@dataclass(frozen=True, slots=True)
class Case(Expr):
    operand: Expr | None  # simple CASE when set
    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr | None = None


@dataclass(frozen=True, slots=True)
class ListLit(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class BagLit(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class StructLit(Expr):
    fields: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True, slots=True)
class Subquery(Expr):
    query: Select


@dataclass(frozen=True, slots=True)
class Exists(Expr):
    operand: Expr  # a Subquery or any collection expression


# ---------------------------------------------------------------- SELECT


@dataclass(frozen=True, slots=True)
class SelectItem:
    expr: Expr
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class SelectAll:
    """`a.*` in a select list: every field of ``expr``'s struct."""

    expr: Expr


@dataclass(frozen=True, slots=True)
class ProjectStar:
    pass


@dataclass(frozen=True, slots=True)
class ProjectValue:
    expr: Expr


@dataclass(frozen=True, slots=True)
class ProjectList:
    items: tuple[SelectItem | SelectAll, ...]


Projection = ProjectStar | ProjectValue | ProjectList


class FromItem:
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Source(FromItem):
    expr: Expr
    alias: str | None = None
    at: str | None = None
    by: str | None = None
    line: int | None = field(default=None, compare=False)
    column: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Join(FromItem):
    kind: str  # inner | left | cross
    left: FromItem
    right: Source | Join  # a Join when parenthesized: `A JOIN (B JOIN C ON p) ON q`
    on: Expr | None = None


@dataclass(frozen=True, slots=True)
class GroupKey:
    expr: Expr
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class OrderKey:
    expr: Expr
    descending: bool = False
    nulls_first: bool | None = None  # None: PartiQL's default (LAST for ASC, FIRST for DESC)


@dataclass(frozen=True, slots=True)
class Select:
    projection: Projection
    from_: tuple[FromItem, ...] = ()
    where: Expr | None = None
    group_by: tuple[GroupKey, ...] = ()
    group_as: str | None = None  # GROUP AS g: each group's rows, as a bag of structs
    having: Expr | None = None
    order_by: tuple[OrderKey, ...] = ()
    limit: Expr | None = None
    offset: Expr | None = None
    distinct: bool = False


@dataclass(frozen=True, slots=True)
class ExprStatement:
    """A bare expression used as a query (`1 + 1`, `[1, 2]`)."""

    expr: Expr


# ---------------------------------------------------------------- DML


@dataclass(frozen=True, slots=True)
class SetOp:
    target: Expr
    value: Expr


@dataclass(frozen=True, slots=True)
class RemoveOp:
    target: Expr


@dataclass(frozen=True, slots=True)
class InsertOp:
    target: Expr
    value: Expr
    at: Expr | None = None


DmlOp = SetOp | RemoveOp | InsertOp


@dataclass(frozen=True, slots=True)
class Insert:
    table: str
    value: Expr
    single: bool  # INSERT ... VALUE e (one document) vs INSERT ... e (a collection or one)


@dataclass(frozen=True, slots=True)
class Update:
    """UPDATE t ... and FROM t ... (FROM-DML): ``sources[0]`` is the table."""

    sources: tuple[Source, ...]
    ops: tuple[DmlOp, ...]
    where: Expr | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    source: Source
    where: Expr | None = None


# ---------------------------------------------------------------- DDL and the rest


@dataclass(frozen=True, slots=True)
class CreateTable:
    name: str
    options: tuple[tuple[str, Expr], ...] = ()


@dataclass(frozen=True, slots=True)
class DropTable:
    name: str


@dataclass(frozen=True, slots=True)
class UndropTable:
    table_id: str


@dataclass(frozen=True, slots=True)
class CreateIndex:
    table: str
    field: str


@dataclass(frozen=True, slots=True)
class DropIndex:
    index_id: str
    table: str
    options: tuple[tuple[str, Expr], ...] = ()


@dataclass(frozen=True, slots=True)
class Exec:
    procedure: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Explain:
    statement: Statement


Statement = (
    Select
    | ExprStatement
    | Insert
    | Update
    | Delete
    | CreateTable
    | DropTable
    | UndropTable
    | CreateIndex
    | DropIndex
    | Exec
    | Explain
)
