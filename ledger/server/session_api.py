"""QLDB's session API: ``QLDBSession.SendCommand`` requests in, results out (awsJson1_0).

This module only checks and translates the JSON envelope (shapes and limits of the
qldb-session model; Ion values in base64 or text) and shapes the results the drivers
read: every result value as ``IonBinary``, ``Values`` always present, no nulls.  What
the server remembers between requests is the SessionStore's.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from typing import Any

from ledger import ion
from ledger.errors import Error, ServiceError
from ledger.server.catalog import NAME
from ledger.server.sessions import Page, SessionStore, bad_request

COMMANDS = (
    "StartSession",
    "StartTransaction",
    "ExecuteStatement",
    "FetchPage",
    "CommitTransaction",
    "AbortTransaction",
    "EndSession",
)
_TOKEN = re.compile(r"^[A-Za-z0-9+/=-]{4,1024}$")
_TX_ID = re.compile(r"^[A-Za-z0-9]{22}$")
MAX_ION_BINARY = 131_072
MAX_ION_TEXT = 1_048_576


def command_of(body: Any) -> tuple[str, dict[str, Any]]:
    """The one command a SendCommand body carries, and its members."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    present = [name for name in COMMANDS if name in body]
    unknown = sorted(set(body) - set(COMMANDS) - {"SessionToken"})
    if unknown:
        raise bad_request(f"unknown member(s) {', '.join(unknown)} in SendCommand")
    if len(present) != 1:
        raise bad_request(
            f"SendCommand needs exactly one of {', '.join(COMMANDS)}; got {len(present)}"
        )
    members = body[present[0]]
    if not isinstance(members, dict):
        raise bad_request(f"{present[0]} must be a JSON object")
    return present[0], members


def _string(members: dict[str, Any], name: str, where: str) -> str:
    value = members.get(name)
    if not isinstance(value, str):
        raise bad_request(f"{where}.{name} is required and must be a string")
    return value


def _token(body: dict[str, Any]) -> str:
    token = body.get("SessionToken")
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise bad_request("SessionToken is required: 4 to 1024 characters of [A-Za-z0-9+/=-]")
    return token


def _tx_id(members: dict[str, Any], where: str) -> str:
    value = _string(members, "TransactionId", where)
    if not _TX_ID.match(value):
        raise bad_request(f"{where}.TransactionId {value!r} is not 22 letters and digits")
    return value


def _blob(text: Any, where: str, limit: int) -> bytes:
    if not isinstance(text, str):
        raise bad_request(f"{where} must be a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"{where} is not valid base64") from None
    if not 1 <= len(raw) <= limit:
        raise bad_request(f"{where} is {len(raw)} bytes; it must be 1 to {limit}")
    return raw


def parameter(holder: Any, position: int) -> Any:
    """One ValueHolder (IonBinary or IonText) as the Ion value it holds, refused when it
    is not exactly one Ion value or cannot be stored exactly."""
    where = f"ExecuteStatement.Parameters[{position}]"
    if not isinstance(holder, dict) or len(holder) != 1:
        raise bad_request(f"{where} must hold exactly one of IonBinary, IonText")
    if "IonBinary" in holder:
        data: bytes | str = _blob(holder["IonBinary"], f"{where}.IonBinary", MAX_ION_BINARY)
    elif "IonText" in holder:
        data = holder["IonText"]
        if not isinstance(data, str) or not 1 <= len(data) <= MAX_ION_TEXT:
            raise bad_request(f"{where}.IonText must be 1 to {MAX_ION_TEXT} characters")
    else:
        raise bad_request(f"{where} must hold IonBinary or IonText")
    try:
        values = ion.loads_all(data)
        if len(values) != 1:
            raise bad_request(f"{where} holds {len(values)} Ion values; it must hold one")
        ion.check_storable(values[0], f"parameter {position + 1}")
    except ServiceError:
        raise
    except Error as exc:
        raise bad_request(f"{where} is not Ion the ledger can store exactly: {exc}") from exc
    return values[0]


def _page(page: Page) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "Values": [{"IonBinary": base64.b64encode(v).decode("ascii")} for v in page.values]
    }
    if page.next_token is not None:
        shaped["NextPageToken"] = page.next_token
    return shaped


