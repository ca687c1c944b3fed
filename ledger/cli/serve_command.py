"""``ledger serve ROOT``: QLDB's APIs on the network (ledger/server), imported only when run,
so that ``ledger --version`` and every other command stay quick to start."""

from __future__ import annotations

import sys

import click

from ledger.cli.errors import CliFailure

LOOPBACK_HINT = "--allow-any-credentials is for local development: use it with a loopback --host"


@click.command()
@click.argument("root", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8700, show_default=True, type=click.IntRange(0, 65535),
              help="Port for both APIs (0: any free port).")
@click.option("--credentials", "credentials", type=click.Path(exists=True, dir_okay=False),
              help="AWS shared-credentials file: any key in it may sign requests (SigV4).")
@click.option("--allow-any-credentials", is_flag=True,
              help="Accept any well-formed signature (local development; loopback only).")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False),
              help="Serve HTTPS with this PEM certificate (chain).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False),
              help="The PEM private key of --tls-cert.")
@click.option("--region", default="us-east-1", show_default=True, help="Region in ARNs.")
@click.option("--account-id", default="000000000000", show_default=True,
              help="12-digit account id in ARNs.")
@click.option("--storage", metavar="URL",
              help="Keep the ledgers in this PostgreSQL database (postgresql://…) instead "
              "of directories under ROOT, which then holds only their records.")
@click.option("--transaction-timeout", type=float, default=30.0, hidden=True,
              help="Seconds a transaction may stay open (QLDB: 30; for tests).")
@click.option("--session-idle-timeout", type=float, default=60.0, hidden=True,
              help="Seconds an idle session lives (QLDB: 60; for tests).")
def serve(
    root: str,
    host: str,
    port: int,
    credentials: str | None,
    allow_any_credentials: bool,
    tls_cert: str | None,
    tls_key: str | None,
    region: str,
    account_id: str,
    storage: str | None,
    transaction_timeout: float,
    session_idle_timeout: float,
) -> None:
    """Serve the ledgers under ROOT with QLDB's own APIs, so that unmodified QLDB
    drivers, boto3 and the AWS CLI work against them.

    ROOT holds one ledger directory per ledger name (created if missing). Session
    requests (X-Amz-Target) and control-plane requests share one port. Every
    request must be signed (SigV4) with a key from --credentials, or
    --allow-any-credentials on a loopback address. Stop with Ctrl-C or SIGTERM.

    \b
    Examples:
      ledger serve ledgers/ --credentials ~/.aws/credentials
      ledger serve ledgers/ --allow-any-credentials --port 8700
      ledger serve meta/ --credentials creds --storage 'postgresql://app@db1/ledgers'
      export AWS_ENDPOINT_URL_QLDB_SESSION=http://127.0.0.1:8700
      export AWS_ENDPOINT_URL_QLDB=http://127.0.0.1:8700
    """
    from ledger.server import app, sigv4  # the HTTP stack only when serving
    from ledger.server.sessions import Lifetimes

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if credentials and allow_any_credentials:
        raise click.UsageError("give --credentials or --allow-any-credentials, not both")
    if not credentials and not allow_any_credentials:
        raise CliFailure(
            "refusing to start: every QLDB client signs its requests, so the server needs "
            "keys to check them against: --credentials FILE (an AWS shared-credentials "
            "file), or --allow-any-credentials for local development on a loopback --host"
        )
    if allow_any_credentials and not app.is_loopback(host):
        raise CliFailure(f"refusing to start on {host}: {LOOPBACK_HINT}")
    if storage is not None and not storage.startswith(("postgresql://", "postgres://")):
        raise click.BadParameter("must be a postgresql:// URL", param_hint="--storage")
    if not (len(account_id) == 12 and account_id.isdigit()):
        raise click.BadParameter("must be 12 digits", param_hint="--account-id")
    keys = None
    if credentials:
        try:
            keys = sigv4.load_credentials(credentials)
        except Exception as exc:  # a file that is not in the shared-credentials format
            raise CliFailure(f"cannot read --credentials {credentials}: {exc}") from exc
        if not keys:
            raise CliFailure(f"{credentials} holds no aws_access_key_id/aws_secret_access_key pair")
    else:
        print(
            "ledger serve: WARNING: --allow-any-credentials: any signature is accepted; "
            "anyone who can reach this port can read and write every ledger",
            file=sys.stderr,
        )
    config = app.ServeConfig(
        root=root,
        host=host,
        port=port,
        keys=keys,
        tls_cert=tls_cert,
        tls_key=tls_key,
        region=region,
        account_id=account_id,
        lifetimes=Lifetimes(transaction=transaction_timeout, session_idle=session_idle_timeout),
        storage=storage,
    )
    try:
        app.run(config)
    except OSError as exc:
        raise CliFailure(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from exc


def register(group: click.Group) -> None:
    group.add_command(serve)
