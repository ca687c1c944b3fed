"""``python -m tests.partiql_conformance DIR... [--json | --markdown] [--quiet]``.

Runs every case of the PartiQL conformance suite's files below the directories and
prints PASS/FAIL/SKIP per test, then a table per directory; ``--json`` prints
``{total, passed, failed, skipped, kinds, directories, results}`` instead, and
``--markdown`` only the per-directory table (for docs/dialect.md and the README).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .report import markdown, summarize, text_lines, to_json
from .run import run_all
from .suite import load

DEFAULT_MARKDOWN_DEPTH = 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    missing = [d for d in args.directories if not d.is_dir()]
    if missing:
        print(f"not a directory: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    results = run_all(load(args.directories))
    depth = (
        args.depth
        if args.depth is not None
        else (DEFAULT_MARKDOWN_DEPTH if args.markdown else None)
    )
    summary = summarize(results, depth)
    if args.json:
        print(json.dumps(to_json(results, summary), indent=1))
    elif args.markdown:
        print(markdown(summary))
    else:
        print("\n".join(text_lines(results, summary, quiet=args.quiet)))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.partiql_conformance",
        description="Run the PartiQL conformance suite against ledger.query.",
    )
    parser.add_argument("directories", nargs="+", type=Path, metavar="DIR")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the results as JSON")
    output.add_argument(
        "--markdown", action="store_true", help="print only the per-directory Markdown table"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="text output: the tables, not every test"
    )
    parser.add_argument(
        "--depth",
        type=int,
        default=None,
        help="group directories by their first N parts (default: whole; 2 with --markdown)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
