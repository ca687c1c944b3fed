"""The ledgers a server serves: one ordinary ledger directory per LedgerName under ROOT.

``ROOT/<name>/`` is a ledger that ``ledger.connect`` and every other command can open.
What QLDB keeps about a ledger beside its journal (creation time, state, deletion
protection, permissions mode, tags) lives in ``ROOT/.qldb/ledgers/<name>.json``, and
export jobs in ``ROOT/.qldb/exports/<exportId>.json``; each is written to a temporary
file, flushed and renamed, so a crash leaves the old record or the new, never half.
A ledger directory put under ROOT by hand (``ledger create``, a copy) is served too:
its record is made the first time the catalog sees it.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ledger
from ledger.errors import Error, ServiceError
from ledger.journal.limits import Limits

NAME = re.compile(r"^(?!.*--)(?![0-9]+$)(?!-)(?!.*-$)[A-Za-z0-9-]{1,32}$")
META_DIR = ".qldb"
PERMISSIONS_MODES = ("ALLOW_ALL", "STANDARD")


@dataclass
class LedgerRecord:
    """QLDB's description of a ledger, as stored beside it."""

    name: str
    created: float  # epoch seconds
    permissions_mode: str = "ALLOW_ALL"
    deletion_protection: bool = True
    state: str = "ACTIVE"
    kms_key: str = "AWS_OWNED_KMS_KEY"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ExportRecord:
    """An ExportJournalToS3 job (QLDB's JournalS3ExportDescription, snake-cased)."""

    export_id: str
    ledger_name: str
    created: float
    start: float
    end: float
    bucket: str
    prefix: str
    encryption: dict[str, Any]
    role_arn: str
    output_format: str
    status: str = "COMPLETED"


def not_found(name: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException",
        f"Ledger {name!r} does not exist",
        404,
        ResourceType="LEDGER",
        ResourceName=name,
    )


def check_name(name: Any, parameter: str = "Name") -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise ServiceError(
            "InvalidParameterException",
            f"{parameter} {name!r} is not a ledger name: 1 to 32 letters, digits and "
            "hyphens, not all digits, no leading, trailing or double hyphen",
            ParameterName=parameter,
        )
    return name


