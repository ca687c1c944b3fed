"""The PartiQL conformance suite, run against ``ledger.query``.

``python -m tests.partiql_conformance DIR... [--json | --markdown]`` runs every test of
the suite's Ion files below the directories (its format: partiql-tests'
``partiql-tests-data``): syntax tests parse or refuse to, evaluation tests run in the
strict (``EvalModeError``) or permissive (``EvalModeCoerce``) typing mode they name.
``skips`` is the one list of what is not run and why; ``test_conformance_suite``
asserts the pass-rate targets and that no case in ``baseline.txt`` regresses.

Modules, in the order a run uses them: ``suite`` (loading), ``skips``, ``run``
(one case: execute and judge, with ``compare`` and an empty ``context``), ``report``
(tallies and their renderings), ``__main__`` (the command line).
"""

from __future__ import annotations

from .report import Summary, summarize
from .run import FAIL, PASS, SKIP, Result, run_all, run_case
from .suite import Case, load

__all__ = [
    "Case",
    "Result",
    "Summary",
    "load",
    "run_case",
    "run_all",
    "summarize",
    "PASS",
    "FAIL",
    "SKIP",
]
