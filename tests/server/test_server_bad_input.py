"""Bad input to `ledger serve`, sent raw over HTTP: each gets QLDB's error type and HTTP
status, the server keeps serving everyone else, and nothing is committed.

The server runs with --allow-any-credentials (signatures are tested elsewhere), so these
requests carry a well-formed Authorization header with any signature.
"""

from __future__ import annotations

import base64
import datetime as _dt
import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

import ledger
from ledger import ion
from ledger.hashing import commit_digest


class Raw:
    """Requests to the server as bytes: exactly what a (buggy) client might send."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def send(
        self,
        method: str,
        path: str,
        body: bytes | dict[str, Any] | None = None,
        target: str | None = "QLDBSession.SendCommand",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        data = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        sent = {
            "X-Amz-Date": stamp,
            "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIDANY/{stamp[:8]}/us-east-1/qldb/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}",
            "Content-Type": "application/x-amz-json-1.0" if target else "application/json",
        }
        if target:
            sent["X-Amz-Target"] = target
        sent.update(headers or {})
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, dict(response.getheaders())
        finally:
            conn.close()

    def command(self, body: dict[str, Any] | bytes) -> tuple[int, Any]:
        status, answer, _ = self.send("POST", "/", body)
        return status, answer


def error_type(answer: Any) -> str:
    return str(answer["__type"]).split("#")[-1]


@pytest.fixture
def served(start_server, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    with ledger.connect(root / "books") as db:
        db.execute("CREATE TABLE T")
    server = start_server("--allow-any-credentials", root=root, auth=False)
    return server, Raw(server.url), root


def _session(raw: Raw) -> str:
    status, answer = raw.command({"StartSession": {"LedgerName": "books"}})
    assert status == 200, answer
    return str(answer["StartSession"]["SessionToken"])


def _transaction(raw: Raw, token: str) -> str:
    status, answer = raw.command({"SessionToken": token, "StartTransaction": {}})
    assert status == 200, answer
    return str(answer["StartTransaction"]["TransactionId"])


def _execute(raw: Raw, token: str, tx: str, statement: str, *params: Any) -> tuple[int, Any]:
    holders = [{"IonBinary": base64.b64encode(ion.dumps(p)).decode()} for p in params]
    return raw.command(
        {"SessionToken": token, "ExecuteStatement": {"TransactionId": tx, "Statement": statement, "Parameters": holders}}
    )


def _commit(raw: Raw, token: str, tx: str, statements: list[tuple[str, list[Any]]]) -> tuple[int, Any]:
    digest = base64.b64encode(commit_digest(tx, statements)).decode()
    return raw.command({"SessionToken": token, "CommitTransaction": {"TransactionId": tx, "CommitDigest": digest}})


def _rows(root, statement: str) -> list[Any]:
    with ledger.connect(root / "books", readonly=True) as db:
        return list(db.execute(statement))


SESSION_CASES = {
    "malformed JSON": (b'{"StartSession": {"LedgerName": "books"', "BadRequestException"),
    "not an object": (b'["StartSession"]', "BadRequestException"),
    "two commands": ({"StartSession": {"LedgerName": "books"}, "EndSession": {}}, "BadRequestException"),
    "no command": ({"SessionToken": "abcd"}, "BadRequestException"),
    "unknown member": ({"StartSession": {"LedgerName": "books"}, "Frobnicate": {}}, "BadRequestException"),
    "wrong ledger name": ({"StartSession": {"LedgerName": "no-such-ledger"}}, "BadRequestException"),
    "invalid ledger name": ({"StartSession": {"LedgerName": "../etc"}}, "BadRequestException"),
    "unknown session": ({"SessionToken": "0123456789abcdef", "StartTransaction": {}}, "InvalidSessionException"),
    "malformed token": ({"SessionToken": "no", "StartTransaction": {}}, "BadRequestException"),
}


@pytest.mark.parametrize("case", sorted(SESSION_CASES))
def test_bad_session_requests(served, case):
    server, raw, root = served
    body, expected = SESSION_CASES[case]
    status, answer = raw.command(body)
    assert (status, error_type(answer)) == (400, expected)
    assert answer["Message"]
    token = _session(raw)  # everyone else is still served
    assert _transaction(raw, token)


def test_unknown_target_path_method_and_oversized_body(served):
    server, raw, root = served
    status, answer, headers = raw.send("POST", "/", {"StartSession": {}}, target="QLDBSession.Frobnicate")
    assert (status, error_type(answer)) == (400, "BadRequestException")
    status, answer, headers = raw.send("GET", "/no/such/path", target=None)
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidParameterException")
    assert answer["ParameterName"] == "path"
    status, answer, headers = raw.send("PUT", "/ledgers", target=None)
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidParameterException")
    big = b'{"StartSession": {"LedgerName": "' + b"a" * (9 * 1024 * 1024) + b'"}}'
    status, answer = raw.command(big)
    assert (status, error_type(answer)) == (400, "BadRequestException")
    assert "limit" in answer["Message"]
    status, answer, headers = raw.send("POST", "/ledgers", b"{not json", target=None)
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidParameterException")
    status, answer, headers = raw.send("GET", "/ledgers/nothing-here", target=None)
    assert (status, headers["x-amzn-ErrorType"]) == (404, "ResourceNotFoundException")
    assert answer["ResourceName"] == "nothing-here" and answer["ResourceType"] == "LEDGER"
    assert "x-amzn-RequestId" in headers
    assert _transaction(raw, _session(raw))


def _bad_parameter(raw: Raw, token: str, tx: str, holder: dict[str, Any]) -> tuple[int, Any]:
    return raw.command(
        {"SessionToken": token, "ExecuteStatement": {"TransactionId": tx, "Statement": "INSERT INTO T ?", "Parameters": [holder]}}
    )


def test_bad_parameters_are_refused_and_nothing_is_committed(served):
    server, raw, root = served
    token = _session(raw)
    tx = _transaction(raw, token)
    cases = [
        {"IonBinary": "not base64!!"},
        {"IonBinary": base64.b64encode(b"\x01\x02garbage").decode()},
        {"IonText": "{a: "},
        {"IonText": "1 2"},  # two values
        {"IonText": "{a: 1.0000000000000000000000000000000001}"},  # 35 digits: not exactly storable
        {"IonText": "{a: 1}", "IonBinary": "4AEA6g=="},
        {"Frob": "x"},
    ]
    for holder in cases:
        status, answer = _bad_parameter(raw, token, tx, holder)
        assert (status, error_type(answer)) == (400, "BadRequestException"), holder
    long_statement = "SELECT * FROM T WHERE " + " OR ".join(["1 = 1"] * 20_000)
    status, answer = _execute(raw, token, tx, long_statement)
    assert (status, error_type(answer)) == (400, "BadRequestException")
    assert "limit" in answer["Message"]
    # the transaction is still usable; the over-long statement was folded into its digest
    assert _execute(raw, token, tx, "INSERT INTO T ?", {"ok": 1})[0] == 200
    status, answer = _commit(raw, token, tx, [(long_statement, []), ("INSERT INTO T ?", [{"ok": 1}])])
    assert status == 200, answer
    assert [dict(r) for r in _rows(root, "SELECT * FROM T")] == [{"ok": 1}]


def test_a_wrong_commit_digest_commits_nothing(served):
    server, raw, root = served
    token = _session(raw)
    tx = _transaction(raw, token)
    assert _execute(raw, token, tx, "INSERT INTO T ?", {"x": 1})[0] == 200
    status, answer = _commit(raw, token, tx, [("INSERT INTO T ?", [{"x": 2}])])
    assert (status, error_type(answer)) == (400, "BadRequestException")
    assert "Digests don't match" in answer["Message"]
    assert _rows(root, "SELECT * FROM T") == []
    status, answer = raw.command({"SessionToken": token, "CommitTransaction": {"TransactionId": tx, "CommitDigest": "%%%"}})
    assert (status, error_type(answer)) == (400, "BadRequestException")


def test_ended_sessions_and_foreign_transactions(served):
    server, raw, root = served
    token = _session(raw)
    tx = _transaction(raw, token)
    status, answer = raw.command({"SessionToken": token, "StartTransaction": {}})
    assert (status, error_type(answer)) == (400, "BadRequestException")  # already open
    other = _session(raw)
    status, answer = _execute(raw, other, tx, "SELECT * FROM T")  # not this session's
    assert (status, error_type(answer)) == (400, "InvalidSessionException")
    status, answer = _execute(raw, token, "A" * 22, "SELECT * FROM T")
    assert (status, error_type(answer)) == (400, "InvalidSessionException")
    status, answer = _execute(raw, token, "short", "SELECT * FROM T")
    assert (status, error_type(answer)) == (400, "BadRequestException")
    assert raw.command({"SessionToken": token, "EndSession": {}})[0] == 200
    status, answer = raw.command({"SessionToken": token, "StartTransaction": {}})
    assert (status, error_type(answer)) == (400, "InvalidSessionException")
    status, answer = raw.command({"SessionToken": token, "EndSession": {}})
    assert (status, error_type(answer)) == (400, "InvalidSessionException")


def test_statement_errors_keep_the_transaction_open(served):
    server, raw, root = served
    token = _session(raw)
    tx = _transaction(raw, token)
    status, answer = _execute(raw, token, tx, "SELEC * FROM T")
    assert (status, error_type(answer)) == (400, "BadRequestException")
    status, answer = _execute(raw, token, tx, "INSERT INTO T ?", "not a struct")
    assert (status, error_type(answer)) == (400, "BadRequestException")
    status, answer = _execute(raw, token, tx, "INSERT INTO T ?", {"y": 1})
    assert status == 200 and len(answer["ExecuteStatement"]["FirstPage"]["Values"]) == 1
    statements = [("SELEC * FROM T", []), ("INSERT INTO T ?", ["not a struct"]), ("INSERT INTO T ?", [{"y": 1}])]
    status, answer = _commit(raw, token, tx, statements)
    assert status == 200, answer
    assert answer["CommitTransaction"]["TransactionId"] == tx
    assert [dict(r) for r in _rows(root, "SELECT * FROM T")] == [{"y": 1}]
    with ledger.connect(root / "books", readonly=True) as db:
        (block_tx,) = db.execute("SELECT VALUE h.metadata.txId FROM history(T) AS h")
    assert block_tx == tx  # the TransactionId the client saw is the journal's
