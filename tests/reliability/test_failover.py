"""Failover: a primary and a synchronous standby on loopback, writers in several
processes going through a multi-host URL (``target_session_attrs=read-write``); the
primary is killed with SIGKILL mid-load, the standby is promoted, the writers
reconnect and go on.  Afterwards every acknowledged transaction is in the journal
exactly once, the chain verifies, and the ledger takes writes.

Twice: once with the test promoting the standby itself (``pg_ctl promote``), once with
a real failover manager, pg_auto_failover (tests/pgautofailover.py: a monitor and two
data nodes under ``pg_autoctl``, synchronous replication, shortened health checks):
the primary's PostgreSQL and its pg_autoctl keeper are SIGKILLed and the monitor
promotes the standby on its own (about 8 s from the kill).  docs/postgres.md has the
recipe.  ``LEDGER_SOAK=1`` runs with more writers and longer load.
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
import pgautofailover  # noqa: E402
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

    def fail() -> None:
        pgserver.kill_server(primary)  # mid-load: commits in flight on every writer
        time.sleep(0.5)
        standby._pg("pg_ctl", "-D", str(standby.data), "-w", "promote")

    _writers_through_a_failover(url, fail)


@pytest.fixture
def formation():
    if pgautofailover.pg_autoctl() is None or pgserver.pg_bin() is None:
        pytest.skip("pg_autoctl is not installed (apt-get install postgresql-15-auto-failover; "
                    ".ci/run does it)")
    managed = pgautofailover.start_formation()
    try:
        yield managed
    finally:
        managed.stop()


def test_pg_auto_failover_promotes_the_standby_on_its_own(formation):
    """The same load, but nobody promotes: pg_auto_failover's monitor notices the dead
    primary (its keeper is killed too, so nothing restarts it) and promotes the standby."""
    old, new = formation.primary(), next(n for n in formation.nodes if n != formation.primary())
    url = formation.url("autofailover") + "&retry_seconds=60"

    def fail() -> None:
        formation.kill(old)  # pg_autoctl and PostgreSQL: the machine is gone
        formation.wait_for({new.name: "wait_primary"}, 60)

    _writers_through_a_failover(url, fail)
    states = formation.states()
    assert states[new.name] == ("wait_primary", "wait_primary"), states
    assert states[old.name][1] != "primary", states  # the monitor demoted the dead one
    promotions = formation.psql(  # the monitor's own record of its decision
        formation.monitor, "SELECT count(*) FROM pgautofailover.event WHERE nodename = "
        f"'{new.name}' AND goalstate = 'prepare_promotion'", db="pg_auto_failover")
    assert int(promotions) >= 1, promotions  # the decision, and the standby's report


def _writers_through_a_failover(url: str, fail) -> None:
    """Writers in several processes; ``fail()`` mid-load; they go on; nothing lost or doubled."""
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
    fail()
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
