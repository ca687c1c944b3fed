"""The PostgreSQL implementation of the storage interface (psycopg 3 and psycopg_pool).

A ledger is a schema (``ledger_<name>``) in a database; several ledgers share one
database.  The schema holds three tables:

- ``kv (db smallint, k bytea, v bytea)``: every named database of kv.DBS, ``db`` being
  its position there; bytea compares as unsigned bytes, as the interface wants;
- ``tip (id, commits)``: one row, locked ``FOR UPDATE`` by every write, so the writers
  of one ledger (any process, any machine) take turns;
- ``commits (token)``: one row per write, so a write whose COMMIT was cut off (the
  server crashed, a failover) can learn whether it committed before running again.

Reads are ``REPEATABLE READ READ ONLY`` transactions (a snapshot).  A write runs in
``READ COMMITTED`` after taking the tip lock: every writer waits for that lock, so
nothing commits while it holds it and each statement sees one state.  Writes are
buffered in the transaction (reads see them) and sent at the end in one pipeline with
the COMMIT: a commit costs the lock, the reads its checks need, and one round trip.
The COMMIT is durable as far as the server's ``synchronous_commit`` promises.

Why the lock rather than SERIALIZABLE: every commit appends to one chain, so every
pair of concurrent commits conflicts on the tip; under SERIALIZABLE all but one abort
and redo their work, under the lock they queue (docs/postgres.md has the figures).
"""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ledger.errors import ConnectionLostError, StorageError
from ledger.storage.group import GroupWriter
from ledger.storage.kv import DBS, KVStore, ReadTxn, Watch, WriteTxn

T = TypeVar("T")
P = TypeVar("P")

SCHEMES = ("postgresql://", "postgres://")
DEFAULT_LEDGER = "ledger"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,54}")
_DB_ID = {name: i for i, name in enumerate(DBS)}
_IMMUTABLE = frozenset({_DB_ID["block_hashes"], _DB_ID["tree"]})  # written once, never changed
_CACHE_ENTRIES = 65536
_PRUNE_CHANCE = 0.001  # about one write in a thousand forgets old commit tokens
_FIRST_PAGE = 64
_MAX_PAGE = 2048
# Our own URL parameters (libpq would refuse them): removed before connecting.
_OWN_PARAMS = ("ledger", "pool_min", "pool_max", "retry_seconds", "concurrency")
_READ_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"


def is_url(location: str) -> bool:
    return location.startswith(SCHEMES)


class PostgresUrl:
    """A ``postgresql://`` URL split into libpq's part and ours (``ledger=``, pool sizes)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        own = {k: v for k, v in query if k in _OWN_PARAMS}
        libpq = [(k, v) for k, v in query if k not in _OWN_PARAMS]
        self.name = own.get("ledger", DEFAULT_LEDGER)
        if not _NAME.fullmatch(self.name):
            raise StorageError(
                f"ledger name {self.name!r} in {redact(url)}: use 1-55 lower-case letters, "
                "digits and underscores, starting with a letter"
            )
        self.schema = f"ledger_{self.name}"
        self.pool_min = _int_param(own, "pool_min", 1, url)
        self.pool_max = _int_param(own, "pool_max", 16, url)
        self.retry_seconds = float(_int_param(own, "retry_seconds", 30, url))
        # "lock" (default): writers queue on the tip row; "serializable": they run at
        # once under SERIALIZABLE and all but one retry (kept for the measurements)
        self.concurrency = own.get("concurrency", "lock")
        if self.concurrency not in ("lock", "serializable"):
            raise StorageError(f"concurrency in {redact(url)} must be lock or serializable")
        self.conninfo = urlunsplit(parts._replace(query=urlencode(libpq)))
        self.display = redact(url)


def _int_param(own: dict[str, str], key: str, default: int, url: str) -> int:
    try:
        return int(own.get(key, default))
    except ValueError:
        raise StorageError(f"{key} in {redact(url)} must be a whole number") from None


def redact(url: str) -> str:
    """The URL without its password (safe for messages and logs)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, hosts = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    shown = f"{user}:***@{hosts}" if ":" in userinfo else f"{user}@{hosts}"
    query = urlencode([(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)])
    return urlunsplit(parts._replace(netloc=shown, query=query))


def _psycopg() -> Any:
    try:
        import psycopg
        import psycopg_pool
    except ImportError as exc:
        raise StorageError(
            "a postgresql:// ledger needs psycopg 3 and psycopg_pool: "
            "pip install 'ledgerdb[postgres]'"
        ) from exc
    return psycopg, psycopg_pool


