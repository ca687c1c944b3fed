"""``ledger serve``: QLDB's session API and control plane over HTTP, for ledgers under ROOT.

Unmodified QLDB drivers (pyqldb, Node.js...), boto3 and the AWS CLI talk to it once
``AWS_ENDPOINT_URL_QLDB_SESSION`` and ``AWS_ENDPOINT_URL_QLDB`` point at it.

* ``app``: the aiohttp application, request log, clean stop;
* ``sigv4``: Signature Version 4, checked against a shared-credentials file;
* ``session_api`` and ``sessions``: SendCommand, and what the server remembers between
  requests (sessions, open transactions, digests, pages);
* ``control``: the control-plane operations; ``catalog``: the ledgers under ROOT and
  their records; ``exports``: ExportJournalToS3 jobs.

Nothing outside ``ledger.cli`` imports this package.
"""

from __future__ import annotations

from ledger.server.app import ServeConfig, Server, run, serve

__all__ = ["ServeConfig", "Server", "run", "serve"]
