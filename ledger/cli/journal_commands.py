"""Proof-of-history commands: get-digest, get-block, get-revision, prove-consistency,
verify, export, import, verify-export and keygen.

Registered on the ``ledger`` click group by ledger/cli/main.py (``register(group)``).
Output is shaped like QLDB's API (GetDigest, GetBlock, GetRevision), so verifiers
written for QLDB read it unchanged.  Data goes to stdout, progress to stderr.
Exit codes: 0 ok, 1 could not run, 2 usage, 3 verification failed.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import functools
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from ledger import ion
from ledger.cli.errors import EXIT_USAGE, EXIT_VERIFY, CliFailure, reported
from ledger.cli.options import LedgerPath
from ledger.errors import DataError, VerificationError
from ledger.proof import export as export_mod
from ledger.proof import proofs, signing
from ledger.proof.bucket import OUTPUT_FORMATS, export_to_bucket
from ledger.proof.verify import VerifyReport, check_consistency, verify
from ledger.query.context import BlockAddress

F = TypeVar("F", bound=Callable[..., Any])
_PROGRESS_MIN_BLOCKS = 100


# -- shared plumbing ----------------------------------------------------------------------------
def VerificationFailed(message: str) -> CliFailure:  # noqa: N802 - raised like a class
    """A check ran and failed: exit 3, message on stderr."""
    return CliFailure(message, EXIT_VERIFY)


def _errors(fn: F) -> F:
    """Ledger and file errors become messages and exit codes (VerificationError: 3)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with reported():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _emit(value: Any) -> None:
    click.echo(json.dumps(value, indent=4))


def _b64(value: bytes) -> str:
    """Hashes are shown in base64 everywhere, as QLDB's API gives them."""
    return base64.b64encode(value).decode("ascii")


@contextlib.contextmanager
def _open(path: str, *, readonly: bool = True) -> Iterator[Any]:
    import ledger

    db = ledger.connect(path, readonly=readonly)
    try:
        yield db
    finally:
        db.close()


@contextlib.contextmanager
def _snapshot(db: Any) -> Iterator[Any]:
    txn = db.journal.store.read()
    try:
        yield txn
    finally:
        txn.close()


class _IonAddress(click.ParamType):
    name = "IONTEXT"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> BlockAddress:
        if isinstance(value, BlockAddress):
            return value
        try:
            return proofs.parse_address(str(value))
        except DataError as exc:
            self.fail(
                f'{value!r} is not a block address like {{strandId:"…",sequenceNo:N}}: {exc}',
                param,
                ctx,
            )


class _Timestamp(click.ParamType):
    name = "TIMESTAMP"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> _dt.datetime:
        if isinstance(value, _dt.datetime):
            return value
        try:
            moment = _dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 timestamp like 2024-05-01T00:00:00Z", param, ctx
            )
        return moment if moment.tzinfo else moment.replace(tzinfo=_dt.UTC)


ADDRESS = _IonAddress()
TIMESTAMP = _Timestamp()
LEDGER_PATH = LedgerPath()  # "no ledger at X", exit 2, as every command says it


def _load_digest(path: str | None, public_key: str | None) -> signing.SavedDigest | None:
    if path is None:
        return None
    trusted = signing.load_public_key(public_key) if public_key else None
    return signing.load_saved_digest(path, trusted_key=trusted)


# -- get-digest, get-block, get-revision ----------------------------------------------------------
@click.command("get-digest")
@click.argument("path", type=LEDGER_PATH)
@click.option(
    "--sign",
    "keyfile",
    type=click.Path(exists=True, dir_okay=False),
    help="Sign the digest with this Ed25519 private key (PEM, see `ledger keygen`).",
)
@_errors
def get_digest(path: str, keyfile: str | None) -> None:
    """Print the ledger digest and its tip address, as QLDB's GetDigest does.

    Save the output: it lets `ledger verify --digest` prove later that the journal
    was only extended, never rewritten or truncated.

    \b
    Examples:
      ledger get-digest my.ledger > digest.json
      ledger get-digest my.ledger --sign signing.pem > digest.signed.json
    """
    with _open(path) as db:
        digest = db.digest()
    if digest.tip.sequence_no < 0:
        raise click.ClickException("the journal is empty: there is no digest yet")
    if keyfile is None:
        _emit(signing.qldb_digest_json(digest.digest, digest.tip))
        return
    _emit(signing.sign_digest(digest.digest, digest.tip, signing.load_private_key(keyfile)))


