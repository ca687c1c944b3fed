"""G1–G6 for both cores: the compiled one in this process, the pure-Python twin in a
subprocess with ``LEDGER_PURE_PYTHON=1`` (the core is chosen at import, once).  Each
scenario's ``run`` returns the two rows, the compiled core first."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bench.stats import Row
from ledger.hashing import native

_ROOT = Path(__file__).resolve().parent.parent


def _labelled(row: Row, core: str) -> Row:
    note = f"[{core} core] {row.note}" if row.note else ""
    return dataclasses.replace(row, scenario=f"{row.scenario} [{core} core]", note=note)


def _pure(module: str, quick: bool) -> Row:
    code = (
        "import dataclasses, json, sys\n"
        f"from {module} import run_one\n"
        f"row = run_one({quick!r})\n"
        "sys.stdout.write('\\nROW ' + json.dumps(dataclasses.asdict(row)) + '\\n')\n"
    )
    env = {**os.environ, "LEDGER_PURE_PYTHON": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=_ROOT, check=True,
                          stdout=subprocess.PIPE, text=True)
    line = [x for x in done.stdout.splitlines() if x.startswith("ROW ")][-1]
    return Row(**json.loads(line[4:]))


def both(module: str, run_one: Callable[[bool], Row], quick: bool) -> list[Row]:
    if native.core is None:  # this process already runs the pure core
        return [_labelled(run_one(quick), native.CORE_NAME)]
    return [_labelled(run_one(quick), "compiled"), _labelled(_pure(module, quick), "pure-Python")]