def _io(page: Page) -> dict[str, int]:
    return {"ReadIOs": page.read_ios, "WriteIOs": page.write_ios}


class SessionApi:
    """SendCommand: a parsed body in, the result body out (ServiceError on refusal)."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self._handlers: dict[str, Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
            "StartSession": self._start_session,
            "StartTransaction": self._start_transaction,
            "ExecuteStatement": self._execute,
            "FetchPage": self._fetch_page,
            "CommitTransaction": self._commit,
            "AbortTransaction": self._abort,
            "EndSession": self._end_session,
        }

    def send_command(self, body: Any) -> tuple[str, dict[str, Any]]:
        """(command name, result body)."""
        started = time.perf_counter()
        command, members = command_of(body)
        result = self._handlers[command](body, members)
        elapsed = int((time.perf_counter() - started) * 1000)
        result["TimingInformation"] = {"ProcessingTimeMilliseconds": elapsed}
        return command, {command: result}

    def _start_session(self, body: dict[str, Any], members: dict[str, Any]) -> dict[str, Any]:
        name = _string(members, "LedgerName", "StartSession")
        if not NAME.match(name):
            raise bad_request(f"LedgerName {name!r} is not a valid ledger name")
        try:
            token = self.store.start_session(name)
        except ServiceError as exc:
            if exc.code == "LimitExceededException":
                raise
            raise bad_request(f"Ledger {name!r} cannot be used: {exc.message}") from exc
        return {"SessionToken": token}

    def _start_transaction(self, body: dict[str, Any], members: dict[str, Any]) -> dict[str, Any]:
        return {"TransactionId": self.store.start_transaction(_token(body))}

    def _execute(self, body: dict[str, Any], members: dict[str, Any]) -> dict[str, Any]:
        token = _token(body)
        tx_id = _tx_id(members, "ExecuteStatement")
        statement = _string(members, "Statement", "ExecuteStatement")
        if not statement:  # a longer one than QLDB's limit is folded, then refused
            raise bad_request("ExecuteStatement.Statement must not be empty")
        holders = members.get("Parameters", [])
        if not isinstance(holders, list):
            raise bad_request("ExecuteStatement.Parameters must be a list of ValueHolders")
        parameters = [parameter(holder, i) for i, holder in enumerate(holders)]
        page = self.store.execute(token, tx_id, statement, parameters)
        return {"FirstPage": _page(page), "ConsumedIOs": _io(page)}

    def _fetch_page(self, body: dict[str, Any], members: dict[str, Any]) -> dict[str, Any]:
        token = _token(body)
        tx_id = _tx_id(members, "FetchPage")
        page_token = _string(members, "NextPageToken", "FetchPage")
        page = self.store.fetch_page(token, tx_id, page_token)
        return {"Page": _page(page), "ConsumedIOs": _io(page)}

    def _commit(self, body: dict[str, Any], members: dict[str, Any]) -> dict[str, Any]:
        token = _token(body)
        tx_id = _tx_id(members, "CommitTransaction")
        digest = _blob(members.get("CommitDigest"), "CommitTransaction.CommitDigest", 1024)
        echoed = self.store.commit(token, tx_id, digest)
        return {
            "TransactionId": tx_id,
            "CommitDigest": base64.b64encode(echoed).decode("ascii"),
            "ConsumedIOs": {"ReadIOs": 0, "WriteIOs": 0},
        }

    def _abort(self, body: dict[str, Any], members: dict[str, Any]) -> dict[str, Any]:
        self.store.abort(_token(body))
        return {}

    def _end_session(self, body: dict[str, Any], members: dict[str, Any]) -> dict[str, Any]:
        self.store.end_session(_token(body))
        return {}