# -- transactions ---------------------------------------------------------------------------
class _PgRead(ReadTxn):
    """A snapshot: one pooled connection in a REPEATABLE READ READ ONLY transaction."""

    def __init__(self, store: PostgresStore, conn: Any, begin: str | None = _READ_BEGIN) -> None:
        self._store = store
        self._conn = conn
        self._closed = False
        self._kv = f"{store.url.schema}.kv"
        self._begin = begin  # sent with the first query, in the same round trip
        self._memo: dict[tuple[int, bytes], bytes | None] = {}  # this snapshot's point reads

    def get(self, db: str, key: bytes) -> bytes | None:
        ident = _DB_ID[db]
        cached = self._store.cached(ident, key)
        if cached is not None:
            return cached
        memo_key = (ident, bytes(key))
        if memo_key in self._memo:  # a snapshot never changes: ask once
            return self._memo[memo_key]
        rows = self._query(f"SELECT v FROM {self._kv} WHERE db = %s AND k = %s", (ident, key))
        value = bytes(rows[0][0]) if rows else None
        self._memo[memo_key] = value
        if value is not None and ident in _IMMUTABLE:
            self._store.remember(ident, key, value)
        return value

    def range(
        self,
        db: str,
        start: bytes | None = None,
        stop: bytes | None = None,
        *,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        return self._pages(_DB_ID[db], start, stop, reverse)

    def last(self, db: str) -> tuple[bytes, bytes] | None:
        for item in self._page(_DB_ID[db], None, None, True, 1):
            return item
        return None

    def _pages(
        self, ident: int, start: bytes | None, stop: bytes | None, reverse: bool
    ) -> Iterator[tuple[bytes, bytes]]:
        """Keyset pages, growing from a few rows (a prefix probe) to a few thousand."""
        size = _FIRST_PAGE
        while True:
            page = self._page(ident, start, stop, reverse, size)
            yield from page
            if len(page) < size:
                return
            if reverse:
                stop = page[-1][0]  # exclusive: the next page is below it
            else:
                start = page[-1][0] + b"\x00"  # the smallest key after it
            size = min(size * 2, _MAX_PAGE)

    def _page(
        self, ident: int, start: bytes | None, stop: bytes | None, reverse: bool, limit: int
    ) -> list[tuple[bytes, bytes]]:
        where, params = ["db = %s"], [ident]
        if start is not None:
            where.append("k >= %s")
            params.append(start)  # type: ignore[arg-type]
        if stop is not None:
            where.append("k < %s")
            params.append(stop)  # type: ignore[arg-type]
        order = "DESC" if reverse else "ASC"
        sql = f"SELECT k, v FROM {self._kv} WHERE {' AND '.join(where)} ORDER BY k {order} LIMIT {limit}"
        return [(bytes(k), bytes(v)) for k, v in self._query(sql, params)]

    def _query(self, sql: str, params: Any) -> list[Any]:
        if self._begin is not None:
            return self._first_query(sql, params)
        try:
            return list(self._conn.execute(sql, params).fetchall())
        except self._store.lost_errors as exc:
            raise ConnectionLostError(
                f"lost the connection to {self._store.path} in a transaction that had not "
                f"committed; nothing was written (run it again): {str(exc).strip()}"
            ) from None

    def _first_query(self, sql: str, params: Any) -> list[Any]:
        """BEGIN and the first query in one round trip; a dead pooled connection (the
        server restarted, a failover) is swapped for a new one: nothing was read yet."""
        deadline = time.monotonic() + self._store.url.retry_seconds
        while True:
            try:
                with self._conn.pipeline():
                    self._conn.execute(self._begin)
                    cursor = self._conn.execute(sql, params)
                rows = list(cursor.fetchall())
                self._begin = None
                return rows
            except self._store.lost_errors as exc:
                if time.monotonic() > deadline:
                    raise ConnectionLostError(f"cannot read {self._store.path}: {exc}") from None
                self._store.release(self._conn)
                self._conn = self._store.acquire()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._store.release(self._conn)


class _PgWrite(_PgRead, WriteTxn):
    """Reads see the buffered writes; the writes go in one batch before the COMMIT."""

    def __init__(self, store: PostgresStore, conn: Any) -> None:
        super().__init__(store, conn, begin=None)  # the write began it
        self.changes: dict[int, dict[bytes, bytes | None]] = {}  # None: deleted

    def put(self, db: str, key: bytes, value: bytes) -> None:
        self.changes.setdefault(_DB_ID[db], {})[bytes(key)] = bytes(value)

    def delete(self, db: str, key: bytes) -> None:
        self.changes.setdefault(_DB_ID[db], {})[bytes(key)] = None

    def get(self, db: str, key: bytes) -> bytes | None:
        changed = self.changes.get(_DB_ID[db])
        if changed is not None and key in changed:
            return changed[key]
        return super().get(db, key)

    def last(self, db: str) -> tuple[bytes, bytes] | None:
        if _DB_ID[db] in self.changes:
            return ReadTxn.last(self, db)
        return super().last(db)

    def range(
        self,
        db: str,
        start: bytes | None = None,
        stop: bytes | None = None,
        *,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        stored = super().range(db, start, stop, reverse=reverse)
        changed = self.changes.get(_DB_ID[db])
        if not changed:
            return stored
        mine = sorted(
            ((k, v) for k, v in changed.items()
             if (start is None or k >= start) and (stop is None or k < stop)),
            reverse=reverse,
        )
        return _merge(stored, mine, reverse)

    def flush_statements(self) -> list[tuple[str, tuple[Any, ...]]]:
        """The statements that write the buffered changes: one upsert, one delete."""
        kv = self._kv
        puts: tuple[list[int], list[bytes], list[bytes]] = ([], [], [])
        dels: tuple[list[int], list[bytes]] = ([], [])
        for ident, changed in self.changes.items():
            for key, value in changed.items():
                if value is None:
                    dels[0].append(ident)
                    dels[1].append(key)
                else:
                    puts[0].append(ident)
                    puts[1].append(key)
                    puts[2].append(value)
        out: list[tuple[str, tuple[Any, ...]]] = []
        if dels[0]:
            out.append((
                f"DELETE FROM {kv} WHERE (db, k) IN "
                "(SELECT * FROM unnest(%s::smallint[], %s::bytea[]))",
                dels,
            ))
        if puts[0]:
            out.append((
                f"INSERT INTO {kv} (db, k, v) SELECT * FROM unnest(%s::smallint[], %s::bytea[], "
                "%s::bytea[]) ON CONFLICT (db, k) DO UPDATE SET v = excluded.v",
                puts,
            ))
        return out


def _merge(
    stored: Iterator[tuple[bytes, bytes]], mine: list[tuple[bytes, bytes | None]], reverse: bool
) -> Iterator[tuple[bytes, bytes]]:
    """Stored items overlaid with this transaction's changes, in key order."""
    before = (lambda a, b: a > b) if reverse else (lambda a, b: a < b)
    pending = iter(mine)
    own = next(pending, None)
    for key, value in stored:
        while own is not None and before(own[0], key):
            if own[1] is not None:
                yield own[0], own[1]
            own = next(pending, None)
        if own is not None and own[0] == key:
            if own[1] is not None:
                yield key, own[1]
            own = next(pending, None)
            continue
        yield key, value
    while own is not None:
        if own[1] is not None:
            yield own[0], own[1]
        own = next(pending, None)


# -- the store ---------------------------------------------------------------------------------
class PostgresStore(KVStore):
    """A ledger in a PostgreSQL schema, shared by every process that opens its URL."""

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self._psycopg, pool_module = _psycopg()
        self.lost_errors = (self._psycopg.OperationalError,)
        errors = self._psycopg.errors  # rolled back by the server: certainly not committed
        self.rolled_back = (errors.SerializationFailure, errors.DeadlockDetected)
        self.url = PostgresUrl(url)
        self.path = self.url.display
        self.readonly = readonly
        self._cache: OrderedDict[tuple[int, bytes], bytes] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._closed = False
        self._prepare_schema()  # one direct connection: a bad password fails at once
        self._pool = pool_module.ConnectionPool(
            self.url.conninfo,
            min_size=self.url.pool_min,
            max_size=max(self.url.pool_max, self.url.pool_min),
            kwargs={"autocommit": True},
            open=False,
            name=f"ledger-{self.url.name}",
        )
        self._pool.open(wait=False)
        self._group = GroupWriter(lambda fn: self.write(fn))

    # -- schema ------------------------------------------------------------------
    def _prepare_schema(self) -> None:
        psycopg = self._psycopg
        try:
            conn = psycopg.connect(self.url.conninfo, autocommit=True)
        except psycopg.Error as exc:  # libpq's messages never include the password
            raise StorageError(f"cannot connect to {self.path}: {str(exc).strip()}") from None
        try:
            self._create_schema(conn)
        finally:
            conn.close()

    def _create_schema(self, conn: Any) -> None:
        s = self.url.schema
        found = conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'tip'",
            (s,),
        ).fetchone()
        if found is not None:
            return
        if self.readonly:
            raise StorageError(f"{self.path} is not a ledger (no schema {s})")
        with conn.transaction():
            # two processes creating one ledger at once: the second waits, then finds it
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (s,))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {s}.kv (db smallint NOT NULL, k bytea NOT NULL, "
                "v bytea NOT NULL, PRIMARY KEY (db, k))"
            )
            conn.execute(f"CREATE TABLE IF NOT EXISTS {s}.commits (token uuid PRIMARY KEY, "
                         "at timestamptz NOT NULL DEFAULT now())")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {s}.tip (id int PRIMARY KEY, commits bigint NOT NULL)")
            conn.execute(f"INSERT INTO {s}.tip VALUES (1, 0) ON CONFLICT DO NOTHING")

    # -- connections -----------------------------------------------------------------
    def _connection(self) -> Any:
        return _Borrowed(self)

    def acquire(self) -> Any:
        if self._closed:
            raise StorageError(f"{self.path} is closed")
        try:
            return self._pool.getconn(timeout=self.url.retry_seconds)
        except self._psycopg.Error as exc:
            raise StorageError(f"cannot connect to {self.path}: {exc}") from None
        except Exception as exc:  # PoolTimeout: every connection busy, or the server gone
            raise StorageError(f"no connection to {self.path} within "
                               f"{self.url.retry_seconds:g}s: {_last_error(self._pool, exc)}") from None

    def release(self, conn: Any) -> None:
        try:
            if conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
        except self._psycopg.Error:
            pass  # a broken connection: the pool discards it
        self._pool.putconn(conn)

    # -- the immutable cache ----------------------------------------------------------
    def cached(self, ident: int, key: bytes) -> bytes | None:
        if ident not in _IMMUTABLE:
            return None
        with self._cache_lock:
            return self._cache.get((ident, key))

    def remember(self, ident: int, key: bytes, value: bytes) -> None:
        with self._cache_lock:
            self._cache[(ident, key)] = value
            if len(self._cache) > _CACHE_ENTRIES:
                self._cache.popitem(last=False)

    # -- snapshots ---------------------------------------------------------------------
    def read(self) -> ReadTxn:
        """A snapshot; its BEGIN goes with its first query (one round trip fewer)."""
        return _PgRead(self, self.acquire())

    # -- writes -------------------------------------------------------------------------
    def write(self, fn: Callable[[WriteTxn], T]) -> T:
        if self.readonly:
            raise StorageError(f"{self.path} is open read-only")
        deadline = time.monotonic() + self.url.retry_seconds
        delay = 0.05
        while True:
            token = uuid.uuid4()
            try:
                return self._write_once(fn, token)
            except _Unknown as unknown:
                if self._committed(token, deadline):
                    return unknown.result
                error: BaseException = unknown.error
            except self.rolled_back:
                continue  # serialization failure or deadlock: rolled back; run it again
            except (self._psycopg.OperationalError, ConnectionLostError) as exc:
                error = exc  # lost before the COMMIT: nothing written, run it again
            if time.monotonic() + delay > deadline:
                raise StorageError(f"write to {self.path} failed: {error}") from None
            time.sleep(delay)  # the server restarting or a standby being promoted
            delay = min(delay * 2, 1.0)

    def _write_once(self, fn: Callable[[WriteTxn], T], token: uuid.UUID) -> T:
        s = self.url.schema
        conn = self.acquire()
        writer = _PgWrite(self, conn)
        try:
            if self.url.concurrency == "serializable":
                conn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            else:
                with conn.pipeline():  # one round trip: BEGIN and the lock
                    conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
                    conn.execute(f"SELECT commits FROM {s}.tip WHERE id = 1 FOR UPDATE")
            result = fn(writer)
            statements = writer.flush_statements()
            statements.append((f"INSERT INTO {s}.commits (token) VALUES (%s)", (token,)))
            statements.append((f"UPDATE {s}.tip SET commits = commits + 1 WHERE id = 1", ()))
            if random.random() < _PRUNE_CHANCE:  # tokens only matter for minutes
                statements.append((f"DELETE FROM {s}.commits WHERE at < now() - interval '1 hour'", ()))
            statements.append(("SELECT pg_notify(%s, '')", (self.url.schema,)))
            statements.append(("COMMIT", ()))
            try:  # one round trip: the writes and the COMMIT
                with conn.pipeline():
                    for sql, params in statements:
                        conn.execute(sql, params)
            except self.rolled_back:
                raise  # the server rolled it back: certainly not committed
            except self._psycopg.OperationalError as exc:
                raise _Unknown(result, exc) from exc
            return result
        except self._psycopg.Error:
            # An aborted pipeline can leave psycopg's prepared-statement cache out of step
            # with the server ("prepared statement ... does not exist" on the next use):
            # the connection is not reused.
            conn.close()
            raise
        finally:
            writer._closed = True
            self.release(conn)

    def _committed(self, token: uuid.UUID, deadline: float) -> bool:
        """After a COMMIT whose answer was lost: did it commit?  Asks until it can."""
        delay = 0.05
        while True:
            try:
                with self._connection() as conn:
                    row = conn.execute(
                        f"SELECT 1 FROM {self.url.schema}.commits WHERE token = %s", (token,)
                    ).fetchone()
                    return row is not None
            except (self._psycopg.OperationalError, StorageError):
                if time.monotonic() + delay > deadline:
                    raise StorageError(
                        f"{self.path}: the server went away during a COMMIT and did not come "
                        "back; whether that transaction committed is unknown"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def write_grouped(self, plan: Callable[[WriteTxn], P], apply: Callable[[WriteTxn, P], T]) -> T:
        """A process's concurrent commits share one PostgreSQL transaction (one WAL flush)."""
        return self._group.submit(plan, apply)

    def prune_commit_tokens(self, older_than_seconds: float = 3600.0) -> int:
        """Forget the tokens of writes older than this (they only settle cut-off COMMITs)."""
        with self._connection() as conn:
            cur = conn.execute(
                f"DELETE FROM {self.url.schema}.commits WHERE at < now() - make_interval(secs => %s)",
                (older_than_seconds,),
            )
            return int(cur.rowcount)

    def drop(self) -> None:
        """Remove this ledger (its schema) from the database, for good."""
        with self._connection() as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.url.schema} CASCADE")
        with self._cache_lock:
            self._cache.clear()

    # -- waiting for commits ----------------------------------------------------------
    def watch(self) -> Watch:
        return _NotifyWatch(self)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.close()

    def __repr__(self) -> str:
        return f"<PostgresStore {self.path}>"


