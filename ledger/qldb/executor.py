"""pyqldb's Executor: what the transaction function receives."""

from __future__ import annotations

from typing import Any, NoReturn

from ledger.errors import LambdaAbortedError
from ledger.journal.transaction import Transaction
from ledger.qldb.cursor import StreamCursor


class Executor:
    """Runs statements in the transaction ``execute_lambda`` opened for the function."""

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    @property
    def transaction_id(self) -> str:
        return self._transaction.id

    def abort(self) -> NoReturn:
        """Abort the transaction: nothing is written, and ``execute_lambda`` raises
        LambdaAbortedError (never retried)."""
        raise LambdaAbortedError(f"transaction {self._transaction.id} aborted by the function")

    def execute_statement(self, statement: str, *parameters: Any) -> StreamCursor:
        """Run ``statement`` with ``parameters`` (Ion values or Python values) bound to
        its ``?`` in order; the rows come back as amazon.ion IonPy values."""
        return StreamCursor(self._transaction.execute(statement, *parameters), self._transaction)
