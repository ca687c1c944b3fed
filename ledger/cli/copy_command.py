"""``ledger copy SRC DST``: a ledger copied between backends, its digest checked."""

from __future__ import annotations

import json

import click

from ledger.cli.errors import reported
from ledger.cli.options import LedgerLocation
from ledger.proof import signing
from ledger.proof.copy import copy_ledger
from ledger.query.context import BlockAddress


@click.command("copy")
@click.argument("source", type=LedgerLocation(exists=True, file_okay=False))
@click.argument("destination", type=LedgerLocation(file_okay=False))
def copy_command(source: str, destination: str) -> None:
    """Copy the ledger at SOURCE to a new ledger at DESTINATION.

    Either may be a directory (LMDB) or a postgresql:// URL.  Every block, hash and
    summary record is copied from one snapshot of the source; the copy's digest is
    then checked against the source's (a mismatch removes the copy, exit 3).

    \b
    Examples:
      ledger copy vehicles.ledger 'postgresql://app@db1/ledgers?ledger=vehicles'
      ledger copy 'postgresql://app@db1/ledgers?ledger=vehicles' back.ledger
    """
    with reported():
        result = copy_ledger(source, destination)
    digest = signing.qldb_digest_json(result.digest, BlockAddress(result.strand_id, result.tip_seq))
    click.echo(json.dumps({"Source": result.source, "Destination": result.destination,
                           "Keys": result.keys, **digest}, indent=4))


def register(group: click.Group) -> None:
    group.add_command(copy_command)
