"""Imports flow one way (docs/STYLE.md): no two modules of ``ledger`` import each other,
directly or around a circle, counting every import (module level, inside functions,
under TYPE_CHECKING).  A circle hidden in a function-level import still ties the
modules together; breaking one means passing the lower module what it needs.

``from pkg import module`` counts as importing the module, not ``pkg/__init__.py``.
The circle inside ledger/journal/ is being restructured separately and is tolerated
here until then (JOURNAL_CIRCLE); any other circle fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ledger

ROOT = Path(ledger.__file__).parent
JOURNAL_CIRCLE = "ledger.journal."


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules.keys()
            found |= subs
            if len(subs) < len(node.names) and node.module in modules:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names} & modules.keys()
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        circles.append(sorted(component))
    return circles


def test_circle_finder_finds_a_hidden_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _circles(graph) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_imports_flow_one_way() -> None:
    circles = [c for c in _circles(_graph()) if not all(m.startswith(JOURNAL_CIRCLE) for m in c)]
    assert circles == []


def test_known_layers_import_each_other_one_way() -> None:
    """The circles broken so far stay broken: select -> sources -> evaluator, and the
    shell's session -> its backslash-command registry."""
    graph = _graph()
    assert "ledger.query.select" not in graph["ledger.query.evaluator"]
    assert "ledger.query.sources" not in graph["ledger.query.evaluator"]
    assert "ledger.query.select" not in graph["ledger.query.sources"]
    assert "ledger.cli.session" not in graph["ledger.cli.meta"]
    assert "ledger.cli.meta" in graph["ledger.cli.session"]
