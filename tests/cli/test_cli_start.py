"""A fast start: what each command imports (structure, not timing; G11 in bench times it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ledger
from ledger.cli import options, output

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import sys
import ledger.cli.main as m
sys.argv = ["ledger", *{args!r}]
try:
    m.main()
except SystemExit:
    pass
print("MODULES", " ".join(sorted(sys.modules)), file=sys.stderr)
"""


def _modules(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def _loaded(modules: set[str], *prefixes: str) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in prefixes or m.startswith(prefixes))


def test_version_loads_no_engine() -> None:
    loaded = _modules("--version")
    assert (
        _loaded(
            loaded,
            "ledger.query",
            "ledger.journal",
            "ledger.database",
            "amazon",
            "lark",
            "lmdb",
            "pygments",
            "prompt_toolkit",
            "cryptography",
        )
        == []
    )


def test_execute_loads_no_shell_and_no_audit_side(tmp_path: Path) -> None:
    path = tmp_path / "l.ledger"
    ledger.connect(path).close()
    loaded = _modules("execute", str(path), "SELECT * FROM information_schema.user_tables")
    assert "ledger.query.executor" in loaded  # it did run the statement
    assert (
        _loaded(
            loaded,
            "pygments",
            "prompt_toolkit",
            "cryptography",
            "ledger.proof.export",
            "ledger.proof.verify",
            "ledger.load",
            "ledger.cli.journal_commands",
        )
        == []
    )


def test_version_hook_and_lazy_commands(run) -> None:  # type: ignore[no-untyped-def]
    result = run("--version")
    from ledger.hashing.native import CORE_NAME  # what actually loads, in this process

    assert result.stdout == f"ledger, version {ledger.__version__} ({CORE_NAME} core)\n"
    listed = run("--help").stdout
    for name in ("load", "verify", "get-digest", "export", "keygen", "create"):
        assert f"  {name} " in listed


def test_format_names_match_the_formatters() -> None:
    assert options.FORMATS == output.FORMATS
