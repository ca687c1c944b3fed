"""The real QLDB clients, each in its own cached environment (built once, then reused).

pyqldb 3.2.4 needs amazon.ion <= 0.9.3 and boto3 after 1.40.60 has no QLDB models, so
they cannot share the project's venv: a separate venv under ~/.cache/ledger-tests holds
pyqldb, boto3/botocore 1.40.60 and awscli 1.42.60, keyed by their versions.  The
Node.js driver 3.1.0 and its peer dependencies go into a cached npm directory.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE = Path(os.environ.get("LEDGER_TEST_CACHE", Path.home() / ".cache" / "ledger-tests"))
PY_PACKAGES = ["pyqldb==3.2.4", "boto3==1.40.60", "botocore==1.40.60", "awscli==1.42.60"]
PY_KEY = "qldb-clients-venv-" + "-".join(p.replace("==", "") for p in PY_PACKAGES)
NODE_PACKAGES = [
    "amazon-qldb-driver-nodejs@3.1.0",
    "@aws-sdk/client-qldb-session@3.918.0",
    "@aws-sdk/client-qldb@3.918.0",
    "ion-js@5.2.1",
    "jsbi@3.2.5",
]
NODE_KEY = "qldb-node-" + "-".join(p.rsplit("@", 1)[1] for p in NODE_PACKAGES)


class Unavailable(Exception):
    """The toolchain to build an environment is missing (tests skip, saying why)."""


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def python_clients() -> Path:
    """The venv's python, building the venv on first use."""
    venv = CACHE / PY_KEY
    python = venv / "bin" / "python"
    with _locked(venv):
        if (venv / ".complete").exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PY_PACKAGES],
            check=True,
        )
        (venv / ".complete").write_text("\n".join(PY_PACKAGES) + "\n")
    return python


def node_clients() -> Path:
    """The directory whose node_modules hold the Node.js driver (npm needed)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise Unavailable("node and npm are not installed")
    root = CACHE / NODE_KEY
    with _locked(root):
        if (root / ".complete").exists():
            return root
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        (root / "package.json").write_text('{"name": "ledger-qldb-clients", "private": true}\n')
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", *NODE_PACKAGES],
            cwd=root,
            check=True,
        )
        (root / ".complete").write_text("\n".join(NODE_PACKAGES) + "\n")
    return root


if __name__ == "__main__":
    print(python_clients())
    print(node_clients())
