"""kinesalite (a Kinesis-compatible server on Node.js) for the tests and benchmarks.

``install()`` puts kinesalite into ~/.cache/ledger-tests/kinesalite with npm (once);
``Kinesalite()`` starts it in memory on 127.0.0.1 on a free port, logging to a file,
and ``stop()`` ends it.  ``available()`` says whether node and npm are installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

VERSION = "3.3.3"
CACHE = Path(os.environ.get("LEDGER_TEST_CACHE", Path.home() / ".cache" / "ledger-tests"))
LAUNCHER = """
const kinesalite = require(process.argv[2]);
const server = kinesalite({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100});
server.listen(Number(process.argv[3]), '127.0.0.1', () => console.log('ready'));
"""


def available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def install() -> Path:
    """The kinesalite module directory, installed with npm on first use."""
    home = CACHE / "kinesalite"
    module = home / "node_modules" / "kinesalite"
    if not (module / "index.js").exists():
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(home), f"kinesalite@{VERSION}"],
            check=True, capture_output=True, timeout=600,
        )
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Kinesalite:
    """A running kinesalite; ``url`` is its endpoint."""

    def __init__(self, workdir: Path) -> None:
        module = install()
        workdir.mkdir(parents=True, exist_ok=True)
        script = workdir / "launch.js"
        script.write_text(LAUNCHER)
        self.log = workdir / "kinesalite.log"
        self.port = free_port()
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                ["node", str(script), str(module), str(self.port)], stdout=log, stderr=log
            )
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kinesalite exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("kinesalite did not start within 30 s")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
