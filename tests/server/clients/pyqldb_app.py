"""A QLDB application written for pyqldb 3.2.4, unchanged: only AWS_ENDPOINT_URL_QLDB_SESSION
(and the region and credentials) point it at `ledger serve`.

Run in the clients' venv: ``python pyqldb_app.py SCENARIO LEDGER [ARGS]``; the last line
printed is a JSON object with what the scenario saw, which the test asserts on.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from botocore.exceptions import ClientError
from pyqldb.config.retry_config import RetryConfig
from pyqldb.driver.qldb_driver import QldbDriver


def out(value):
    print(json.dumps(value, default=str), flush=True)


def plain(value):
    """Ion values (IonPy*) as JSON-able Python."""
    if isinstance(value, bool):
        return bool(value)
    if hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return None if value is None else str(value)


def basic(ledger):
    driver = QldbDriver(ledger)
    driver.execute_lambda(lambda tx: tx.execute_statement("CREATE TABLE Vehicle"))
    driver.execute_lambda(lambda tx: tx.execute_statement("CREATE INDEX ON Vehicle (VIN)"))

    def insert(tx):
        ids = []
        for i in range(5):
            cursor = tx.execute_statement(
                "INSERT INTO Vehicle ?", {"VIN": f"VIN{i}", "Year": 2000 + i, "Owner": {"Name": f"n{i}"}}
            )
            ids.extend(row["documentId"] for row in cursor)
        return ids

    ids = driver.execute_lambda(insert)
    rows = driver.execute_lambda(
        lambda tx: [plain(r) for r in tx.execute_statement("SELECT * FROM Vehicle WHERE Year >= ?", 2002)]
    )
    one = driver.execute_lambda(
        lambda tx: [plain(r) for r in tx.execute_statement("SELECT VALUE v.Owner.Name FROM Vehicle AS v WHERE v.VIN = ?", "VIN1")]
    )
    updated = driver.execute_lambda(
        lambda tx: [plain(r) for r in tx.execute_statement("UPDATE Vehicle AS v SET v.Year = 1999 WHERE v.VIN = 'VIN0'")]
    )
    tables = sorted(driver.list_tables())
    driver.close()
    out({"ids": ids, "rows": rows, "one": one, "updated": updated, "tables": tables})


def paging(ledger, count):
    count = int(count)
    driver = QldbDriver(ledger, read_ahead=2)
    driver.execute_lambda(lambda tx: tx.execute_statement("CREATE TABLE Item"))
    for start in range(0, count, 40):
        batch = [{"n": n, "pad": "x" * 50} for n in range(start, min(start + 40, count))]
        driver.execute_lambda(lambda tx, b=batch: tx.execute_statement("INSERT INTO Item ?", b))

    def read(tx):
        cursor = tx.execute_statement("SELECT VALUE i.n FROM Item AS i")
        return [int(n) for n in cursor]

    seen = driver.execute_lambda(read)
    driver.close()
    out({"count": len(seen), "distinct": len(set(seen)), "sum": sum(seen)})


def race(ledger):
    """Two drivers read one document, then both write it: one OCC conflict, one retry."""
    setup = QldbDriver(ledger)
    setup.execute_lambda(lambda tx: tx.execute_statement("CREATE TABLE Counter"))
    setup.execute_lambda(lambda tx: tx.execute_statement("INSERT INTO Counter ?", {"name": "c", "value": 0}))
    barrier = threading.Barrier(2)
    attempts = []
    lock = threading.Lock()

    def bump(tx, who):
        first = not any(a == who for a in attempts)
        with lock:
            attempts.append(who)
        (value,) = list(tx.execute_statement("SELECT VALUE c.value FROM Counter AS c WHERE c.name = 'c'"))
        if first:
            barrier.wait(timeout=30)  # both have read before either writes
        tx.execute_statement("UPDATE Counter AS c SET c.value = ? WHERE c.name = 'c'", int(value) + 1)
        return int(value) + 1

    results = {}

    def run(who):
        driver = QldbDriver(ledger, retry_config=RetryConfig(retry_limit=4))
        results[who] = driver.execute_lambda(lambda tx: bump(tx, who))
        driver.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (final,) = setup.execute_lambda(
        lambda tx: [int(v) for v in tx.execute_statement("SELECT VALUE c.value FROM Counter AS c")]
    )
    setup.close()
    out({"attempts": attempts, "results": results, "final": final})


def swallowed(ledger):
    """A failed statement caught inside the lambda; the transaction still commits."""
    driver = QldbDriver(ledger)
    driver.execute_lambda(lambda tx: tx.execute_statement("CREATE TABLE Person"))
    caught = []

    def work(tx):
        try:
            tx.execute_statement("SELECT * FROM NoSuchTable")
        except ClientError as exc:
            caught.append(exc.response["Error"]["Code"])
        tx.execute_statement("INSERT INTO Person ?", {"GovId": "P9", "Name": "Zed"})
        try:
            tx.execute_statement("INSERT INTO Person ?", "not a struct")
        except ClientError as exc:
            caught.append(exc.response["Error"]["Code"])
        return "done"

    result = driver.execute_lambda(work)
    names = driver.execute_lambda(
        lambda tx: [str(n) for n in tx.execute_statement("SELECT VALUE p.Name FROM Person AS p")]
    )
    driver.close()
    out({"result": result, "caught": caught, "names": names})


def expired(ledger, sleep):
    """A transaction that outlives the server's timeout: refused as expired, not retried."""
    driver = QldbDriver(ledger)
    driver.execute_lambda(lambda tx: tx.execute_statement("CREATE TABLE Slow"))
    calls = []

    def slow(tx):
        calls.append(1)
        tx.execute_statement("INSERT INTO Slow ?", {"a": 1})
        time.sleep(float(sleep))
        tx.execute_statement("INSERT INTO Slow ?", {"a": 2})

    error = None
    try:
        driver.execute_lambda(slow)
    except ClientError as exc:
        error = {"code": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}
    count = driver.execute_lambda(
        lambda tx: len(list(tx.execute_statement("SELECT * FROM Slow")))
    )
    driver.close()
    out({"error": error, "calls": len(calls), "rows": count})


