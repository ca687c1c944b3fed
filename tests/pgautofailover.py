"""A pg_auto_failover formation on loopback for the failover tests: a monitor and two
data nodes (``pg_autoctl`` from Debian's ``postgresql-15-auto-failover``), each a
``pg_autoctl ... --run`` process in its own session, run as the ``postgres`` user
(PostgreSQL refuses root), in a temporary directory removed after.

With two data nodes pg_auto_failover keeps the standby synchronous (number_sync_standbys
0 and replication quorum on: a commit waits for the standby).  The monitor's health
checks are shortened so that it decides a failover within seconds of the primary dying.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pgserver

# the monitor's failure detection, in milliseconds (defaults 5000/5000/2/2000/20000/30000)
MONITOR_CONF = {
    "pgautofailover.health_check_period": "500",
    "pgautofailover.health_check_timeout": "500",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "200",
    "pgautofailover.node_considered_unhealthy_timeout": "2000",
    "pgautofailover.primary_demote_timeout": "2000",
}


def pg_autoctl() -> str | None:
    return shutil.which("pg_autoctl")


@dataclass
class Node:
    name: str
    pgdata: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None


@dataclass
class Formation:
    root: Path
    bin: Path
    user: str | None
    monitor: Node
    nodes: list[Node] = field(default_factory=list)

    @property
    def monitor_uri(self) -> str:
        return (f"postgresql://autoctl_node@127.0.0.1:{self.monitor.port}/pg_auto_failover"
                "?sslmode=disable")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PATH=f"{self.bin}:{env.get('PATH', '/usr/bin:/bin')}",
                   HOME=str(self.root), XDG_CONFIG_HOME=str(self.root / "config"),
                   XDG_DATA_HOME=str(self.root / "share"), XDG_RUNTIME_DIR=str(self.root / "run"))
        return env

    def spawn(self, node: Node, *args: str) -> None:
        with open(node.log, "ab") as log:
            node.proc = subprocess.Popen(
                ["pg_autoctl", *args], user=self.user, env=self.env(), cwd=str(self.root),
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def psql(self, node: Node, sql: str, db: str = "postgres") -> str:
        done = subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(node.port), "-U", "postgres",
             "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
            user=self.user, env=self.env(), cwd="/", capture_output=True, text=True, check=True)
        return done.stdout

    def states(self) -> dict[str, tuple[str, str]]:
        """Each data node's (reported state, goal state) as the monitor has them."""
        out = self.psql(self.monitor, "SELECT nodename, reportedstate, goalstate "
                        "FROM pgautofailover.node", db="pg_auto_failover")
        rows = [line.split("|") for line in out.splitlines() if line]
        return {name: (reported, goal) for name, reported, goal in rows}

    def wait_for(self, wanted: dict[str, str], seconds: float, nudge: Node | None = None) -> None:
        """Until each named node has reached (reported and goal) its state; ``nudge`` gets a
        CHECKPOINT now and then (pg_basebackup otherwise waits for a spread one)."""
        deadline = time.monotonic() + seconds
        seen: dict[str, tuple[str, str]] = {}
        while time.monotonic() < deadline:
            try:
                seen = self.states()
            except subprocess.CalledProcessError:
                seen = {}
            if nudge is not None:
                self.psql(nudge, "CHECKPOINT")
            if all(seen.get(n, ("", ""))[0] == s and seen[n][1] == s for n, s in wanted.items()):
                return
            for node in (self.monitor, *self.nodes):
                if node.proc is not None and node.proc.poll() is not None and node.name in wanted:
                    raise RuntimeError(f"pg_autoctl {node.name} exited:\n{self.tail(node)}")
            time.sleep(0.2)
        logs = "\n".join(self.tail(n) for n in (self.monitor, *self.nodes))
        raise RuntimeError(f"formation never reached {wanted} (last {seen}):\n{logs}")

    def tail(self, node: Node, n: int = 3000) -> str:
        text = node.log.read_text(errors="replace") if node.log.exists() else ""
        return f"--- {node.name} ---\n{text[-n:]}"

    def url(self, ledger: str) -> str:
        """The multi-host URL a client gives: every data node, the read-write one wins."""
        hosts = ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)
        return (f"postgresql://{pgserver.ROLE}:{pgserver.PASSWORD}@{hosts}/{pgserver.DATABASE}"
                f"?ledger={ledger}&target_session_attrs=read-write&connect_timeout=2")

    def primary(self) -> Node:
        states = self.states()
        return next(n for n in self.nodes if states.get(n.name) == ("primary", "primary"))

    def kill(self, node: Node) -> None:
        """SIGKILL the node's pg_autoctl (keeper and supervisor) and its PostgreSQL: the
        machine is gone, nothing restarts it."""
        pid = node.postmaster_pid()
        if node.proc is not None:
            try:
                os.killpg(node.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            node.proc.wait(10)
        if pid is not None:
            _kill_tree(pid)

    def stop(self) -> None:
        for node in (*self.nodes, self.monitor):
            if node.proc is not None and node.proc.poll() is None:
                os.killpg(node.proc.pid, signal.SIGINT)  # pg_autoctl's fast stop of its postgres
        for node in (*self.nodes, self.monitor):
            if node.proc is not None:
                try:
                    node.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
            self.kill(node)
        shutil.rmtree(self.root, ignore_errors=True)


def _kill_tree(pid: int) -> None:
    children = [int(p) for p in os.listdir("/proc") if p.isdigit() and pgserver._ppid(int(p)) == pid]
    for victim in (pid, *children):
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_formation() -> Formation:
    """A monitor, a primary ``node1`` and its synchronous standby ``node2``, all running;
    the ``ledger`` role and database exist (scram-sha-256 over TCP)."""
    binary = pgserver.pg_bin()
    if binary is None or pg_autoctl() is None:
        raise FileNotFoundError("pg_autoctl or PostgreSQL is not installed")
    user = pgserver._run_as()
    root = Path(tempfile.mkdtemp(prefix="ledger-paf-"))
    for sub in ("config", "share", "run"):
        (root / sub).mkdir()
    os.chmod(root / "run", 0o700)

    def node(name: str) -> Node:
        return Node(name, root / name, pgserver.free_port(), root / f"{name}.log")

    formation = Formation(root, binary, user, node("monitor"))
    pgserver._chown(root, user)
    try:
        _start(formation, node)
    except BaseException:
        formation.stop()
        raise
    return formation


def _start(formation: Formation, node) -> None:
    common = ("--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl",
              "--pgctl", str(formation.bin / "pg_ctl"))
    mon = formation.monitor
    formation.spawn(mon, "create", "monitor", "--pgdata", str(mon.pgdata),
                    "--pgport", str(mon.port), *common, "--run")
    _wait_sql(formation, mon, "SELECT 1 FROM pgautofailover.formation", "pg_auto_failover")
    for name, value in MONITOR_CONF.items():
        formation.psql(mon, f"ALTER SYSTEM SET {name} = '{value}'")
    formation.psql(mon, "SELECT pg_reload_conf()")
    for k, state in ((1, {"node1": "single"}), (2, {"node1": "primary", "node2": "secondary"})):
        data = node(f"node{k}")
        formation.nodes.append(data)
        formation.spawn(data, "create", "postgres", "--pgdata", str(data.pgdata),
                        "--pgport", str(data.port), "--name", data.name, *common,
                        "--monitor", formation.monitor_uri, "--run")
        formation.wait_for(state, 60, nudge=formation.nodes[0] if k == 2 else None)
        if k == 1:
            _setup_ledger_role(formation, data)


def _setup_ledger_role(formation: Formation, primary: Node) -> None:
    formation.psql(primary, f"CREATE ROLE {pgserver.ROLE} LOGIN PASSWORD '{pgserver.PASSWORD}'")
    formation.psql(primary, f"CREATE DATABASE {pgserver.DATABASE} OWNER {pgserver.ROLE}")
    with open(primary.pgdata / "pg_hba.conf", "a") as f:  # copied to the standby's
        f.write(f"host {pgserver.DATABASE} {pgserver.ROLE} 127.0.0.1/32 scram-sha-256\n")
    formation.psql(primary, "SELECT pg_reload_conf()")


def _wait_sql(formation: Formation, node: Node, sql: str, db: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            formation.psql(node, sql, db)
            return
        except subprocess.CalledProcessError:
            if node.proc is not None and node.proc.poll() is not None:
                raise RuntimeError(f"pg_autoctl {node.name} exited:\n{formation.tail(node)}") from None
            time.sleep(0.2)
    raise RuntimeError(f"{node.name} never answered:\n{formation.tail(node)}")
