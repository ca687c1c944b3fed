"""Journal export and import in QLDB's export format (QLDB-HASHING.md §8).

An export directory holds, as a QLDB export's S3 prefix does:

* ``<exportId>.started.manifest`` — the request: ledgerName, exportId,
  inclusiveStartTime, exclusiveEndTime, bucket, prefix, objectEncryptionType,
  outputFormat;
* data objects ``YYYY/MM/DD/HH/<strandId>.<firstSeq>-<lastSeq>.ion`` (``.json`` for
  JSON Lines), each a stream of blocks, one top-level struct per block, in sequence
  order (a new object starts with each hour of block time, or after
  ``blocks_per_file`` blocks);
* ``<exportId>.<strandId>.completed.manifest`` — ``{keys: [...]}``, the data objects in
  order, written last.

Manifests use the export's encoding (Ion text, Ion binary, or JSON).  JSON Lines loses
Ion types, so a JSON export can be checked only partly and cannot be imported.

``verify_export`` checks an export without importing it, also a time-ranged one that
does not start at block 0.  ``import_export`` builds a new ledger from an export (ours
or QLDB's) keeping every block byte-for-byte in value, hence every hash: digests saved
before the export still verify against the imported ledger.
"""

from __future__ import annotations

import base64
import datetime as _dt
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import ion
from ledger.errors import DataError, InternalError, VerificationError
from ledger.hashing import dot, merkle_root, tree
from ledger.journal import blocks as stored_blocks
from ledger.journal import catalog
from ledger.journal.catalog import CATALOG_TABLE_ID
from ledger.journal.history import to_ms
from ledger.journal.journal import Journal, NodeStore
from ledger.journal.transaction import index_value
from ledger.json_text import dumps_json
from ledger.proof.signing import SavedDigest
from ledger.proof.verify import CatalogReplay, Frontier, jsonable
from ledger.proof.verify_parts import (
    RevisionParts,
    block_ms,
    block_seq_and_strand,
    check_block_contents,
    is_opaque,
    revision_parts,
    revision_table,
)
from ledger.query.context import TableInfo
from ledger.storage import layout
from ledger.storage.kv import ReadTxn, WriteTxn

FORMATS = {"ion_text": "ION_TEXT", "ion_binary": "ION_BINARY", "json": "JSON"}
_DATA_NAME = re.compile(r"(?:^|[./])([A-Za-z0-9]{22})\.(\d+)-(\d+)\.(?:ion|json)$")
_COMPLETED = re.compile(r"^(.+)\.([A-Za-z0-9]{22})\.completed\.manifest$")
ID_CHARS = ion.ID_LENGTH
IMPORT_BATCH = 256  # blocks per LMDB write transaction while importing


# -- export -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportResult:
    """One export: its id, and the object keys it wrote (each a path under ``directory``)."""

    export_id: str
    strand_id: str
    keys: list[str]  # the data objects, as the completed manifest lists them (prefix included)
    first: int | None  # None when no block falls in the time range
    last: int | None
    directory: str
    prefix: str = ""
    output_format: str = "ION_TEXT"
    inclusive_start_time: Any = None  # Ion timestamps, as the started manifest has them
    exclusive_end_time: Any = None
    bucket: str = "local"  # the bucket name the started manifest records

    @property
    def started_key(self) -> str:
        return f"{self.prefix}{self.export_id}.started.manifest"

    @property
    def completed_key(self) -> str:
        return f"{self.prefix}{self.export_id}.{self.strand_id}.completed.manifest"


@dataclass(frozen=True)
class ExportRequest:
    """Where and what to write: the S3 layout's bucket, prefix and time range."""

    root: Path
    prefix: str
    start: _dt.datetime | None
    end: _dt.datetime | None
    fmt: str
    per_file: int
    export_id: str
    bucket: str


