"""Tallies of a run: per directory and kind of check, as text, JSON or a Markdown table.

A *kind* is what a case checks: evaluation in one mode (``eval strict``,
``eval permissive``), ``syntax`` (SyntaxSuccess/SyntaxFail) or ``static``
(StaticAnalysisFail).  Skipped cases are "n/a" (PartiQL outside QLDB's dialect) or
"differs" (a deliberate difference, see ``skips``).  The pass rate is passed among the
cases that ran; "of applicable" also counts the deliberate differences as not passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .run import FAIL, PASS, SKIP, Result
from .skips import DIFFERS
from .suite import EVAL, Case

KIND_ORDER = ("eval permissive", "eval strict", "syntax", "static")


def kind_of(case: Case) -> str:
    return f"{EVAL} {case.mode}" if case.category == EVAL else case.category


@dataclass
class Tally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    differs: int = 0  # of the skipped: deliberate differences

    def add(self, result: Result) -> None:
        if result.outcome == PASS:
            self.passed += 1
        elif result.outcome == FAIL:
            self.failed += 1
        else:
            self.skipped += 1
            self.differs += result.skip_kind == DIFFERS

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped

    @property
    def ran(self) -> int:
        return self.passed + self.failed

    @property
    def not_applicable(self) -> int:
        return self.skipped - self.differs

    @property
    def rate(self) -> float:
        """Passed among the cases that ran (1.0 when none ran)."""
        return self.passed / self.ran if self.ran else 1.0

    @property
    def applicable_rate(self) -> float:
        """Passed among the cases in the dialect, deliberate differences included."""
        applicable = self.ran + self.differs
        return self.passed / applicable if applicable else 1.0


@dataclass
class Summary:
    """Tallies by (directory, kind) and by kind over everything."""

    depth: int | None = None
    rows: dict[tuple[str, str], Tally] = field(default_factory=dict)
    kinds: dict[str, Tally] = field(default_factory=dict)
    overall: Tally = field(default_factory=Tally)

    def add(self, result: Result) -> None:
        key = (group(result.case.directory, self.depth), kind_of(result.case))
        self.rows.setdefault(key, Tally()).add(result)
        self.kinds.setdefault(key[1], Tally()).add(result)
        self.overall.add(result)

    def sorted_rows(self) -> list[tuple[str, str, Tally]]:
        keys = sorted(self.rows, key=lambda k: (k[0], _kind_rank(k[1])))
        return [(d, k, self.rows[(d, k)]) for d, k in keys]

    def sorted_kinds(self) -> list[tuple[str, Tally]]:
        return [(k, self.kinds[k]) for k in sorted(self.kinds, key=_kind_rank)]


def _kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def group(directory: str, depth: int | None) -> str:
    """A directory cut to its first ``depth`` parts (None keeps it whole)."""
    if depth is None:
        return directory
    return "/".join(directory.split("/")[:depth])


def summarize(results: Iterable[Result], depth: int | None = None) -> Summary:
    summary = Summary(depth)
    for result in results:
        summary.add(result)
    return summary


# ---------------------------------------------------------------- renderings


def _percent(tally: Tally) -> str:
    return f"{100 * tally.rate:.1f}%" if tally.ran else "-"


def _applicable_percent(tally: Tally) -> str:
    return f"{100 * tally.applicable_rate:.1f}%" if tally.ran + tally.differs else "-"


def text_lines(results: list[Result], summary: Summary, quiet: bool = False) -> list[str]:
    """One line per case (unless ``quiet``), then one per directory, then totals."""
    lines = [] if quiet else [_case_line(r) for r in results]
    width = max((len(d) for d, _, _ in summary.sorted_rows()), default=9)
    header = (
        f"{'directory':<{width}}  {'kind':<16} {'pass':>5} {'fail':>5} {'diff':>5} {'n/a':>5}  rate"
    )
    lines += ["", header, "-" * len(header)]
    for directory, kind, tally in summary.sorted_rows():
        lines.append(_tally_line(directory, kind, tally, width))
    lines += ["-" * len(header)]
    for kind, tally in summary.sorted_kinds():
        lines.append(_tally_line("total", kind, tally, width))
    return lines


def _case_line(result: Result) -> str:
    label = {PASS: "PASS", FAIL: "FAIL", SKIP: "SKIP"}[result.outcome]
    line = f"{label} {result.case.id}"
    return f"{line}\n     {result.detail}" if result.detail else line


def _tally_line(directory: str, kind: str, tally: Tally, width: int) -> str:
    return (
        f"{directory:<{width}}  {kind:<16} {tally.passed:>5} {tally.failed:>5} "
        f"{tally.differs:>5} {tally.not_applicable:>5}  {_percent(tally)}"
    )


def to_json(results: list[Result], summary: Summary) -> dict[str, Any]:
    overall = summary.overall
    return {
        "total": overall.total,
        "passed": overall.passed,
        "failed": overall.failed,
        "skipped": overall.skipped,
        "kinds": {kind: _tally_json(t) for kind, t in summary.sorted_kinds()},
        "directories": [
            {"directory": directory, "kind": kind, **_tally_json(t)}
            for directory, kind, t in summary.sorted_rows()
        ],
        "results": [r.to_json() for r in results],
    }


def _tally_json(tally: Tally) -> dict[str, Any]:
    return {
        "passed": tally.passed,
        "failed": tally.failed,
        "skipped": tally.skipped,
        "differs": tally.differs,
        "rate": tally.rate,
        "applicable_rate": tally.applicable_rate,
    }


def markdown(summary: Summary) -> str:
    """The conformance table: one row per directory and kind, then the totals."""
    lines = [
        "| directory | kind | passed | failed | differs | n/a | pass rate | of applicable |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for directory, kind, tally in summary.sorted_rows():
        lines.append(_markdown_row(f"`{directory}`", kind, tally))
    for kind, tally in summary.sorted_kinds():
        lines.append(_markdown_row("**total**", f"**{kind}**", tally))
    return "\n".join(lines)


def _markdown_row(directory: str, kind: str, tally: Tally) -> str:
    return (
        f"| {directory} | {kind} | {tally.passed} | {tally.failed} | {tally.differs} "
        f"| {tally.not_applicable} | {_percent(tally)} | {_applicable_percent(tally)} |"
    )
