"""What the server remembers between session requests, in one object: ``SessionStore``.

Sessions, their open transaction (a journal ``Transaction``: its snapshot, read set and
buffered writes), the CommitDigest folded from every statement received, and the pages
of results not fetched yet.  The HTTP layer only calls the methods below, one per
SendCommand command, each from a worker thread; a session's commands run one at a time
(pyqldb reads ahead on a second thread), different sessions in parallel.  Keeping it in
one object with this narrow interface is what lets a later server keep it elsewhere.

QLDB's lifetimes: a transaction lives 30 s, a session idle (no open transaction) 60 s
and 15 min in all, 1,500 sessions per ledger.  ``reap`` ends what outlived them, so an
abandoned transaction gives its read snapshot back within a second or so.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import ledger
from ledger import ion
from ledger.errors import (
    Error,
    InternalError,
    OccConflictError,
    ServiceError,
    StorageError,
    TransactionExpiredError,
)
from ledger.hashing import dot, ion_hash, statement_digest
from ledger.journal.transaction import Transaction

PAGE_VALUES = 200
PAGE_BYTES = 1 << 20


@dataclass(frozen=True)
class Lifetimes:
    transaction: float = 30.0
    session_idle: float = 60.0
    session: float = 15 * 60.0
    sessions_per_ledger: int = 1500


@dataclass
class Page:
    """One page of results: each value's Ion binary, and the token of the next page."""

    values: list[bytes]
    next_token: str | None
    read_ios: int = 0
    write_ios: int = 0


@dataclass
class _Open:
    """A session's open transaction."""

    tx: Transaction
    id: str
    digest: bytes
    started: float
    pages: dict[str, tuple[list[Any], int]] = field(default_factory=dict)  # token -> rows, next


@dataclass
class _Session:
    token: str
    ledger_name: str
    db: ledger.Ledger
    created: float
    used: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: _Open | None = None
    expired: OrderedDict[str, None] = field(default_factory=OrderedDict)  # recent tx ids
    ended: bool = False


def bad_request(message: str) -> ServiceError:
    return ServiceError("BadRequestException", message)


def invalid_session(message: str) -> ServiceError:
    return ServiceError("InvalidSessionException", message)


def expired(tx_id: str) -> ServiceError:
    return invalid_session(f"Transaction {tx_id} has expired")


