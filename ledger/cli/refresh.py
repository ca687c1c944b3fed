"""Completion metadata, rebuilt in a background thread so the prompt never waits.

``refresh()`` returns at once; a daemon thread reads a fresh ``Metadata`` and swaps it
in.  Refreshes asked for while one runs collapse into one more run, so a burst of DDL
costs at most two reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ledger.cli.metadata import Metadata, load_metadata
from ledger.database import Ledger


class Refresher:
    def __init__(self, db: Ledger, loader: Callable[[Ledger], Metadata] = load_metadata) -> None:
        self._db = db
        self._loader = loader
        self._metadata = Metadata()
        self._lock = threading.Lock()
        self._pending = False
        self._thread: threading.Thread | None = None
        self.last_error: BaseException | None = None

    def metadata(self) -> Metadata:
        """The newest metadata read (empty until the first refresh finishes)."""
        return self._metadata

    def refresh(self) -> None:
        """Re-read the metadata in the background (never blocks)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._pending = True
                return
            self._thread = threading.Thread(target=self._run, name="ledger-completion", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self._metadata = self._loader(self._db)
                self.last_error = None
            except Exception as exc:  # a closed ledger, a storage hiccup: keep the old data
                self.last_error = exc
            with self._lock:
                if not self._pending:
                    self._thread = None
                    return
                self._pending = False

    def wait(self, timeout: float | None = None) -> None:
        """Block until no refresh runs (for tests and for closing the ledger)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
