"""``QldbDriver``: pyqldb 3.x's driver, run in-process against a ledger on disk."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ledger.database import Ledger
from ledger.errors import DriverClosedError, InterfaceError, OccConflictError
from ledger.journal.transaction import Transaction
from ledger.qldb.cursor import BufferedCursor, StreamCursor
from ledger.qldb.executor import Executor
from ledger.qldb.retry import RetryConfig, calculate_backoff

T = TypeVar("T")
logger = logging.getLogger(__name__)
LIST_TABLES = "SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'"

# pyqldb's options that only mean something to AWS: accepted so an app moves unchanged.
AWS_OPTIONS = frozenset(
    {
        "region_name",
        "verify",
        "endpoint_url",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "config",
        "boto3_session",
    }
)


class QldbDriver:
    """pyqldb's ``QldbDriver`` over the ledger at ``ledger_name`` (a path, or an open
    ``ledger.Ledger``).

    ``execute_lambda(fn)`` runs ``fn(executor)`` in a transaction and commits it,
    retrying the whole function after an OCC conflict as ``retry_config`` says; any
    other error aborts the transaction and propagates.  Values are amazon.ion's IonPy
    values, as pyqldb returns them.  A ledger opened from a path is the driver's own
    (closed by ``close()``); one passed in is left open.  ``read_ahead``, ``executor``,
    ``max_concurrent_transactions`` and the AWS options are accepted and have no
    effect: results are read whole, and transactions need no sessions.
    """

    def __init__(
        self,
        ledger_name: str | os.PathLike[str] | Ledger,
        retry_config: RetryConfig | None = None,
        read_ahead: int = 0,
        executor: Any = None,
        max_concurrent_transactions: int = 0,
        **aws_options: Any,
    ) -> None:
        unknown = set(aws_options) - AWS_OPTIONS
        if unknown:
            raise TypeError(f"QldbDriver() got unexpected keyword arguments {sorted(unknown)}")
        if read_ahead < 2 and read_ahead != 0:
            raise ValueError("Value for read_ahead must be 0 or 2 or greater.")
        if max_concurrent_transactions < 0:
            raise ValueError("Value for max_concurrent_transactions cannot be negative.")
        if retry_config is not None and not isinstance(retry_config, RetryConfig):
            raise TypeError("retry_config must be a ledger.qldb.RetryConfig")
        self._retry_config = retry_config if retry_config is not None else RetryConfig()
        self._owned = not isinstance(ledger_name, Ledger)
        if isinstance(ledger_name, Ledger):
            self._ledger = ledger_name
        else:
            self._ledger = Ledger(ledger_name, value_model="ion_py")
        self._is_closed = False

    @property
    def retry_config(self) -> RetryConfig:
        return self._retry_config

    @property
    def ledger(self) -> Ledger:
        return self._ledger

    def __enter__(self) -> QldbDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the driver (and the ledger it opened); later use raises DriverClosedError."""
        if self._is_closed:
            return
        self._is_closed = True
        if self._owned:
            self._ledger.close()

    def list_tables(self) -> Iterator[Any]:
        """The names of the active tables (IonPyText)."""
        return self.execute_lambda(lambda executor: executor.execute_statement(LIST_TABLES))

    def execute_lambda(
        self, query_lambda: Callable[[Executor], T], retry_config: RetryConfig | None = None
    ) -> Any:
        """Run ``query_lambda(executor)`` in a new transaction and commit it; return what
        it returned (a StreamCursor comes back as a BufferedCursor, readable after the
        commit).  On an OCC conflict, wait (see RetryConfig) and run it again, up to
        ``retry_limit`` more times, then raise the conflict."""
        config = self._retry_config if retry_config is None else retry_config
        attempt = 0
        while True:
            attempt += 1
            if self._is_closed:
                raise DriverClosedError("the driver is closed")
            transaction = self._transaction()
            try:
                return self._run_once(query_lambda, transaction)
            except OccConflictError as error:
                if attempt > config.retry_limit:
                    raise
                delay = calculate_backoff(config, attempt, error, transaction.id)
                logger.info("OCC conflict: retry #%d in %.0f ms", attempt, delay)
                time.sleep(delay / 1000)

    @staticmethod
    def _run_once(query_lambda: Callable[[Executor], T], transaction: Transaction) -> Any:
        with transaction:  # commits when the function returns, aborts when it raises
            result: Any = query_lambda(Executor(transaction))
            if isinstance(result, StreamCursor):
                result = BufferedCursor(result)
        return result

    def _transaction(self) -> Transaction:
        try:
            transaction = self._ledger.transaction()
        except InterfaceError as exc:
            raise DriverClosedError(str(exc)) from exc
        transaction.value_model = "ion_py"
        return transaction