def service_error(exc: Error) -> ServiceError:
    """QLDB's session error for a ledger error raised by a statement or a commit."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, OccConflictError):
        return ServiceError("OccConflictException", str(exc))
    if isinstance(exc, StorageError | InternalError):
        return ServiceError("InternalFailure", str(exc), 500)
    return bad_request(str(exc))


class SessionBusy(Exception):
    """Internal: a session is serving another request and the caller would not wait
    (``SessionStore.without_waiting``); it never reaches a client."""


class SessionStore:
    """Sessions and their transactions; thread-safe."""

    def __init__(
        self,
        open_ledger: Callable[[str], ledger.Ledger],
        lifetimes: Lifetimes | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_ledger = open_ledger
        self.lifetimes = lifetimes or Lifetimes()
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._waiting = threading.local()

    @contextlib.contextmanager
    def without_waiting(self) -> Iterator[None]:
        """Within this block (on this thread), a command whose session is busy raises
        SessionBusy instead of waiting: the event loop runs quick commands itself and
        hands them to a worker only when they would block."""
        self._waiting.refuse = True
        try:
            yield
        finally:
            self._waiting.refuse = False

    # -- the seven commands -------------------------------------------------------------
    def start_session(self, ledger_name: str) -> str:
        db = self._open_ledger(ledger_name)
        now = self._clock()
        with self._lock:
            count = sum(1 for s in self._sessions.values() if s.ledger_name == ledger_name)
            if count >= self.lifetimes.sessions_per_ledger:
                raise ServiceError(
                    "LimitExceededException",
                    f"Ledger {ledger_name!r} has {count} active sessions, the limit",
                )
            token = secrets.token_hex(24)
            self._sessions[token] = _Session(token, ledger_name, db, now, now)
        return token

    def start_transaction(self, token: str) -> str:
        with self._session(token) as session:
            if session.open is not None:
                raise bad_request(
                    f"Transaction {session.open.id} is already open in this session: "
                    "commit or abort it first"
                )
            tx = session.db.transaction()
            tx_id = tx.id
            session.open = _Open(tx, tx_id, ion_hash(tx_id), self._clock())
            return tx_id

    def execute(
        self, token: str, tx_id: str, statement: str, parameters: Sequence[Any]
    ) -> Page:
        with self._session(token) as session:
            current = self._transaction(session, tx_id)
            # every statement received counts, failed ones included: the driver folded
            # it before sending, and may catch its error and still commit
            current.digest = dot(current.digest, statement_digest(statement, parameters))
            try:
                rows = list(current.tx.execute(statement, *parameters))
            except TransactionExpiredError:
                self._end_transaction(session, expired=True)
                raise expired(tx_id) from None
            except Error as exc:
                raise service_error(exc) from exc
            return self._page(current, rows, 0)

    def fetch_page(self, token: str, tx_id: str, page_token: str) -> Page:
        with self._session(token) as session:
            current = self._transaction(session, tx_id)
            found = current.pages.pop(page_token, None)  # a token works once
            if found is None:
                raise bad_request(f"Page token {page_token!r} is unknown or already used")
            return self._page(current, *found)

    def commit(self, token: str, tx_id: str, commit_digest: bytes) -> bytes:
        with self._session(token) as session:
            current = self._transaction(session, tx_id)
            if commit_digest != current.digest:
                self._end_transaction(session)
                raise bad_request(
                    f"Transaction {tx_id}: Digests don't match (the statements the client "
                    "executed are not the ones the server received); the transaction is aborted"
                )
            try:
                current.tx.commit()
            except TransactionExpiredError:
                self._end_transaction(session, expired=True)
                raise expired(tx_id) from None
            except Error as exc:
                raise service_error(exc) from exc
            finally:  # committed or not, the transaction is over (OCC: the driver retries)
                if session.open is current:
                    self._end_transaction(session)
            return commit_digest

    def abort(self, token: str) -> None:
        with self._session(token) as session:
            self._end_transaction(session)

    def end_session(self, token: str) -> None:
        with self._session(token) as session:
            self._end_transaction(session)
            self._drop(session)

    # -- housekeeping --------------------------------------------------------------------
    def reap(self) -> int:
        """End expired transactions and idle or old sessions; how many were ended.

        A session busy with a request is left for the next round."""
        now = self._clock()
        ended = 0
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            if not session.lock.acquire(blocking=False):
                continue
            try:
                ended += self._reap_one(session, now)
            finally:
                session.lock.release()
        return ended

    def _reap_one(self, session: _Session, now: float) -> int:
        limits = self.lifetimes
        if now - session.created > limits.session:
            self._end_transaction(session)
            self._drop(session)
            return 1
        if session.open is not None:
            if now - session.open.started > limits.transaction:
                self._end_transaction(session, expired=True)
                return 1
            return 0
        if now - session.used > limits.session_idle:
            self._drop(session)
            return 1
        return 0

    def end_ledger(self, ledger_name: str) -> None:
        """End every session on a ledger (before it is deleted)."""
        with self._lock:
            sessions = [s for s in self._sessions.values() if s.ledger_name == ledger_name]
        for session in sessions:
            with session.lock:
                self._end_transaction(session)
                self._drop(session)

    def close(self) -> None:
        """Abort every open transaction and forget every session (server shutdown)."""
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            with session.lock:
                self._end_transaction(session)
                self._drop(session)

    def ledger_of(self, token: str) -> str | None:
        """The ledger a session token is on (for the request log), None if unknown."""
        with self._lock:
            session = self._sessions.get(token)
        return None if session is None else session.ledger_name

    def counts(self) -> tuple[int, int]:
        """(sessions, open transactions)."""
        with self._lock:
            sessions = list(self._sessions.values())
        return len(sessions), sum(1 for s in sessions if s.open is not None)

    # -- parts -----------------------------------------------------------------------------
    def _session(self, token: str) -> _Locked:
        with self._lock:
            session = self._sessions.get(token)
        if session is None:
            raise invalid_session(f"Session {token[:12]}… does not exist or has ended")
        return _Locked(session, self._clock, getattr(self._waiting, "refuse", False))

    def _transaction(self, session: _Session, tx_id: str) -> _Open:
        current = session.open
        if current is None or current.id != tx_id:
            if tx_id in session.expired:
                raise expired(tx_id)
            raise invalid_session(f"Transaction {tx_id} is not open in this session")
        if self._clock() - current.started > self.lifetimes.transaction:
            self._end_transaction(session, expired=True)
            raise expired(tx_id)
        return current

    def _end_transaction(self, session: _Session, *, expired: bool = False) -> None:
        current, session.open = session.open, None
        if current is None:
            return
        current.tx.abort()  # no-op once committed; releases the snapshot otherwise
        current.pages.clear()
        if expired:
            session.expired[current.id] = None
            while len(session.expired) > 16:
                session.expired.popitem(last=False)

    def _drop(self, session: _Session) -> None:
        session.ended = True
        with self._lock:
            self._sessions.pop(session.token, None)

    def _page(self, current: _Open, rows: list[Any], start: int) -> Page:
        values: list[bytes] = []
        size = 0
        index = start
        while index < len(rows) and len(values) < PAGE_VALUES and size < PAGE_BYTES:
            encoded = ion.dumps(rows[index])
            if values and size + len(encoded) > PAGE_BYTES:
                break
            values.append(encoded)
            size += len(encoded)
            index += 1
        token = None
        if index < len(rows):
            token = secrets.token_hex(16)
            current.pages[token] = (rows, index)
        return Page(values, token, read_ios=len(values))


class _Locked:
    """``with store._session(token) as session``: the session, its lock held."""

    def __init__(self, session: _Session, clock: Callable[[], float], refuse: bool) -> None:
        self._session = session
        self._clock = clock
        self._refuse = refuse

    def __enter__(self) -> _Session:
        if not self._session.lock.acquire(blocking=not self._refuse):
            raise SessionBusy(self._session.token)
        if self._session.ended:  # ended while this request waited for the lock
            self._session.lock.release()
            raise invalid_session(f"Session {self._session.token[:12]}… has ended")
        return self._session

    def __exit__(self, *exc: object) -> None:
        self._session.used = self._clock()
        self._session.lock.release()
