"""docs/server.md's examples run as written: its credentials file, its environment
variables, its pyqldb program (output as its comments say) and its AWS CLI lines."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "server.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(), re.S)


def _doc_env(server) -> dict[str, str]:
    env = server.client_env()
    exports = "\n".join(block for block in _blocks("sh") if "AWS_ACCESS_KEY_ID" in block)
    for name, value in re.findall(r"(AWS_[A-Z_]+)=(\S+)", exports):
        env[name] = value
    env["AWS_ENDPOINT_URL_QLDB_SESSION"] = env["AWS_ENDPOINT_URL_QLDB"] = server.url  # the test's port
    return env


def _cli(client_python: Path, line: str, env: dict[str, str]) -> str:
    args = shlex.split(line)
    assert args[0] == "aws"
    proc = subprocess.run([str(client_python.parent / "aws"), *args[1:]], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, f"{line}\n{proc.stderr}"
    return proc.stdout


def test_the_documented_examples_run_as_written(start_server, client_python, tmp_path):
    (ini,) = _blocks("ini")
    credentials = tmp_path / "doc-credentials"
    credentials.write_text(ini)
    server = start_server("--credentials", str(credentials), auth=False)
    env = _doc_env(server)
    assert env["AWS_ACCESS_KEY_ID"] == "AKIDLEDGEREXAMPLE1"
    create = next(b for b in _blocks("sh") if "create-ledger" in b)
    _cli(client_python, create.strip(), env)
    (program,) = _blocks("python")
    proc = subprocess.run([str(client_python), "-c", program], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    expected = [line.split("#", 1)[1].strip() for line in program.splitlines() if line.startswith("print(")]
    assert proc.stdout.splitlines() == expected
    cli = next(b for b in _blocks("sh") if "aws qldb list-ledgers" in b)
    outputs = [_cli(client_python, line, env) for line in cli.strip().splitlines()]
    assert "vehicle-registration" in outputs[0]
    assert '"team": "dmv"' in outputs[3]
    gone = subprocess.run([str(client_python.parent / "aws"), "qldb", "describe-ledger", "--name", "vehicle-registration"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert gone.returncode != 0 and "ResourceNotFoundException" in gone.stderr