def _proof_json(proof: list[bytes] | None) -> dict[str, Any]:
    return {} if proof is None else {"Proof": {"IonText": proofs.proof_ion_text(proof)}}


@click.command("get-block")
@click.argument("path", type=LEDGER_PATH)
@click.option(
    "--block-address", required=True, type=ADDRESS, help="Ion text of the block's address."
)
@click.option(
    "--digest-tip-address",
    type=ADDRESS,
    help="Tip of the digest the proof should fold to (omit: no proof).",
)
@_errors
def get_block(
    path: str, block_address: BlockAddress, digest_tip_address: BlockAddress | None
) -> None:
    """Print a block and its proof, as QLDB's GetBlock does.

    The proof folds with dot from the block's blockHash to the digest at the tip.

    \b
    Example:
      ledger get-block my.ledger \\
        --block-address '{strandId:"KmA3ZZca7vAIiJAK9S5Iwl",sequenceNo:14}' \\
        --digest-tip-address '{strandId:"KmA3ZZca7vAIiJAK9S5Iwl",sequenceNo:73}'
    """
    with _open(path) as db, _snapshot(db) as txn:
        block, proof = proofs.get_block(db.journal, txn, block_address, digest_tip_address)
        _emit({"Block": {"IonText": ion.dumps_text(block)}, **_proof_json(proof)})


@click.command("get-revision")
@click.argument("path", type=LEDGER_PATH)
@click.option(
    "--block-address", required=True, type=ADDRESS, help="Ion text of the block's address."
)
@click.option("--document-id", required=True, help="The document's id (22 characters).")
@click.option(
    "--digest-tip-address",
    type=ADDRESS,
    help="Tip of the digest the proof should fold to (omit: no proof).",
)
@_errors
def get_revision(
    path: str,
    block_address: BlockAddress,
    document_id: str,
    digest_tip_address: BlockAddress | None,
) -> None:
    """Print a document revision and its proof, as QLDB's GetRevision does.

    The proof folds with dot from the revision's hash to the digest at the tip.

    \b
    Example:
      ledger get-revision my.ledger \\
        --block-address '{strandId:"KmA3ZZca7vAIiJAK9S5Iwl",sequenceNo:14}' \\
        --document-id JUJgkIcNbhS2goq8RqLuZ4 \\
        --digest-tip-address '{strandId:"KmA3ZZca7vAIiJAK9S5Iwl",sequenceNo:73}'
    """
    with _open(path) as db, _snapshot(db) as txn:
        revision, proof = proofs.get_revision(
            db.journal, txn, block_address, document_id, digest_tip_address
        )
        _emit({"Revision": {"IonText": ion.dumps_text(revision)}, **_proof_json(proof)})


# -- prove-consistency ------------------------------------------------------------------------------
@click.command("prove-consistency")
@click.argument("path", type=LEDGER_PATH)
@click.option(
    "--from-digest",
    "digest_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A digest saved by `ledger get-digest` (plain or signed).",
)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    help="Require the saved digest to be signed by this key (PEM).",
)
@_errors
def prove_consistency(path: str, digest_file: str, public_key: str | None) -> None:
    """Prove that today's journal extends the one a saved digest covers.

    Prints both digests and an RFC 9162 consistency proof (dot as the node hash),
    and whether it checks out; exits 3 when it does not.

    \b
    Example:
      ledger get-digest my.ledger > monday.json
      ...
      ledger prove-consistency my.ledger --from-digest monday.json
    """
    saved = _load_digest(digest_file, public_key)
    assert saved is not None
    with _open(path) as db, _snapshot(db) as txn:
        if saved.tip.strand_id != db.strand_id:
            raise VerificationFailed(
                f"the saved digest is for strand {saved.tip.strand_id}, "
                f"not this ledger's ({db.strand_id})"
            )
        digest, tip = db.journal.digest(txn)
        if saved.tip.sequence_no > tip:
            raise VerificationFailed(
                f"the journal ends at block {tip} but the saved digest covers up to block "
                f"{saved.tip.sequence_no}: the newest blocks were removed (truncated)"
            )
        proof = proofs.consistency(db.journal, txn, saved.tip.sequence_no, tip)
    out = {
        "FromDigest": saved.to_qldb_json(),
        "ToDigest": signing.qldb_digest_json(digest, BlockAddress(saved.tip.strand_id, tip)),
        "Proof": {"IonText": proofs.proof_ion_text(proof)},
    }
    try:
        check_consistency(saved.digest, saved.tip.sequence_no, digest, tip, proof)
    except VerificationError:
        _emit({**out, "Consistent": False})
        raise
    _emit({**out, "Consistent": True})