def restart(ledger):
    """Use a pooled session, let the test restart the server, use the driver again."""
    driver = QldbDriver(ledger)
    driver.execute_lambda(lambda tx: tx.execute_statement("CREATE TABLE R"))
    driver.execute_lambda(lambda tx: tx.execute_statement("INSERT INTO R ?", {"step": 1}))
    print("READY", flush=True)
    sys.stdin.readline()  # the test restarts the server, then writes a line
    driver.execute_lambda(lambda tx: tx.execute_statement("INSERT INTO R ?", {"step": 2}))
    steps = driver.execute_lambda(
        lambda tx: sorted(int(s) for s in tx.execute_statement("SELECT VALUE r.step FROM R AS r"))
    )
    driver.close()
    out({"steps": steps})


def load(ledger, seconds, worker, wait=""):
    """Insert one document per transaction for SECONDS; print every acknowledged key.

    With WAIT ("wait"), warm up first (imports, session, one transaction), print READY
    and start when a line arrives on stdin: every client then runs at the same time."""
    driver = QldbDriver(ledger)
    acked = []
    latencies = []
    error = None
    n = 0
    if wait:
        key = f"{worker}-warm"
        driver.execute_lambda(lambda tx: tx.execute_statement("INSERT INTO Load ?", {"k": key}))
        acked.append(key)
        print("READY", flush=True)
        sys.stdin.readline()
    deadline = time.monotonic() + float(seconds)
    cpu = time.process_time()
    while time.monotonic() < deadline:
        key = f"{worker}-{n}"
        t0 = time.perf_counter()
        try:
            driver.execute_lambda(lambda tx, k=key: tx.execute_statement("INSERT INTO Load ?", {"k": k}))
        except Exception as exc:  # the server went away (a test stops it): report, stop
            error = type(exc).__name__
            break
        latencies.append(time.perf_counter() - t0)
        acked.append(key)
        n += 1
    cpu = time.process_time() - cpu
    if error is None:
        driver.close()
    out({"acked": acked, "latencies": latencies, "cpu": cpu, "error": error})


SCENARIOS = {
    "basic": basic,
    "paging": paging,
    "race": race,
    "swallowed": swallowed,
    "expired": expired,
    "restart": restart,
    "load": load,
}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]](*sys.argv[2:])
