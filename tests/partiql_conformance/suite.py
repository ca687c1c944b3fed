"""Reading the PartiQL conformance suite: Ion files -> one ``Case`` per assertion and mode.

The suite's format (partiql-tests-schema.isl): a file holds test cases, namespaces
(lists, usually annotated with their name) holding more of the same, ``envs::{...}``
structs giving the global bindings of the tests beside them, and
``equiv_class::{id, statements}`` naming several statements a test may refer to by
symbol.  A test is ``{name, statement, env?, assert}``; ``assert`` is one assertion or a
list, and an evaluation assertion covers one or both evaluation modes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amazon.ion import simpleion

SYNTAX_SUCCESS = "SyntaxSuccess"
SYNTAX_FAIL = "SyntaxFail"
STATIC_FAIL = "StaticAnalysisFail"
EVAL_SUCCESS = "EvaluationSuccess"
EVAL_FAIL = "EvaluationFail"

STRICT = "strict"  # the suite's EvalModeError: a type error raises
PERMISSIVE = "permissive"  # the suite's EvalModeCoerce: a type error yields MISSING
_MODES = {"EvalModeError": STRICT, "EvalModeCoerce": PERMISSIVE}

# what a case checks, for reporting and targets
EVAL = "eval"
SYNTAX = "syntax"
STATIC = "static"

TOP_LEVEL = ("eval", "eval-equiv", "success", "fail")


@dataclass(frozen=True)
class Case:
    """One assertion of one test, in one evaluation mode (None outside evaluation)."""

    file: str  # relative to the directory the run was given, '/'-separated
    name: str
    statements: tuple[str, ...]  # one, or every statement of an equivalence class
    env: Any  # the global bindings (an Ion struct), or None
    result: str  # SyntaxSuccess | SyntaxFail | StaticAnalysisFail | Evaluation*
    mode: str | None = None  # strict | permissive for evaluation assertions
    output: Any = None  # the expected value of an EvaluationSuccess

    @property
    def category(self) -> str:
        if self.result in (SYNTAX_SUCCESS, SYNTAX_FAIL):
            return SYNTAX
        if self.result == STATIC_FAIL:
            return STATIC
        return EVAL

    @property
    def directory(self) -> str:
        return self.file.rpartition("/")[0] or "."

    @property
    def id(self) -> str:
        """Unique within a run: file, test name and mode."""
        suffix = f" [{self.mode}]" if self.mode else ""
        return f"{self.file}::{self.name}{suffix}"


def load(directories: list[Path]) -> list[Case]:
    """Every case of every ``.ion`` file below the directories, in a stable order."""
    cases: list[Case] = []
    for directory in directories:
        prefix = _label(directory)
        for path in sorted(directory.rglob("*.ion")):
            relative = "/".join(filter(None, [prefix, *path.relative_to(directory).parts]))
            cases.extend(load_file(path, relative))
    return cases


def _label(directory: Path) -> str:
    """How files below ``directory`` are named: from the suite's data root when the
    directory is one of its top-level folders (or the root itself), else its own name."""
    if any((directory / top).is_dir() for top in TOP_LEVEL):
        return ""
    parts = directory.resolve().parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in TOP_LEVEL:
            return "/".join(parts[i:])
    return directory.name


def load_file(path: Path, label: str) -> Iterator[Case]:
    data = simpleion.loads(path.read_text("utf-8"), single_value=False)
    classes = dict(_equiv_classes(data))
    yield from _walk(data, None, label, classes)


def _annotations(value: Any) -> list[str]:
    return [str(getattr(a, "text", a)) for a in getattr(value, "ion_annotations", ()) or ()]


def text(value: Any) -> str:
    """The text of an Ion symbol or string."""
    return str(getattr(value, "text", value))


def _is_test(value: Any) -> bool:
    return isinstance(value, Mapping) and "statement" in value and "assert" in value


def _equiv_classes(value: Any) -> Iterator[tuple[str, tuple[str, ...]]]:
    if isinstance(value, Mapping) and "equiv_class" in _annotations(value):
        yield text(value["id"]), tuple(str(s) for s in value["statements"])
    elif isinstance(value, list):
        for item in value:
            yield from _equiv_classes(item)


def _walk(value: Any, env: Any, label: str, classes: dict[str, tuple[str, ...]]) -> Iterator[Case]:
    if _is_test(value):
        yield from _cases(value, env, label, classes)
    elif isinstance(value, list):
        env = next((v for v in value if "envs" in _annotations(v)), env)
        for item in value:
            yield from _walk(item, env, label, classes)


def _cases(
    test: Mapping[str, Any], env: Any, label: str, classes: dict[str, tuple[str, ...]]
) -> Iterator[Case]:
    statement = test["statement"]
    # a symbol names an equivalence class; a string is the statement itself
    statements = (statement,) if isinstance(statement, str) else classes[text(statement)]
    checks = test["assert"] if isinstance(test["assert"], list) else [test["assert"]]
    env = test.get("env", env)
    for check in checks:
        result = text(check["result"])
        modes = check.get("evalMode")
        if modes is None:
            yield Case(label, str(test["name"]), statements, env, result)
            continue
        for mode in modes if isinstance(modes, list) else [modes]:
            yield Case(
                label,
                str(test["name"]),
                statements,
                env,
                result,
                _MODES[text(mode)],
                check.get("output"),
            )
