"""Loading records into a table, in transactions of at most the per-transaction limit.

Every transaction is whole: a batch commits or not at all, so an interrupted load
leaves only committed batches.  A bad record stops the load after committing every
record before it (also those earlier in its own batch); ``LoadResult.resume_at`` is
then the ``skip`` that carries on from the bad record once it is fixed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ledger.errors import BadRecordError, Error, ProgrammingError
from ledger.load.readers import Record

if TYPE_CHECKING:
    from ledger.database import Ledger

Progress = Callable[["LoadResult"], None]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass
class LoadResult:
    table: str
    skipped: int = 0  # records passed over because of ``skip``
    loaded: int = 0  # documents committed by this run
    transactions: int = 0
    created_table: bool = False
    seconds: float = 0.0
    last: Record | None = None  # the last record committed
    error: BadRecordError | None = None
    _started: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def resume_at(self) -> int:
        """The ``skip`` that resumes after everything committed so far."""
        return self.skipped + self.loaded

    @property
    def rate(self) -> float:
        return self.loaded / self.seconds if self.seconds > 0 else 0.0

    def tick(self) -> None:
        self.seconds = time.perf_counter() - self._started


def quote_table(name: str) -> str:
    """``name`` as PartiQL text: bare when it is an identifier, else double-quoted."""
    return name if _IDENTIFIER.match(name) else '"' + name.replace('"', '""') + '"'


class Loader:
    """Loads records into ``table``; ``result`` stays current, also after an interrupt."""

    def __init__(
        self,
        db: Ledger,
        table: str,
        *,
        batch: int | None = None,
        skip: int = 0,
        create_table: bool = False,
        progress: Progress | None = None,
    ) -> None:
        limit = db.journal.limits.documents_per_transaction
        if batch is not None and not 1 <= batch <= limit:
            raise ProgrammingError(
                f"the batch size must be 1 to {limit} (the documents per transaction limit)"
            )
        if skip < 0:
            raise ProgrammingError("skip must be 0 or more")
        self.db = db
        self.batch = batch or limit
        self.skip = skip
        self.create_table = create_table
        self.progress = progress or (lambda result: None)
        self.result = LoadResult(table)
        self._insert = f"INSERT INTO {quote_table(table)} ?"

    def run(self, records: Iterable[Record]) -> LoadResult:
        """Load ``records``; a bad record ends up in ``result.error``, never raised."""
        self._ensure_table()
        try:
            self._feed(iter(records))
        except BadRecordError as exc:
            exc.record = exc.record or self.result.resume_at + 1
            self.result.error = exc
        self.result.tick()
        return self.result

    def _feed(self, records: Iterator[Record]) -> None:
        pending: list[Record] = []
        seen = 0
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except BadRecordError:
                if pending:
                    self._commit(pending)  # everything before the bad record
                raise
            seen += 1
            if seen <= self.skip:
                self.result.skipped = seen
                continue
            pending.append(record)
            if len(pending) == self.batch:
                self._commit(pending)
                pending = []
        if pending:
            self._commit(pending)

    def _ensure_table(self) -> None:
        name = self.result.table
        rows = self.db.execute(
            "SELECT VALUE t.name FROM information_schema.user_tables AS t "
            "WHERE t.name = ? AND t.status = 'ACTIVE'",
            name,
        ).fetchall()
        if rows:
            return
        if not self.create_table:
            raise ProgrammingError(f"no table {name} (create it first, or pass --create-table)")
        self.db.execute(f"CREATE TABLE {quote_table(name)}")
        self.result.created_table = True

    def _commit(self, batch: list[Record]) -> None:
        try:
            self._insert_all(batch)
        except Error:
            found = self._find_bad(batch)
            if found is None:
                raise  # not one document's fault (storage, limits of the whole batch)
            good, exc = found
            if good:
                self._insert_all(good)
            raise exc from None

    def _insert_all(self, batch: list[Record]) -> None:
        values = [r.value for r in batch]
        self.db.execute_lambda(lambda tx: tx.execute(self._insert, values))
        self.result.loaded += len(batch)
        self.result.transactions += 1
        self.result.last = batch[-1]
        self.result.tick()
        self.progress(self.result)

    def _find_bad(self, batch: list[Record]) -> tuple[list[Record], BadRecordError] | None:
        """The records before the first one the ledger refuses, and why it refused it."""
        tx = self.db.transaction()
        try:
            for i, record in enumerate(batch):
                try:
                    tx.execute(self._insert, record.value)
                except Error as exc:
                    bad = BadRecordError(record.file, record.line, str(exc), value=record.number)
                    bad.record = self.result.resume_at + i + 1
                    return batch[:i], bad
        finally:
            if tx.state == "open":
                tx.abort()
        return None


def load(
    db: Ledger,
    table: str,
    records: Iterable[Record],
    *,
    batch: int | None = None,
    skip: int = 0,
    create_table: bool = False,
    progress: Progress | None = None,
) -> LoadResult:
    """Load ``records`` into ``table`` (see ``Loader``)."""
    loader = Loader(db, table, batch=batch, skip=skip, create_table=create_table, progress=progress)
    return loader.run(records)


def summary(result: LoadResult) -> str:
    """What a load did, and where to resume it after a bad record."""
    noun = "document" if result.loaded == 1 else "documents"
    text = (
        f"Loaded {result.loaded:,} {noun} into {result.table} in {result.transactions:,} "
        f"transaction{'' if result.transactions == 1 else 's'} "
        f"({result.seconds:.1f} s, {result.rate:,.0f} documents/s)"
    )
    if result.skipped:
        text += f", after skipping {result.skipped:,} records"
    text += "."
    if result.created_table:
        text = f"Created table {result.table}.\n" + text
    if result.last is not None:
        where = f"line {result.last.line}" if result.last.line else "its last value"
        text += f"\nCommitted up to record {result.resume_at:,} ({result.last.file} {where})."
    return text


def resume_hint(result: LoadResult) -> str:
    return (
        f"Stopped at record {result.resume_at + 1:,}: records 1 to {result.resume_at:,} are "
        f"committed. Fix it and resume with --skip {result.resume_at}."
    )