class _Unknown(Exception):
    """The COMMIT was sent but its answer lost: the write may or may not be stored."""

    def __init__(self, result: Any, error: BaseException) -> None:
        super().__init__(str(error))
        self.result = result
        self.error = error


class _Borrowed:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._conn: Any = None

    def __enter__(self) -> Any:
        self._conn = self._store.acquire()
        return self._conn

    def __exit__(self, *exc: object) -> None:
        self._store.release(self._conn)


class _NotifyWatch(Watch):
    """LISTEN on the ledger's channel on a connection of its own (not the pool's)."""

    def __init__(self, store: PostgresStore) -> None:
        psycopg = store._psycopg
        try:
            self._conn = psycopg.connect(store.url.conninfo, autocommit=True)
            self._conn.execute(f"LISTEN {store.url.schema}")
        except psycopg.Error as exc:
            raise StorageError(f"cannot listen for commits on {store.path}: {exc}") from None

    def wait(self, timeout: float) -> bool:
        for _ in self._conn.notifies(timeout=max(timeout, 0.0), stop_after=1):
            return True
        return False

    def close(self) -> None:
        self._conn.close()


def _last_error(pool: Any, exc: BaseException) -> str:
    stats: dict[str, int] = pool.get_stats()
    return f"{exc} (pool: {stats.get('connections_errors', 0)} connection errors)"


# -- a database's ledgers (what a server's control plane lists and deletes) --------------------
def list_ledgers(url: str) -> list[str]:
    """The names of the ledgers in the URL's database (its ``ledger=`` is ignored)."""
    psycopg, _ = _psycopg()
    parsed = PostgresUrl(url)
    try:
        with psycopg.connect(parsed.conninfo, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT table_schema FROM information_schema.tables "
                "WHERE table_name = 'tip' AND table_schema LIKE 'ledger\\_%' ORDER BY 1"
            ).fetchall()
    except psycopg.Error as exc:
        raise StorageError(f"cannot list the ledgers of {parsed.display}: {str(exc).strip()}") from None
    return [str(schema)[len("ledger_"):] for (schema,) in rows]


def delete_ledger(url: str) -> None:
    """Remove the URL's ledger (its schema) for good; a missing one is an error."""
    if PostgresUrl(url).name not in list_ledgers(url):
        raise StorageError(f"no ledger at {redact(url)}")
    store = PostgresStore(url, readonly=True)
    try:
        store.drop()
    finally:
        store.close()
