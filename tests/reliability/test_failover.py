"""Failover: a primary and a synchronous standby on loopback, writers in several
processes going through a multi-host URL (``target_session_attrs=read-write``); the
primary is killed with SIGKILL mid-load, the standby is promoted, the writers
reconnect and go on.  Afterwards every acknowledged transaction is in the journal
exactly once, the chain verifies, and the ledger takes writes.

The promotion is done by the test (``pg_ctl promote``, what Patroni or
pg_auto_failover would do on their own; docs/postgres.md has the recipe with them).
``LEDGER_SOAK=1`` runs several failovers with more writers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import ledger

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pgserver  # noqa: E402

SOAK = os.environ.get("LEDGER_SOAK") == "1"
WRITERS = 4 if SOAK else 2
LOAD_SECONDS = 2.0 if SOAK else 1.0  # before the kill, and again after the promotion


def _writer(url: str, tag: str, conn, stop) -> None:  # a child process, its own pool
    with ledger.connect(url) as db:
        n = 0
        while not stop.is_set():
            doc = {"tag": f"{tag}-{n}"}
            db.execute_lambda(lambda tx, doc=doc: tx.execute("INSERT INTO Event ?", doc),
                              retries=50, backoff=0.05)
            conn.send(doc["tag"])  # acknowledged: committed on both servers
            n += 1


def _collect(pipes) -> list[str]:
    acked = []
    for pipe in pipes:
        try:
            while pipe.poll():
                acked.append(pipe.recv())
        except EOFError:
            pass  # the writer finished
    return acked


@pytest.fixture
def cluster():
    if pgserver.pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)")
    primary = pgserver.start_server(extra_conf=pgserver.REPLICATION_CONF)
    standby = None
    try:
        standby = pgserver.start_standby(primary)
        _wait_for_sync(primary)
        yield primary, standby
    finally:
        for server in (standby, primary):
            if server is not None:
                server.stop("immediate")
                server.remove()


def _wait_for_sync(primary) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if primary.psql("SELECT sync_state FROM pg_stat_replication").strip() == "sync":
            return
        time.sleep(0.1)
    raise AssertionError("the standby never became synchronous")


def test_writers_survive_the_primary_being_killed(cluster):
    primary, standby = cluster
    url = (f"postgresql://{pgserver.ROLE}:{pgserver.PASSWORD}@127.0.0.1:{primary.port},"
           f"127.0.0.1:{standby.port}/{pgserver.DATABASE}?ledger=failover"
           "&target_session_attrs=read-write&connect_timeout=2&retry_seconds=60")
    with ledger.connect(url) as db:
        db.execute("CREATE TABLE Event")
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    pipes, procs = [], []
    for k in range(WRITERS):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_writer, args=(url, f"w{k}", child, stop))
        proc.start()
        child.close()
        pipes.append(parent)
        procs.append(proc)
    acked: list[str] = []
    for pipe in pipes:  # everyone is writing
        assert pipe.poll(60)
    time.sleep(LOAD_SECONDS)
    acked += _collect(pipes)
    before_kill = len(acked)
    pgserver.kill_server(primary)  # mid-load: commits in flight on every writer
    time.sleep(0.5)
    standby._pg("pg_ctl", "-D", str(standby.data), "-w", "promote")
    deadline = time.monotonic() + 60
    after = before_kill
    while time.monotonic() < deadline and after < before_kill + 20 * WRITERS:
        time.sleep(0.2)
        acked += _collect(pipes)
        after = len(acked)
    time.sleep(LOAD_SECONDS)
    stop.set()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    acked += _collect(pipes)
    assert len(acked) > before_kill + 10, "the writers did not go on after the failover"

    with ledger.connect(url) as db:  # now the promoted standby
        tags = Counter(db.execute("SELECT VALUE e.tag FROM Event AS e"))
        lost = [t for t in acked if tags[t] == 0]
        twice = [t for t, n in tags.items() if n > 1]
        assert not lost, f"{len(lost)} acknowledged transactions lost"
        assert not twice, f"{len(twice)} transactions committed twice: {twice[:5]}"
        report = db.verify()
        assert report.verified, report.failure
        db.execute("INSERT INTO Event ?", {"tag": "after"})
