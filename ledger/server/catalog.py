"""The ledgers a server serves: one ordinary ledger directory per LedgerName under ROOT.

``ROOT/<name>/`` is a ledger that ``ledger.connect`` and every other command can open.
What QLDB keeps about a ledger beside its journal (creation time, state, deletion
protection, permissions mode, tags) lives in ``ROOT/.qldb/ledgers/<name>.json``, and
export jobs in ``ROOT/.qldb/exports/<exportId>.json``; each is written to a temporary
file, flushed and renamed, so a crash leaves the old record or the new, never half.
A ledger directory put under ROOT by hand (``ledger create``, a copy) is served too:
its record is made the first time the catalog sees it.

With ``ledger serve ROOT --storage postgresql://…`` the ledgers live in that database
instead (``PostgresHome``: one ledger schema per LedgerName, shared with every other
process that opens it) and ROOT keeps only the records.
"""

from __future__ import annotations

import hashlib
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
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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


class DirectoryHome:
    """Ledgers as directories ``ROOT/<name>/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, name: str) -> bool:
        return is_ledger_dir(self.root / name)

    def names(self, recorded: list[str]) -> list[str]:
        """Every ledger directory, recorded or put under ROOT by hand."""
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if NAME.match(entry.name) and is_ledger_dir(entry)
        )

    def created(self, name: str) -> float:
        return (self.root / name / "data.mdb").stat().st_mtime

    def taken(self, name: str) -> bool:
        return (self.root / name).exists()

    def create(self, name: str, limits: Limits | None) -> ledger.Ledger:
        directory = self.root / name
        directory.mkdir(mode=0o700)
        try:
            return ledger.connect(directory, limits=limits, create=True)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise

    def open(self, name: str, limits: Limits | None) -> ledger.Ledger:
        return ledger.connect(self.root / name, limits=limits, create=False)

    def remove(self, name: str, graveyard: Path) -> None:
        os.replace(self.root / name, graveyard)  # gone at once, then removed
        shutil.rmtree(graveyard, ignore_errors=True)


class PostgresHome:
    """Ledgers in a PostgreSQL database: LedgerName ``vehicle-registration`` is the
    ledger ``q_vehicle_registration`` there (a name with capitals gets a hash suffix, as
    ledger names in PostgreSQL are lower case), so every server in front of that
    database, and ``ledger.connect(url?ledger=…)``, finds the same ledger."""

    def __init__(self, url: str) -> None:
        from ledger.storage import postgres_store

        self._pg = postgres_store
        self.url = url
        postgres_store.PostgresUrl(url)  # a bad URL is refused before serving

    @staticmethod
    def ledger_name(name: str) -> str:
        plain = "q_" + name.lower().replace("-", "_")
        if name == name.lower():
            return plain
        # "__" never comes from a name (QLDB forbids "--"), so the two kinds never meet
        return f"{plain}__{hashlib.sha256(name.encode()).hexdigest()[:8]}"

    def location(self, name: str) -> str:
        parts = urlsplit(self.url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "ledger"]
        query.append(("ledger", self.ledger_name(name)))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def exists(self, name: str) -> bool:
        return self.ledger_name(name) in self._pg.list_ledgers(self.url)

    def names(self, recorded: list[str]) -> list[str]:
        """The ledgers there: the recorded ones, and those another server made whose
        name reads back from the database (a name with capitals does not: it is seen
        once asked for by name)."""
        present = set(self._pg.list_ledgers(self.url))
        found = {name for name in recorded if self.ledger_name(name) in present}
        for stored in present:
            name = stored[2:].replace("_", "-")
            if stored.startswith("q_") and "__" not in stored and NAME.match(name):
                found.add(name)
        return sorted(found)

    def created(self, name: str) -> float:
        return time.time()

    def taken(self, name: str) -> bool:
        return self.exists(name)

    def create(self, name: str, limits: Limits | None) -> ledger.Ledger:
        return ledger.connect(self.location(name), limits=limits)

    def open(self, name: str, limits: Limits | None) -> ledger.Ledger:
        return ledger.connect(self.location(name), limits=limits)

    def remove(self, name: str, graveyard: Path) -> None:
        self._pg.delete_ledger(self.location(name))


class Catalog:
    """The ledgers under ROOT and their records; opened ledgers are kept open."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        limits: Limits | None = None,
        storage: str | None = None,
    ) -> None:
        self.root = Path(root)
        self.limits = limits
        self.home: DirectoryHome | PostgresHome = (
            DirectoryHome(self.root) if storage is None else PostgresHome(storage)
        )
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
            if not self.home.exists(name):
                raise not_found(name)
            if not path.exists():
                return self._adopt(name)
            return LedgerRecord(**json.loads(path.read_text(encoding="utf-8")))

    def _adopt(self, name: str) -> LedgerRecord:
        """A record for a ledger directory put under ROOT without one."""
        record = LedgerRecord(name=name, created=self.home.created(name))
        self.save(record)
        return record

    def save(self, record: LedgerRecord) -> None:
        with self._lock:
            _write_json(self._record_path(record.name), asdict(record))

    def names(self) -> list[str]:
        with self._lock:
            recorded = [p.stem for p in (self._meta / "ledgers").glob("*.json")]
            return self.home.names(recorded)

    def records(self) -> Iterator[LedgerRecord]:
        for name in self.names():
            try:
                yield self.get(name)
            except ServiceError:
                continue  # deleted meanwhile

    # -- life cycle -------------------------------------------------------------------
    def create(self, record: LedgerRecord) -> LedgerRecord:
        with self._lock:
            if self.home.taken(record.name):
                raise ServiceError(
                    "ResourceAlreadyExistsException",
                    f"Ledger {record.name!r} already exists",
                    409,
                    ResourceType="LEDGER",
                    ResourceName=record.name,
                )
            self._open[record.name] = self.home.create(record.name, self.limits)
            try:
                self.save(record)
            except BaseException:
                self._close(record.name)
                self.home.remove(record.name, self._graveyard(record.name))
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
                db = self.home.open(name, self.limits)
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
            self.home.remove(name, self._graveyard(name))
            self._record_path(name).unlink(missing_ok=True)

    def _graveyard(self, name: str) -> Path:
        return self._meta / f"deleting-{name}-{time.time_ns()}"

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
