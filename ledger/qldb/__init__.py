"""pyqldb's API in-process: move a QLDB app by changing one import.

>>> from ledger.qldb import QldbDriver
>>> with QldbDriver(":memory:") as driver:
...     _ = driver.execute_lambda(lambda ex: ex.execute_statement("CREATE TABLE Person"))
...     _ = driver.execute_lambda(
...         lambda ex: ex.execute_statement("INSERT INTO Person ?", {"Name": "Ann"}))
...     [str(name) for name in driver.list_tables()]
['Person']

Names and behaviour follow pyqldb 3.x (``pyqldb.driver.qldb_driver.QldbDriver``,
``pyqldb.config.retry_config.RetryConfig``, ``pyqldb.execution.executor.Executor``,
``pyqldb.cursor.*``); values are amazon.ion's default IonPy values, as pyqldb's.
"""

from __future__ import annotations

from ledger.errors import DriverClosedError, LambdaAbortedError, ResultClosedError
from ledger.qldb.cursor import BufferedCursor, StreamCursor
from ledger.qldb.driver import QldbDriver
from ledger.qldb.executor import Executor
from ledger.qldb.retry import RetryConfig, calculate_backoff

__all__ = [
    "BufferedCursor",
    "DriverClosedError",
    "Executor",
    "LambdaAbortedError",
    "QldbDriver",
    "ResultClosedError",
    "RetryConfig",
    "StreamCursor",
    "calculate_backoff",
]