# -- verify -------------------------------------------------------------------------------------
@contextlib.contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled or total < _PROGRESS_MIN_BLOCKS:
        yield None
        return
    with click.progressbar(length=total, label="verifying", file=sys.stderr) as bar:

        def update(done: int, _total: int) -> None:
            bar.update(done - bar.pos)

        yield update


def _show_report(report: VerifyReport) -> None:
    tip = proofs.address_ion_text(report.tip)
    digest = base64.b64encode(report.digest).decode("ascii")
    if report.verified:
        click.echo(f"verified: {report.blocks} blocks, {report.revisions} revisions")
        click.echo(f"digest {digest} at {tip}")
        if report.saved_digest is not None:
            click.echo(
                f"extends the saved digest at sequenceNo {report.saved_digest.tip.sequence_no}"
            )
        return
    click.echo(f"verification FAILED: {report.failure}")
    for name in ("block", "document", "expected", "computed"):
        value = getattr(report, name)
        if value is not None:
            click.echo(f"  {name}: {_b64(value) if isinstance(value, bytes) else value}")


def _failed_report(db: Any, exc: VerificationError) -> VerifyReport:
    return VerifyReport(False, 0, 0, b"", BlockAddress(db.strand_id, -1), failure=str(exc))


@click.command("verify")
@click.argument("path", type=LEDGER_PATH)
@click.option(
    "--digest",
    "digest_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Also prove the journal extends this saved digest (plain or signed).",
)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    help="Require the saved digest to be signed by this key (PEM).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_context
@_errors
def verify_command(
    ctx: click.Context, path: str, digest_file: str | None, public_key: str | None, as_json: bool
) -> None:
    """Recompute every hash of the journal and check the summary against it.

    Checks revision, entries and block hashes, the chain, the ledger tree and the
    digest, then replays the journal against documents, tables, indexes and history.
    Without a saved digest, deleting the newest blocks cannot be told from a shorter
    journal: keep digests (`ledger get-digest`) and pass one with --digest.
    Exit 0 verified, 3 failed, 1 could not run.

    \b
    Examples:
      ledger verify my.ledger
      ledger verify my.ledger --digest monday.json --json
    """
    if public_key and not digest_file:
        raise click.UsageError(
            "--public-key checks the signature of a saved digest: add --digest FILE"
        )
    with _open(path) as db:
        try:
            saved = _load_digest(digest_file, public_key)
        except VerificationError as exc:
            report = _failed_report(db, exc)
        else:
            with _snapshot(db) as txn:
                total = db.journal.tip(txn).seq + 1
            with _progress(total, sys.stderr.isatty() and not as_json) as progress:
                report = verify(db.journal, saved_digest=saved, progress=progress)
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        _show_report(report)
        if report.verified and public_key and report.saved_digest is not None:
            click.echo(_signature_line(report.saved_digest, public_key))
    if not report.verified:
        ctx.exit(EXIT_VERIFY)


def _signature_line(saved: signing.SavedDigest, public_key: str) -> str:
    key = saved.public_key or b""
    return f"signature by {public_key} (key id {signing.key_id(key)}) valid"


