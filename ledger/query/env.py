"""Run-time state shared by the evaluation stages: the runtime and variable scopes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from amazon.ion.simple_types import IonPyDict

from ledger.errors import DataError, ProgrammingError
from ledger.query.context import QueryContext, TableInfo
from ledger.query.values import MISSING

_NOT_FOUND = object()


@dataclass
class Runtime:
    """One execution: the context, the bound parameters, the statement text."""

    ctx: QueryContext
    params: Sequence[Any]
    statement: str = ""
    # table reads memoized per statement, so a correlated subquery over a table scans once
    scans: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    # global variables beside the tables (PartiQL environments, e.g. conformance tests)
    bindings: Mapping[str, Any] = field(default_factory=dict)
    # set by EXPLAIN: every compiled source appends its description here
    explain: list[dict[str, Any]] | None = None
    # catalog lookups made while compiling: a cached plan is valid while they still hold
    catalog: list[tuple[str, str, Any]] = field(default_factory=list)
    cacheable: bool = True  # False when compiling read a parameter or global value
    strict: bool = False  # PartiQL's strict typing mode: a type error raises, not MISSING

    def table(self, name: str) -> TableInfo | None:
        """ctx.table(name), remembered as a dependency of the plan being compiled."""
        info = self.ctx.table(name)
        self.catalog.append(("name", name, info))
        return info

    def table_by_id(self, table_id: str) -> TableInfo | None:
        info = self.ctx.table_by_id(table_id)
        self.catalog.append(("id", table_id, info))
        return info


class Env:
    """One row's variable bindings, chained to the enclosing query's row.

    ``from_vars`` names the FROM variables whose struct values an unqualified name may
    refer to (PartiQL's implicit attribute lookup: ``SELECT x FROM t`` means ``t.x``).
    """

    __slots__ = ("vars", "parent", "rt", "from_vars", "aggs")

    def __init__(
        self,
        vars: dict[str, Any],
        parent: Env | None,
        rt: Runtime,
        from_vars: tuple[str, ...] = (),
        aggs: dict[int, Any] | None = None,
    ) -> None:
        self.vars = vars
        self.parent = parent
        self.rt = rt
        self.from_vars = from_vars
        self.aggs = aggs

    def child(self, vars: dict[str, Any], from_vars: tuple[str, ...] = ()) -> Env:
        return Env(vars, self, self.rt, from_vars)

    def lookup(self, name: str) -> Any:
        """A variable, else a field of a FROM variable's struct, else a global.

        A name found nowhere is MISSING inside a query's FROM scope (a document
        lacking the field); outside any FROM, or in strict mode, it is an error."""
        env: Env | None = self
        while env is not None:
            value = env.vars.get(name, _NOT_FOUND)
            if value is not _NOT_FOUND:
                return value
            env = env.parent
        found = self.implicit_attribute(name)
        if found is _NOT_FOUND and self.rt.bindings:
            found = self.rt.bindings.get(name, _NOT_FOUND)
        if found is _NOT_FOUND:
            if self.rt.strict or not self.in_from():
                raise ProgrammingError(
                    f"undefined variable {name}" + (" (strict mode)" if self.in_from() else ""),
                    statement=self.rt.statement or None,
                )
            return MISSING
        return found

    def implicit_attribute(self, name: str) -> Any:
        """The field ``name`` of the nearest FROM variable's struct that has one."""
        env: Env | None = self
        while env is not None:
            for var in env.from_vars:
                value = env.vars.get(var)
                if isinstance(value, Mapping):
                    found = value.get(name, _NOT_FOUND)
                    if found is not _NOT_FOUND:
                        if self.rt.strict:
                            check_unambiguous(value, name)
                        return found
            env = env.parent
        return _NOT_FOUND

    def in_from(self) -> bool:
        """Whether this environment is a row of some FROM clause."""
        env: Env | None = self
        while env is not None:
            if env.from_vars:
                return True
            env = env.parent
        return False

    def aggregate(self, slot: int) -> Any:
        env: Env | None = self
        while env is not None:
            if env.aggs is not None and slot in env.aggs:
                return env.aggs[slot]
            env = env.parent
        return MISSING


def error_at(rt: Runtime, message: str, name: Any) -> ProgrammingError:
    """A ProgrammingError pointing at ``name`` in the statement, when the parser left
    its position on it (identifiers keep their line and column)."""
    return ProgrammingError(
        message,
        statement=rt.statement or None,
        line=getattr(name, "line", None),
        column=getattr(name, "column", None),
    )


def check_unambiguous(struct: Mapping[str, Any], name: str) -> None:
    """Strict mode: a field name that repeats in a struct names no one value."""
    if isinstance(struct, IonPyDict) and len(struct.get_all_values(name)) > 1:
        raise DataError(f"field {name} is ambiguous: the struct has it more than once")


Fn = Callable[[Env], Any]
Prepared = Callable[[Runtime], list[Any]]  # a compiled statement, run once per execution