def export(
    journal: Journal,
    directory: str | os.PathLike[str],
    start: _dt.datetime | None = None,
    end: _dt.datetime | None = None,
    fmt: str = "ion_text",
    *,
    blocks_per_file: int = 1000,
) -> ExportResult:
    """Write the blocks with ``start <= blockTimestamp < end`` to ``directory`` (new or empty).

    Precondition: ``fmt`` is one of ``ion_text``, ``ion_binary``, ``json``.
    """
    check_format(fmt)
    out = _empty_dir(Path(directory))
    request = ExportRequest(out, "", start, end, fmt, blocks_per_file, ion.new_id(), "local")
    return write_export(journal, request)


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise DataError(f"export format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def write_export(journal: Journal, request: ExportRequest) -> ExportResult:
    """Write one export under ``request.root``: each object at the path its key names."""
    txn = journal.store.read()
    try:
        return _export(journal, txn, request)
    finally:
        txn.close()


def _empty_dir(path: Path) -> Path:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise DataError(f"{path} is not an empty directory; an export needs one of its own")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _export(journal: Journal, txn: ReadTxn, request: ExportRequest) -> ExportResult:
    export_id, strand, fmt = request.export_id, journal.strand_id, request.fmt
    start, end, out, prefix = request.start, request.end, request.root, request.prefix
    first, last = _seq_range(txn, start, end)
    started = {
        "ledgerName": journal.meta().get("name", ""),
        "exportId": export_id,
        "inclusiveStartTime": _ts(start) if start else _first_time(txn),
        "exclusiveEndTime": _ts(end) if end else ion.now_ms(),
        "bucket": request.bucket,
        "prefix": prefix,
        "objectEncryptionType": "NO_ENCRYPTION",
        "outputFormat": FORMATS[fmt],
    }
    result = ExportResult(
        export_id, strand, [], first, last, str(out), prefix, FORMATS[fmt],
        started["inclusiveStartTime"], started["exclusiveEndTime"], request.bucket,
    )  # fmt: skip
    _write_manifest(_object_path(out, result.started_key), started, fmt)
    if first is not None and last is not None:
        for group in _groups(journal, txn, first, last, request.per_file):
            result.keys.append(_write_object(out, prefix, strand, group, fmt))
    _write_manifest(_object_path(out, result.completed_key), {"keys": result.keys}, fmt)
    return result


def _object_path(root: Path, key: str) -> Path:
    path = root.joinpath(*key.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _ts(moment: _dt.datetime) -> Any:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return ion.timestamp_ms(moment)


def _first_time(txn: ReadTxn) -> Any:
    for key, _ in txn.range("times"):
        return _ts(
            _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
            + _dt.timedelta(milliseconds=layout.read_times_key(key)[0])
        )
    return ion.now_ms()


def _seq_range(
    txn: ReadTxn, start: _dt.datetime | None, end: _dt.datetime | None
) -> tuple[int | None, int | None]:
    """First and last sequenceNo whose blockTimestamp is in ``[start, end)``."""
    lo = None if start is None else layout.times_key(to_ms(start), 0)
    hi = None if end is None else layout.times_key(to_ms(end), 0)
    first = last = None
    for key, _ in txn.range("times", lo, hi):
        seq = layout.read_times_key(key)[1]
        first = seq if first is None else min(first, seq)
        last = seq if last is None else max(last, seq)
    return first, last


@dataclass
class _Group:
    first: int
    hour: str
    raw: list[bytes] = field(default_factory=list)


def _groups(
    journal: Journal, txn: ReadTxn, first: int, last: int, per_file: int
) -> Iterator[_Group]:
    """Blocks ``first..last`` (raw Ion binary), cut at each hour and every ``per_file``."""
    group: _Group | None = None
    for seq in range(first, last + 1):
        block = journal.load_block(txn, seq)
        raw = ion.dumps(block)  # QLDB's shape: one Ion value
        hour = _hour_of(block, seq)
        if group is None or group.hour != hour or len(group.raw) >= per_file:
            if group is not None:
                yield group
            group = _Group(seq, hour)
        group.raw.append(raw)
    if group is not None:
        yield group


def _hour_of(block: Any, seq: int) -> str:
    stamp = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(
        milliseconds=block_ms(block, seq)
    )
    return stamp.strftime("%Y/%m/%d/%H")


def _write_object(out: Path, prefix: str, strand: str, group: _Group, fmt: str) -> str:
    last = group.first + len(group.raw) - 1
    extension = "json" if fmt == "json" else "ion"
    key = f"{prefix}{group.hour}/{strand}.{group.first}-{last}.{extension}"
    _object_path(out, key).write_bytes(_encode_blocks(group.raw, fmt))
    return key


def _encode_blocks(raw: list[bytes], fmt: str) -> bytes:
    if fmt == "ion_binary":
        return b"".join(raw)  # each stored block is a complete Ion binary stream
    if fmt == "ion_text":
        # One space between blocks, as QLDB wrote them: AWS's sample export reader
        # (amazon-qldb-dmv-sample-python, journal_s3_export_reader) splits on "} {".
        return (" ".join(ion.dumps_text(ion.loads(r)) for r in raw) + "\n").encode("utf-8")
    return "".join(dumps_json(ion.loads(r)) + "\n" for r in raw).encode("utf-8")


def _write_manifest(path: Path, value: dict[str, Any], fmt: str) -> None:
    if fmt == "ion_binary":
        path.write_bytes(ion.dumps(value))
    elif fmt == "ion_text":
        path.write_text(ion.dumps_text(value) + "\n", "utf-8")
    else:
        path.write_text(dumps_json(value) + "\n", "utf-8")


# -- reading an export ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportFiles:
    """An export directory, resolved: its manifests and data objects in order."""

    directory: Path
    export_id: str
    strand_id: str
    keys: list[str]
    paths: list[Path]
    output_format: str | None  # from the started manifest, when present


def read_export(directory: str | os.PathLike[str], export_id: str | None = None) -> ExportFiles:
    """Find an export's completed manifest under ``directory`` (an export directory, or
    a local mirror of a bucket holding several exports under one or more prefixes) and
    resolve its keys to files: the export ``export_id``, else the only one, else the
    newest (the latest completed manifest)."""
    root = Path(directory)
    if not root.is_dir():
        raise DataError(f"{root} is not a directory")
    manifest, found_id, strand = _pick_manifest(root, export_id)
    keys = _manifest_keys(manifest)
    paths = [_resolve_key(root, manifest.parent, key) for key in keys]
    started_name = manifest.name[: -len(f"{found_id}.{strand}.completed.manifest")]
    started = manifest.parent / f"{started_name}{found_id}.started.manifest"
    fmt = _read_manifest(started).get("outputFormat") if started.exists() else None
    return ExportFiles(root, found_id, strand, keys, paths, None if fmt is None else str(fmt))


def _pick_manifest(root: Path, export_id: str | None) -> tuple[Path, str, str]:
    """(the completed manifest, its exportId, its strandId)."""
    found = []
    for path in root.rglob("*.completed.manifest"):
        match = _COMPLETED.search(path.name)
        if match is None:
            raise DataError(f"{path.name}: expected <exportId>.<strandId>.completed.manifest")
        found.append((path, match.group(1)[-ID_CHARS:], match.group(2)))
    if export_id is not None:
        found = [f for f in found if f[1] == export_id]
        if not found:
            raise DataError(f"{root} holds no completed export {export_id}")
    if not found:
        raise DataError(f"{root}: no *.completed.manifest (not a finished journal export)")
    return max(found, key=lambda f: (f[0].stat().st_mtime_ns, f[1]))


def _read_manifest(path: Path) -> Any:
    raw = path.read_bytes()
    try:
        value = ion.loads(raw)  # Ion text, Ion binary, and JSON (a subset of Ion text)
    except DataError as exc:
        raise DataError(f"{path.name}: not an Ion or JSON manifest ({exc})") from None
    if not isinstance(value, Mapping):
        raise DataError(f"{path.name}: a manifest is a struct")
    return value


def _manifest_keys(path: Path) -> list[str]:
    keys = _read_manifest(path).get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise DataError(f"{path.name}: the completed manifest needs keys: [string, ...]")
    return [str(k) for k in keys]


def _resolve_key(root: Path, manifest_dir: Path, key: str) -> Path:
    """A manifest key as a file: relative to the manifest, or with its S3 prefix dropped."""
    parts = [p for p in key.split("/") if p]
    if ".." in parts:
        raise DataError(f"data object key {key!r} points outside the export")
    for base in (manifest_dir, root):
        for skip in range(len(parts)):
            candidate = base.joinpath(*parts[skip:])
            if candidate.is_file():
                return candidate
    raise DataError(f"data object {key!r} listed in the manifest is missing from {root}")


def is_json(files: ExportFiles) -> bool:
    """JSON Lines, as the started manifest says (or, without one, the data object names).

    Decided once per export, never per block: a block whose hashes turned into strings
    in an Ion export is damage, not a reason to check less.
    """
    if files.output_format is not None:
        return files.output_format == "JSON"
    return bool(files.keys) and all(key.endswith(".json") for key in files.keys)


def iter_objects(files: ExportFiles) -> Iterator[tuple[str, Path, int | None, int | None]]:
    """(key, file, first and last sequenceNo in its name) of each data object in order."""
    for key, path in zip(files.keys, files.paths, strict=True):
        match = _DATA_NAME.search(key)
        first = int(match.group(2)) if match else None
        last = int(match.group(3)) if match else None
        yield key, path, first, last


def load_blocks(key: str, path: Path, first: int | None) -> list[Any]:
    """Every block in one data object (Ion text, Ion binary or JSON Lines)."""
    try:
        return ion.loads_all(path.read_bytes())
    except Exception as exc:  # noqa: BLE001 - corrupt bytes may break the Ion reader anyhow
        raise VerificationError(
            f"data object {key} is not valid Ion ({exc})", block=first
        ) from None


def iter_blocks(files: ExportFiles) -> Iterator[tuple[str, int | None, int | None, list[Any]]]:
    """(key, first, last, blocks) for each data object in order."""
    for key, path, first, last in iter_objects(files):
        yield key, first, last, load_blocks(key, path, first)


# -- verify an export -----------------------------------------------------------------------------
@dataclass
class ExportReport:
    """What ``verify_export`` found."""

    verified: bool
    export_id: str | None = None
    blocks: int = 0
    first: int | None = None
    last: int | None = None
    strand_id: str | None = None
    format: str | None = None
    digest: bytes | None = None  # the digest at ``last`` when the export starts at block 0
    failure: str | None = None
    block: int | None = None
    document: str | None = None
    key: str | None = None
    expected: object = None
    computed: object = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verified": self.verified,
            "exportId": self.export_id,
            "blocks": self.blocks,
            "first": self.first,
            "last": self.last,
            "strandId": self.strand_id,
            "format": self.format,
            "digest": base64.b64encode(self.digest).decode("ascii")
            if self.digest is not None
            else None,
            "failure": self.failure,
            "notes": self.notes,
        }
        if not self.verified:
            out.update(
                block=self.block,
                document=self.document,
                key=self.key,
                expected=jsonable(self.expected),
                computed=jsonable(self.computed),
            )
        return out


class _ChainChecker:
    """Checks blocks one after another: hashes, strand, sequence, chain, digest so far."""

    def __init__(self, files: ExportFiles, saved: SavedDigest | None = None) -> None:
        self.strand = files.strand_id
        self.saved = saved
        self.next_seq: int | None = None
        self.previous: bytes | None = None
        self.frontier: Frontier | None = None
        self.count = 0
        self.json = is_json(files)

    def check(self, block: Any) -> int:
        seq = self._seq(block)
        if self.count == 0 and seq == 0:
            self.previous, self.frontier = b"", Frontier()
        if self.json:
            block_hash = _check_json_block(block, seq, self.strand, self.previous)
        else:
            block_hash = check_block_contents(block, seq, self.strand, self.previous)
        self.previous, self.next_seq = block_hash, seq + 1
        self.count += 1
        if self.frontier is not None:
            self.frontier.push(block_hash)
            self._check_saved(seq)
        return seq

    def _seq(self, block: Any) -> int:
        if not isinstance(block, Mapping):
            raise VerificationError(
                "a data object holds a value that is not a block struct", block=self.next_seq
            )
        seq, _ = block_seq_and_strand(block, self.next_seq)
        if self.next_seq is not None and seq != self.next_seq:
            raise VerificationError(
                "blocks are not consecutive",
                expected=self.next_seq,
                computed=seq,
                block=self.next_seq,
            )
        return seq

    def _check_saved(self, seq: int) -> None:
        saved = self.saved
        if saved is None or saved.tip.sequence_no != seq or self.frontier is None:
            return
        if saved.tip.strand_id != self.strand:
            raise VerificationError(
                "the saved digest belongs to another strand",
                expected=saved.tip.strand_id,
                computed=self.strand,
            )
        root = self.frontier.root()
        if root != saved.digest:
            raise VerificationError(
                "the exported blocks up to the saved tip do not hash to the saved digest",
                expected=saved.digest,
                computed=root,
                block=seq,
            )


def _b64_field(block: Mapping[str, Any], name: str, seq: int) -> bytes:
    try:
        return base64.b64decode(block[name], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"{name} is not base64 ({exc})", block=seq) from None


def _check_json_block(
    block: Mapping[str, Any], seq: int, strand: str, previous: bytes | None
) -> bytes:
    """What a JSON (down-converted) block still proves: entriesHash, blockHash, chain.

    Revision hashes and H(transactionInfo) need the Ion values JSON lost.
    """
    _, claimed_strand = block_seq_and_strand(block, seq)
    if claimed_strand != strand:
        raise VerificationError(
            "blockAddress.strandId is not the export's strand",
            expected=strand,
            computed=claimed_strand,
            block=seq,
        )
    entries = [_b64_field({"e": e}, "e", seq) for e in block.get("entriesHashList") or ()]
    hashes = [_b64_field(r, "hash", seq) for r in block.get("revisions") or ()]
    if hashes and merkle_root(hashes) not in entries:
        raise VerificationError("the revisions root is not in entriesHashList", block=seq)
    entries_hash = merkle_root(entries)
    if entries_hash != _b64_field(block, "entriesHash", seq):
        raise VerificationError("entriesHash does not match", computed=entries_hash, block=seq)
    prev = _b64_field(block, "previousBlockHash", seq) if block.get("previousBlockHash") else b""
    if previous is not None and prev != previous:
        raise VerificationError(
            "previousBlockHash breaks the chain", expected=previous, computed=prev, block=seq
        )
    block_hash = dot(entries_hash, prev)
    if block_hash != _b64_field(block, "blockHash", seq):
        raise VerificationError("blockHash does not match", computed=block_hash, block=seq)
    return block_hash


def verify_export(
    directory: str | os.PathLike[str],
    *,
    saved_digest: SavedDigest | None = None,
    export_id: str | None = None,
) -> ExportReport:
    """Check an export without importing it; never raises for a broken export.

    Hashes of every block, sequence numbers, the chain within the exported range, the
    manifest keys against the blocks in each object, and (when the export starts at
    block 0) the digest at its last block, compared with ``saved_digest`` if given.
    """
    report = ExportReport(verified=False)
    try:
        files = read_export(directory, export_id)
        report.strand_id, report.format = files.strand_id, files.output_format
        report.export_id = files.export_id
        _verify_files(files, report, saved_digest)
    except VerificationError as exc:
        report.failure, report.block, report.document = str(exc), exc.block, exc.document
        report.expected, report.computed = exc.expected, exc.computed
        return report
    except DataError as exc:
        report.failure = str(exc)
        return report
    report.verified = True
    return report


def _verify_files(files: ExportFiles, report: ExportReport, saved: SavedDigest | None) -> None:
    checker = _ChainChecker(files, saved)
    for key, path, first, last in iter_objects(files):
        report.key = key
        blocks = load_blocks(key, path, first)
        _check_key(key, files.strand_id, first, last, blocks, checker.next_seq)
        for block in blocks:
            seq = checker.check(block)
            report.first = seq if report.first is None else report.first
            report.last, report.blocks = seq, report.blocks + 1
    report.key = None
    if checker.frontier is not None and report.blocks:
        report.digest = checker.frontier.root()
    else:
        report.notes.append(
            "the export does not start at block 0: no digest can be computed from it alone"
        )
    if checker.json:
        report.notes.append(
            "JSON export: revision hashes and H(transactionInfo) cannot be recomputed "
            "(JSON loses Ion types); entriesHash, blockHash and the chain were checked"
        )
    if (
        saved is not None
        and checker.frontier is not None
        and (report.last or -1) < saved.tip.sequence_no
    ):
        raise VerificationError(
            "the export ends before the saved digest's tip",
            expected=saved.tip.sequence_no,
            computed=report.last,
        )


def _check_key(
    key: str,
    strand: str,
    first: int | None,
    last: int | None,
    blocks: list[Any],
    expected: int | None,
) -> None:
    if first is None or last is None:
        raise VerificationError(
            f"data object key {key!r} is not named <strandId>.<first>-<last>.ion", block=expected
        )
    if f"{strand}.{first}-{last}." not in key:
        raise VerificationError(
            f"data object {key} is named for another strand", expected=strand, block=first
        )
    if expected is not None and first != expected:
        raise VerificationError(
            f"data object {key} does not continue the previous one",
            expected=expected,
            computed=first,
            block=expected,
        )
    if len(blocks) != last - first + 1:
        raise VerificationError(
            f"data object {key} holds {len(blocks)} blocks, its name says {last - first + 1}",
            expected=last - first + 1,
            computed=len(blocks),
            block=first,
        )


# -- import ---------------------------------------------------------------------------------------
def import_export(
    directory: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    check: bool = True,
    progress: Callable[[int], None] | None = None,
    export_id: str | None = None,
) -> str:
    """Build a new ledger at ``path`` from the export in ``directory``; returns the path.

    Every block is verified before it is written (VerificationError naming the first
    bad block, and nothing is left at ``path``).  The export must start at block 0 and
    be in Ion (text or binary).  With ``check`` the new ledger is verified at the end.
    """
    from ledger.storage import is_url, open_store

    files = read_export(directory, export_id)
    target = Path(path)
    url = is_url(str(path))  # a postgresql:// URL: a new ledger in that database
    if not url and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise DataError(f"{target} already exists; import builds a new ledger")
    store = open_store(str(path))
    if url:
        _refuse_existing(store)
    try:
        _import_into(store, files, progress)
        if check:
            _check_imported(store)
    except BaseException:
        if url:
            store.drop()  # type: ignore[attr-defined]
        store.close()
        if not url:
            shutil.rmtree(target, ignore_errors=True)
        raise
    store.close()
    return str(path)


def _ledger_name(store: Any) -> str:
    from ledger.storage.postgres_store import PostgresStore

    return store.url.name if isinstance(store, PostgresStore) else Path(store.path).stem


def _refuse_existing(store: Any) -> None:
    txn = store.read()
    try:
        exists = txn.get("meta", b"format") is not None
    finally:
        txn.close()
    if exists:
        store.close()
        raise DataError(f"{store.path} already holds a ledger; import builds a new ledger")


def _import_into(store: Any, files: ExportFiles, progress: Callable[[int], None] | None) -> None:
    checker = _ChainChecker(files)
    if checker.json:
        raise DataError(
            "a JSON export cannot be imported: JSON loses the Ion types the hashes need"
        )
    state = _ImportState(CatalogReplay())
    batch: list[Any] = []
    for key, first, last, blocks in iter_blocks(files):
        _check_key(key, files.strand_id, first, last, blocks, checker.next_seq)
        for block in blocks:
            seq = checker.check(block)
            if checker.frontier is None:
                raise DataError(
                    f"the export starts at block {seq}; an import needs the journal from block 0"
                )
            if checker.count == 1:
                _init_meta(store, files.strand_id, _ledger_name(store))
            batch.append(block)
            if len(batch) >= IMPORT_BATCH:
                state = _write_batch(store, batch, state)
                batch = []
                if progress is not None:
                    progress(checker.count)
    if batch:
        state = _write_batch(store, batch, state)
    if checker.count == 0:
        raise DataError("the export holds no blocks")


def _init_meta(store: Any, strand: str, name: str) -> None:
    from ledger.journal.journal import init_meta

    # Journal creates a ledger with a fresh strand; an import keeps the export's.
    store.write(lambda w: init_meta(w, name, strand))


def _check_imported(store: Any) -> None:
    from ledger.proof.verify import verify

    report = verify(Journal(store))
    if not report.verified:
        raise InternalError(f"the imported ledger does not verify: {report.failure}")


@dataclass
class _ImportState:
    catalog: CatalogReplay
    seq: int = -1


def _write_batch(store: Any, blocks: list[Any], state: _ImportState) -> _ImportState:
    """Write ``blocks`` in one transaction; may run twice (store growth), so it starts
    from a copy of ``state`` and returns the new one."""

    def write(w: WriteTxn) -> _ImportState:
        new = _ImportState(state.catalog.copy(), state.seq)
        for block in blocks:
            _apply_block(w, block, new)
        return new

    result: _ImportState = store.write(write)
    return result


def _apply_block(w: WriteTxn, block: Any, state: _ImportState) -> None:
    seq = int(block["blockAddress"]["sequenceNo"])
    w.put("blocks", layout.block_key(seq), stored_blocks.encode(block))
    tree.append_leaf(NodeStore(w), seq, bytes(block["blockHash"]))
    w.put("times", layout.times_key(block_ms(block, seq), seq), b"")
    revisions = [
        (idx, r, revision_parts(r, seq))
        for idx, r in enumerate(block.get("revisions") or ())
        if not is_opaque(r)
    ]
    tables = {p.doc_id: revision_table(block, p.doc_id, seq) for _, _, p in revisions}
    for _, _, parts in revisions:  # DDL first, as commit applies it
        if tables[parts.doc_id][0] == CATALOG_TABLE_ID:
            _apply_catalog_revision(w, state.catalog, parts, seq)
    for idx, _, parts in revisions:
        table_id, table_name = tables[parts.doc_id]
        if table_id != CATALOG_TABLE_ID:
            for table in state.catalog.user_revision(table_id, table_name, seq):
                w.put("tables", layout.ident(table.table_id), catalog.encode(table))
            _apply_user_revision(w, state.catalog.tables[table_id], parts, seq, idx)
        _record_revision(w, table_id, parts, seq, idx)
    for table_id, last in state.catalog.table_seq.items():
        if last == seq:
            w.put("table_seq", layout.ident(table_id), layout.u64(seq))
    if state.catalog.catalog_seq == seq:
        Journal.set_catalog_seq(w, seq)
    state.seq = seq


def _apply_catalog_revision(
    w: WriteTxn, replay: CatalogReplay, parts: RevisionParts, seq: int
) -> None:
    before, after = replay.catalog_revision(parts.doc_id, parts.data, seq)
    w.put("tables", layout.ident(parts.doc_id), catalog.encode(after))
    old = {ix.index_id for ix in before.indexes} if before else set()
    new = {ix.index_id for ix in after.indexes}
    for index in after.indexes:
        if index.index_id not in old:
            for key, value in w.prefix("docs", layout.doc_prefix(after.table_id)):
                data = ion.loads(stored_blocks.row_data(w, value))
                w.put(
                    "index",
                    layout.index_key(
                        index.index_id, index_value(data, index.field), layout.doc_id_of(key)
                    ),
                    b"",
                )
    for index_id in old - new:
        for key, _ in list(w.prefix("index", layout.ident(index_id))):
            w.delete("index", key)


def _apply_user_revision(
    w: WriteTxn, table: TableInfo, parts: RevisionParts, seq: int, idx: int
) -> None:
    key = layout.doc_key(table.table_id, parts.doc_id)
    old = w.get("docs", key)
    if old is not None:
        old_data = ion.loads(stored_blocks.row_data(w, old))
        for index in table.indexes:
            w.delete(
                "index",
                layout.index_key(index.index_id, index_value(old_data, index.field), parts.doc_id),
            )
    if parts.data is None:
        if old is not None:
            w.delete("docs", key)
        return
    header = layout.DocHeader(parts.version, seq, parts.ms, parts.hash, parts.tx_id)
    w.put("docs", key, layout.encode_doc(header, idx))
    for index in table.indexes:
        w.put(
            "index",
            layout.index_key(index.index_id, index_value(parts.data, index.field), parts.doc_id),
            b"",
        )


def _record_revision(w: WriteTxn, table_id: str, parts: RevisionParts, seq: int, idx: int) -> None:
    w.put(
        "revisions",
        layout.revision_key(parts.doc_id, parts.version),
        layout.location(seq, idx, parts.ms),
    )
    w.put(
        "history",
        layout.history_key(table_id, seq, idx),
        layout.history_value(parts.doc_id, parts.version),
    )


__all__ = [
    "FORMATS",
    "ExportFiles",
    "ExportReport",
    "ExportResult",
    "export",
    "import_export",
    "iter_blocks",
    "iter_objects",
    "load_blocks",
    "read_export",
    "verify_export",
]