# -- check-proof --------------------------------------------------------------------------------
def _read_proof_file(path: str) -> tuple[str, Any, list[bytes]]:
    """``("revision"|"block", value, proof)`` from `ledger get-revision/get-block` output."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{path} is not the JSON that get-revision or get-block prints: {exc}"
        ) from exc
    kind = next((k for k in ("Revision", "Block") if isinstance(doc, dict) and k in doc), None)
    if kind is None:
        raise DataError(
            f"{path} holds no Revision or Block (save `ledger get-revision ...` output)"
        )
    proof = doc.get("Proof")
    if not isinstance(proof, dict) or "IonText" not in proof:
        raise DataError(
            f"{path} has no Proof: ask for one with --digest-tip-address when you save it"
        )
    value = ion.loads(str(doc[kind]["IonText"]))
    return kind.lower(), value, proofs.parse_proof(str(proof["IonText"]))


@click.command("check-proof")
@click.argument("proof_file", metavar="PROOF", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--digest",
    "digest_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The saved digest the proof leads to (from `ledger get-digest`, plain or signed).",
)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    help="Require the saved digest to be signed by this key (PEM).",
)
@_errors
def check_proof(proof_file: str, digest_file: str, public_key: str | None) -> None:
    """Check a saved proof against a saved digest, with no ledger at hand.

    PROOF is what `ledger get-revision` or `ledger get-block` printed (with
    --digest-tip-address).  The revision's (or block's) hash is recomputed from its
    contents and the proof folded to the digest.  Exit 0 valid, 3 not, 1 or 2 when
    the files cannot be read.

    \b
    Example:
      ledger get-digest my.ledger > digest.json
      ledger get-revision my.ledger --block-address '{strandId:"…",sequenceNo:14}' \\
        --document-id JUJgkIcNbhS2goq8RqLuZ4 \\
        --digest-tip-address '{strandId:"…",sequenceNo:73}' > proof.json
      ledger check-proof proof.json --digest digest.json
    """
    from ledger.proof.verify import check_block_proof, check_revision_proof

    saved = _load_digest(digest_file, public_key)
    assert saved is not None
    kind, value, proof = _read_proof_file(proof_file)
    if kind == "revision":
        check_revision_proof(value, proof, saved)
        what = f"revision of document {value['metadata']['id']}"
    else:
        check_block_proof(value, proof, saved)
        what = f"block {ion.dumps_text(value['blockAddress'])}"
    click.echo(
        f"proof valid: the {what} is covered by the digest at {proofs.address_ion_text(saved.tip)}"
    )
    click.echo(f"digest {_b64(saved.digest)}")
    if public_key:
        click.echo(_signature_line(saved, public_key))


# -- export, import, verify-export ----------------------------------------------------------------
@click.command("export")
@click.argument("path", type=LEDGER_PATH)
@click.argument("directory", type=click.Path(file_okay=False), required=False)
@click.option(
    "--bucket-dir",
    type=click.Path(file_okay=False),
    help="Write QLDB's S3 layout under this directory (a local bucket), beside earlier exports.",
)
@click.option("--prefix", default="", help="Key prefix in the bucket (end it with /).")
@click.option("--start", type=TIMESTAMP, help="Inclusive start of block time (ISO 8601).")
@click.option("--end", type=TIMESTAMP, help="Exclusive end of block time (ISO 8601).")
@click.option(
    "--format",
    "--output-format",
    "fmt",
    type=click.Choice(sorted(export_mod.FORMATS) + sorted(OUTPUT_FORMATS), case_sensitive=False),
    default="ion_text",
    show_default=True,
    help="Encoding of data objects and manifests (QLDB's OutputFormat).",
)
@_errors
def export_command(
    path: str,
    directory: str | None,
    bucket_dir: str | None,
    prefix: str,
    start: _dt.datetime | None,
    end: _dt.datetime | None,
    fmt: str,
) -> None:
    """Export journal blocks in QLDB's journal export format.

    To a new DIRECTORY, or with --bucket-dir and --prefix to QLDB's S3 layout:
    PREFIX<exportId>.started.manifest, the data objects
    PREFIXYYYY/MM/DD/HH/<strandId>.<first>-<last>.ion, and
    PREFIX<exportId>.<strandId>.completed.manifest listing their keys.  Each export has
    its own id, so many can share a prefix (verify-export and import take --export-id).

    \b
    Examples:
      ledger export my.ledger backup/
      ledger export my.ledger march/ --start 2024-03-01T00:00:00Z --end 2024-04-01T00:00:00Z
      ledger export my.ledger lines/ --format json   # JSON Lines: cannot be re-verified fully
      ledger export my.ledger --bucket-dir bucket/ --prefix journalExport/ --output-format ION_BINARY
    """
    if (directory is None) == (bucket_dir is None):
        raise click.UsageError("give either DIRECTORY or --bucket-dir (with --prefix)")
    if prefix and bucket_dir is None:
        raise click.UsageError("--prefix needs --bucket-dir")
    fmt = fmt.lower()
    with _open(path) as db:
        if bucket_dir is not None:
            result = export_to_bucket(
                db.journal, bucket_dir, prefix, start=start, end=end, output_format=fmt.upper()
            )
        else:
            result = export_mod.export(db.journal, str(directory), start, end, fmt)
    out = {
        "ExportId": result.export_id,
        "StrandId": result.strand_id,
        "FirstSequenceNo": result.first,
        "LastSequenceNo": result.last,
        "Keys": result.keys,
        "Directory": result.directory,
    }
    if bucket_dir is not None:
        out.update(Prefix=result.prefix, OutputFormat=result.output_format)
        out.update(StartedManifest=result.started_key, CompletedManifest=result.completed_key)
    _emit(out)


_EXPORT_ID_OPTION = click.option(
    "--export-id", help="Which export, when the directory holds several (default: the newest)."
)


@click.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.argument("path", type=click.Path())
@_EXPORT_ID_OPTION
@_errors
def import_command(directory: str, path: str, export_id: str | None) -> None:
    """Build a new ledger from a journal export (ours or Amazon QLDB's).

    Every block is verified as it is read; a broken export is refused, naming the
    first bad block, and nothing is left behind.  Blocks keep their hashes, so
    digests saved before the export verify against the new ledger.

    \b
    Example:
      ledger import backup/ restored.ledger
      ledger verify restored.ledger --digest monday.json
      ledger import bucket/ restored.ledger --export-id 8UyXulxccYLAsbN1aon7e4
    """
    created = export_mod.import_export(directory, path, export_id=export_id)
    with _open(created) as db:
        digest = db.digest()
        shown = db.path  # a URL without its password
    _emit({"Ledger": shown, **signing.qldb_digest_json(digest.digest, digest.tip)})


@click.command("verify-export")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--digest",
    "digest_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Also check the export against this saved digest.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@_EXPORT_ID_OPTION
@click.pass_context
@_errors
def verify_export_command(
    ctx: click.Context,
    directory: str,
    digest_file: str | None,
    as_json: bool,
    export_id: str | None,
) -> None:
    """Check a journal export without importing it (also a time-ranged one).

    \b
    Example:
      ledger verify-export backup/ --digest monday.json
      ledger verify-export bucket/ --export-id 8UyXulxccYLAsbN1aon7e4
    """
    if not any(Path(directory).rglob("*.completed.manifest")):
        raise CliFailure(
            f"{directory} is not a journal export (it has no *.completed.manifest)", EXIT_USAGE
        )
    report = export_mod.verify_export(
        directory, saved_digest=_load_digest(digest_file, None), export_id=export_id
    )
    if as_json:
        click.echo(json.dumps(report.to_json()))
    elif report.verified:
        click.echo(
            f"verified: {report.blocks} blocks ({report.first}-{report.last}) of strand "
            f"{report.strand_id}, export {report.export_id}"
        )
        if report.digest is not None:
            click.echo(
                f"digest {base64.b64encode(report.digest).decode('ascii')} at sequenceNo {report.last}"
            )
        for note in report.notes:
            click.echo(f"note: {note}")
    else:
        where = f" in {report.key}" if report.key else ""
        click.echo(f"verification FAILED{where}: {report.failure}")
    if not report.verified:
        ctx.exit(EXIT_VERIFY)


# -- keys ---------------------------------------------------------------------------------------
@click.command("keygen")
@click.argument("keyfile", type=click.Path(dir_okay=False))
@_errors
def keygen(keyfile: str) -> None:
    """Create an Ed25519 signing key: KEYFILE (private, mode 0600) and KEYFILE.pub.

    \b
    Example:
      ledger keygen signing.pem
      ledger get-digest my.ledger --sign signing.pem > digest.json
      ledger verify my.ledger --digest digest.json --public-key signing.pem.pub
    """
    key = signing.generate_key()
    public_path = Path(f"{keyfile}.pub")
    if public_path.exists():
        raise DataError(f"{public_path} already exists; not overwriting a key file")
    signing.save_private_key(key, keyfile)
    signing.save_public_key(key.public_key(), public_path)
    _emit(
        {
            "PrivateKey": keyfile,
            "PublicKey": str(public_path),
            "KeyId": signing.key_id(key.public_key()),
        }
    )


COMMANDS = (
    get_digest,
    get_block,
    get_revision,
    prove_consistency,
    verify_command,
    export_command,
    import_command,
    verify_export_command,
    keygen,
    check_proof,
)


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    for command in COMMANDS:
        group.add_command(command)
