"""A throwaway PostgreSQL server for tests and benchmarks: initdb in a temporary
directory, started with pg_ctl on a free loopback port, stopped (and removed) after.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres``
system user that Debian's package creates.  TCP connections authenticate with
scram-sha-256 (role ``ledger``, password ``PASSWORD``); the Unix socket trusts its
local superuser.  The initdb result is cached under ~/.cache/ledger-tests/.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
ROLE = "ledger"
PASSWORD = "pw-not-in-logs"
DATABASE = "ledgertest"
CACHE = Path.home() / ".cache" / "ledger-tests"


def pg_bin() -> Path | None:
    for folder in PG_BIN_DIRS:
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    """The user the server runs as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return "postgres"


def _chown(path: Path, user: str | None) -> None:
    if user is not None:
        subprocess.run(["chown", "-R", f"{user}:", str(path)], check=True)


@dataclass
class PgServer:
    bin: Path
    root: Path  # holds data/ and the socket
    port: int
    user: str | None
    extra_conf: tuple[str, ...] = ()

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, ledger: str | None = None, *, password: bool = True, **params: str) -> str:
        auth = f"{ROLE}:{PASSWORD}" if password else ROLE
        query = dict(params)
        if ledger is not None:
            query["ledger"] = ledger
        tail = "&".join(f"{k}={v}" for k, v in query.items())
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{DATABASE}" + (f"?{tail}" if tail else "")

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]], user=self.user, check=check,
            capture_output=True, text=True, cwd="/",
        )

    def init(self) -> None:
        template = CACHE / f"pg-initdb-{self.bin.parent.name}"
        if not (template / "PG_VERSION").exists():
            fresh = Path(tempfile.mkdtemp(prefix="ledger-pg-init-"))
            _chown(fresh, self.user)
            self._pg("initdb", "-D", str(fresh / "data"), "-U", "postgres", "--auth-local=trust",
                     "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C")
            CACHE.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(template, ignore_errors=True)
            shutil.copytree(fresh / "data", template, symlinks=True)
            shutil.rmtree(fresh, ignore_errors=True)
        shutil.copytree(template, self.data, symlinks=True)
        os.chmod(self.data, 0o700)
        _chown(self.root, self.user)

    def conf(self) -> list[str]:
        return [
            f"port={self.port}", "listen_addresses='127.0.0.1'",
            f"unix_socket_directories='{self.root}'", "max_connections=200",
            "shared_buffers=64MB", "fsync=on", "synchronous_commit=on", "logging_collector=off",
            *self.extra_conf,
        ]

    def start(self) -> None:
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n".join(self.conf()) + "\n")
        done = self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w",
                        "-t", "60", "start", check=False)
        if done.returncode != 0:
            log = (self.root / "log").read_text(errors="replace") if (self.root / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr}\n{log[-2000:]}")

    def psql(self, sql: str, db: str = "postgres") -> str:
        done = self._pg("psql", "-h", str(self.root), "-p", str(self.port), "-U", "postgres",
                        "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql)
        return done.stdout

    def setup_role(self) -> None:
        self.psql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        self.psql(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def start_server(extra_conf: tuple[str, ...] = ()) -> PgServer:
    """A fresh server with the ``ledger`` role and database, ready for connections."""
    binary = pg_bin()
    if binary is None:
        raise FileNotFoundError("PostgreSQL's initdb/pg_ctl are not installed")
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="ledger-pg-"))
    os.chmod(root, 0o755)
    server = PgServer(binary, root, free_port(), user, extra_conf)
    try:
        server.init()
        server.start()
        server.setup_role()
    except BaseException:
        server.stop("immediate")
        server.remove()
        raise
    return server


# -- a primary and a synchronous standby (streaming replication) --------------------------------
REPLICATION_CONF = ("wal_level=replica", "max_wal_senders=5", "hot_standby=on", "wal_keep_size=64MB")


def start_standby(primary: PgServer) -> PgServer:
    """A hot standby of ``primary``, streaming from it, named ``standby1`` (the primary's
    synchronous standby: a commit is acknowledged once the standby has it on disk)."""
    root = Path(tempfile.mkdtemp(prefix="ledger-pg-standby-"))
    os.chmod(root, 0o755)
    _chown(root, primary.user)
    standby = PgServer(primary.bin, root, free_port(), primary.user, ())
    standby._pg("pg_basebackup", "-D", str(standby.data), "-h", str(primary.root),
                "-p", str(primary.port), "-U", "postgres", "-X", "stream", "-R", "--no-sync",
                "--checkpoint=fast")
    conninfo = (f"host={primary.root} port={primary.port} user=postgres "
                "application_name=standby1")
    with open(standby.data / "postgresql.auto.conf", "a") as f:
        f.write(f"primary_conninfo = '{conninfo}'\n")
    standby.start()
    # from now on a commit on the primary waits until the standby has it on disk
    primary.psql("ALTER SYSTEM SET synchronous_standby_names = 'standby1'")
    primary.psql("SELECT pg_reload_conf()")
    return standby


def kill_server(server: PgServer) -> None:
    """SIGKILL the postmaster and every process of the server: the machine is gone."""
    import signal

    pid = server.postmaster_pid()
    children = [p for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == pid]
    for victim in [pid, *map(int, children)]:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _ppid(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[1].split()[1])