def _write_json(path: Path, value: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_ledger_dir(path: Path) -> bool:
    return (path / "data.mdb").is_file()


def _connect(path: Path, limits: Limits | None, *, create: bool) -> ledger.Ledger:
    """Open the ledger at ``path``, or make one in the empty directory ``path``: said
    explicitly where ``connect`` takes ``create=`` (it never then writes elsewhere)."""
    if "create" in inspect.signature(ledger.connect).parameters:
        return ledger.connect(path, limits=limits, create=create)  # type: ignore[call-arg,unused-ignore]
    return ledger.connect(path, limits=limits)


class Catalog:
    """The ledgers under ROOT and their records; opened ledgers are kept open."""

    def __init__(self, root: str | os.PathLike[str], limits: Limits | None = None) -> None:
        self.root = Path(root)
        self.limits = limits
        self._meta = self.root / META_DIR
        self._lock = threading.RLock()
        self._open: dict[str, ledger.Ledger] = {}
        self.root.mkdir(parents=True, exist_ok=True)
        (self._meta / "ledgers").mkdir(parents=True, exist_ok=True)
        (self._meta / "exports").mkdir(parents=True, exist_ok=True)

    # -- records --------------------------------------------------------------------
    def _record_path(self, name: str) -> Path:
        return self._meta / "ledgers" / f"{name}.json"

    def get(self, name: str) -> LedgerRecord:
        """The record of an existing ledger; ResourceNotFoundException otherwise."""
        with self._lock:
            path = self._record_path(name)
            if not is_ledger_dir(self.root / name):
                raise not_found(name)
            if not path.exists():
                return self._adopt(name)
            return LedgerRecord(**json.loads(path.read_text(encoding="utf-8")))

    def _adopt(self, name: str) -> LedgerRecord:
        """A record for a ledger directory put under ROOT without one."""
        created = (self.root / name / "data.mdb").stat().st_mtime
        record = LedgerRecord(name=name, created=created)
        self.save(record)
        return record

    def save(self, record: LedgerRecord) -> None:
        with self._lock:
            _write_json(self._record_path(record.name), asdict(record))

    def names(self) -> list[str]:
        with self._lock:
            return sorted(
                entry.name
                for entry in self.root.iterdir()
                if NAME.match(entry.name) and is_ledger_dir(entry)
            )

    def records(self) -> Iterator[LedgerRecord]:
        for name in self.names():
            try:
                yield self.get(name)
            except ServiceError:
                continue  # deleted meanwhile

    # -- life cycle -------------------------------------------------------------------
    def create(self, record: LedgerRecord) -> LedgerRecord:
        with self._lock:
            directory = self.root / record.name
            if directory.exists():
                raise ServiceError(
                    "ResourceAlreadyExistsException",
                    f"Ledger {record.name!r} already exists",
                    409,
                    ResourceType="LEDGER",
                    ResourceName=record.name,
                )
            directory.mkdir(mode=0o700)
            try:
                self._open[record.name] = _connect(directory, self.limits, create=True)
                self.save(record)
            except BaseException:
                self._close(record.name)
                shutil.rmtree(directory, ignore_errors=True)
                raise
            return record

    def open(self, name: str) -> ledger.Ledger:
        """The open ledger ``name`` (an existing ledger directory, never created here)."""
        with self._lock:
            db = self._open.get(name)
            if db is not None:
                return db
            record = self.get(name)
            if record.state != "ACTIVE":
                raise ServiceError(
                    "ResourcePreconditionNotMetException",
                    f"Ledger {name!r} is {record.state}",
                    412,
                    ResourceType="LEDGER",
                    ResourceName=name,
                )
            try:
                db = _connect(self.root / name, self.limits, create=False)
            except Error as exc:
                raise ServiceError(
                    "ResourcePreconditionNotMetException",
                    f"Ledger {name!r} cannot be opened: {exc}",
                    412,
                    ResourceType="LEDGER",
                    ResourceName=name,
                ) from exc
            self._open[name] = db
            return db

    def delete(self, name: str) -> None:
        """Remove the ledger and its record (the caller ended its sessions first)."""
        with self._lock:
            self.check_deletable(self.get(name))
            self._close(name)
            graveyard = self._meta / f"deleting-{name}-{time.time_ns()}"
            os.replace(self.root / name, graveyard)  # gone at once, then removed
            self._record_path(name).unlink(missing_ok=True)
            shutil.rmtree(graveyard, ignore_errors=True)

    @staticmethod
    def check_deletable(record: LedgerRecord) -> None:
        """QLDB refuses to delete a ledger while its DeletionProtection is on."""
        name = record.name
        if record.deletion_protection:
            raise ServiceError(
                "ResourcePreconditionNotMetException",
                f"Preventing deletion of ledger {name!r} because DeletionProtection is "
                "enabled: disable it with UpdateLedger first",
                412,
                ResourceType="LEDGER",
                ResourceName=name,
            )

    def _close(self, name: str) -> None:
        db = self._open.pop(name, None)
        if db is not None:
            db.close()

    def close(self) -> None:
        with self._lock:
            for name in list(self._open):
                self._close(name)

    # -- export jobs --------------------------------------------------------------------
    def save_export(self, record: ExportRecord) -> None:
        with self._lock:
            _write_json(self._meta / "exports" / f"{record.export_id}.json", asdict(record))

    def get_export(self, export_id: str) -> ExportRecord | None:
        path = self._meta / "exports" / f"{export_id}.json"
        if not re.fullmatch(r"[A-Za-z0-9]{22}", export_id) or not path.exists():
            return None
        return ExportRecord(**json.loads(path.read_text(encoding="utf-8")))

    def exports(self) -> list[ExportRecord]:
        found = []
        for path in sorted((self._meta / "exports").glob("*.json")):
            found.append(ExportRecord(**json.loads(path.read_text(encoding="utf-8"))))
        return sorted(found, key=lambda r: (r.created, r.export_id))
