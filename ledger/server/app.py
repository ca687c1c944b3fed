"""The HTTP side of ``ledger serve``: one aiohttp application for both QLDB APIs.

A request carrying ``X-Amz-Target`` is a session request (awsJson1_0, ``POST /``);
any other is a control-plane request (rest-json, routed by path).  Each is read
whole, checked with SigV4, then handed to a worker thread (ledgers block: LMDB,
group commit), and answered with QLDB's shapes and errors, a request id, and one log
line on stderr.  ``run`` serves until SIGTERM or SIGINT, then stops cleanly: no new
requests, those in flight finish (their commits included), open transactions are
aborted, the ledgers closed.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import ipaddress
import json
import signal
import ssl
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar
from urllib.parse import parse_qs

from aiohttp import web

from ledger.errors import ServiceError
from ledger.journal.limits import Limits
from ledger.server import sigv4
from ledger.server.catalog import Catalog
from ledger.server.control import Call, ControlPlane
from ledger.server.exports import export_job
from ledger.server.session_api import SessionApi
from ledger.server.sessions import Lifetimes, SessionBusy, SessionStore
from ledger.server.streams import KinesisStreams

T = TypeVar("T")
SESSION_TARGET = "QLDBSession.SendCommand"
SESSION_CONTENT = "application/x-amz-json-1.0"
MAX_BODY = 8 * 1024 * 1024  # stated limit: the largest request body accepted
WORKERS = 32
# never wait for the disk or run a statement: served on the event loop when their
# session is free (StartSession may open a ledger the first time: milliseconds, once)
QUICK_COMMANDS = frozenset({"StartSession", "StartTransaction", "AbortTransaction", "EndSession"})


@dataclass
class ServeConfig:
    root: str
    host: str = "127.0.0.1"
    port: int = 8700
    keys: dict[str, str] | None = None  # None: any well-formed signature
    tls_cert: str | None = None
    tls_key: str | None = None
    region: str = "us-east-1"
    account_id: str = "000000000000"
    lifetimes: Lifetimes = field(default_factory=Lifetimes)
    log: TextIO = sys.stderr
    storage: str | None = None  # a postgresql:// URL: the ledgers live there, not in ROOT


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Server:
    """The catalog, the session store and both APIs behind one request handler."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        limits = Limits(transaction_timeout=config.lifetimes.transaction)
        self.catalog = Catalog(config.root, limits, storage=config.storage)
        self.sessions = SessionStore(self.catalog.open, config.lifetimes)
        self.session_api = SessionApi(self.sessions)
        self.control = ControlPlane(
            self.catalog,
            self.sessions,
            config.region,
            config.account_id,
            exporter=lambda db, job: export_job(db, job, self.catalog.root),
        )
        self.streams = KinesisStreams(self.control, self.catalog, log=config.log)
        self.streams.resume()
        self.executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="ledger-serve")
        self.stopping = False
        self.in_flight = 0

    # -- the application --------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def _blocking(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        try:
            return await self._handle(request)
        finally:
            self.in_flight -= 1

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        session = "X-Amz-Target" in request.headers
        what = {"operation": "SendCommand" if session else "-", "ledger": "-"}
        if not session:
            self._name_operation(request, what)
        try:
            if self.stopping:  # answered without reading the body: never left waiting
                raise ServiceError(
                    "CapacityExceededException" if session else "ServiceUnavailableException",
                    "the server is stopping",
                    503,
                )
            body = await self._body(request)
            sigv4.verify(
                sigv4.Request(
                    request.method,
                    request.raw_path,
                    {k.lower(): request.headers.getall(k) for k in request.headers.keys()},
                    body,
                ),
                self.config.keys,
            )
            if session:
                response = await self._session(request, body, what)
            else:
                response = await self._control(request, body, what)
        except ServiceError as exc:
            response = self._error(exc, session)
            what["error"] = exc.code
        except Exception:  # a bug: say so, keep serving
            traceback.print_exc(file=self.config.log)
            response = self._error(
                ServiceError("InternalFailure", "the server failed; see its log", 500), session
            )
            what["error"] = "InternalFailure"
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        if self.stopping:
            response.headers["Connection"] = "close"
        self._log(request.method, what, response.status, started)
        return response

    async def _body(self, request: web.Request) -> bytes:
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise ServiceError(
                "BadRequestException" if "X-Amz-Target" in request.headers else "InvalidParameterException",
                f"the request body is over {MAX_BODY} bytes, the limit",
            ) from None

    async def _session(self, request: web.Request, body: bytes, what: dict[str, str]) -> web.Response:
        target = request.headers.get("X-Amz-Target", "")
        if target != SESSION_TARGET or request.method != "POST":
            raise ServiceError(
                "BadRequestException",
                f"unknown operation {request.method} X-Amz-Target {target!r}: this endpoint "
                f"serves POST {SESSION_TARGET}",
            )
        parsed = _json(body, "BadRequestException")
        token = parsed.get("SessionToken") if isinstance(parsed, dict) else None
        if isinstance(token, str):
            what["ledger"] = self.sessions.ledger_of(token) or "-"
        elif isinstance(parsed, dict) and isinstance(parsed.get("StartSession"), dict):
            what["ledger"] = str(parsed["StartSession"].get("LedgerName", "-"))
        command = [k for k in parsed if k != "SessionToken"] if isinstance(parsed, dict) else []
        what["operation"] = "SendCommand:" + (command[0] if len(command) == 1 else "?")
        if len(command) == 1 and command[0] in QUICK_COMMANDS:
            try:  # on the event loop: a hand-off to a worker costs more than the command
                with self.sessions.without_waiting():
                    _, result = self.session_api.send_command(parsed)
                return _json_response(result, SESSION_CONTENT)
            except SessionBusy:
                pass  # another request of this session is running: wait in a worker
        _, result = await self._blocking(lambda: self.session_api.send_command(parsed))
        return _json_response(result, SESSION_CONTENT)

    def _name_operation(self, request: web.Request, what: dict[str, str]) -> None:
        """Name a control-plane request for the log, even one refused before it runs."""
        try:
            operation, params = self.control.resolve(request.method, request.raw_path.partition("?")[0])
        except ServiceError:
            return
        what["operation"] = operation
        what["ledger"] = params.get("name") or params.get("resourceArn", "-").rpartition("/")[2]

    async def _control(self, request: web.Request, body: bytes, what: dict[str, str]) -> web.Response:
        path, _, query = request.raw_path.partition("?")
        operation, params = self.control.resolve(request.method, path)
        call = Call(
            params,
            parse_qs(query, keep_blank_values=True),
            _json(body, "InvalidParameterException") if body.strip() else {},
        )
        result = await self._blocking(lambda: self.control.call(operation, call))
        return _json_response(result, "application/json")

    def _error(self, exc: ServiceError, session: bool) -> web.Response:
        if session:
            body: dict[str, Any] = {
                "__type": f"com.amazonaws.qldbsession#{exc.code}",
                "Message": exc.message,
            }
            content = SESSION_CONTENT
        else:
            body = {"Message": exc.message, **exc.fields}
            content = "application/json"
        status = exc.status if not session or exc.status >= 500 else 400
        response = _json_response(body, content, status)
        response.headers["x-amzn-ErrorType"] = exc.code
        return response

    def _log(self, method: str, what: dict[str, str], status: int, started: float) -> None:
        ms = (time.perf_counter() - started) * 1000
        error = f" {what['error']}" if "error" in what else ""
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        self.config.log.write(
            f"{stamp} {method} {what['operation']} {what['ledger']} {status}{error} {ms:.1f}ms\n"
        )
        self.config.log.flush()

    # -- housekeeping ---------------------------------------------------------------------
    async def drain(self, site: web.BaseSite, timeout: float = 30.0) -> None:
        """Stop listening, refuse new requests, and wait for those in flight: their
        bodies still arrive (aiohttp ignores a connection's data once it closes it, so
        a request whose body came late would otherwise wait out the whole timeout)."""
        self.stopping = True
        await site.stop()
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def reaper(self, period: float = 1.0) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                await self._blocking(self.sessions.reap)
            except Exception:
                traceback.print_exc(file=self.config.log)

    def close(self) -> None:
        self.streams.close()
        self.sessions.close()
        self.executor.shutdown(wait=True)
        self.catalog.close()


def _json(body: bytes, code: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ServiceError(code, f"the request body is not valid JSON: {exc}") from None


def _json_response(value: Any, content_type: str, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(value, separators=(",", ":")).encode("utf-8"),
        status=status,
        headers={"Content-Type": content_type},
    )


def ssl_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def serve(config: ServeConfig, ready: Callable[[str], None] | None = None) -> None:
    """Serve until SIGTERM or SIGINT (or cancellation), then stop cleanly."""
    server = Server(config)
    runner = web.AppRunner(server.app(), access_log=None, shutdown_timeout=30)
    await runner.setup()
    tls = ssl_context(config.tls_cert, config.tls_key) if config.tls_cert and config.tls_key else None
    site = web.TCPSite(runner, config.host, config.port, ssl_context=tls)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reaper = None
    try:
        await site.start()
        host, port = runner.addresses[0][:2]
        scheme = "https" if tls else "http"
        url = f"{scheme}://{host if ':' not in host else f'[{host}]'}:{port}"
        names = server.catalog.names()
        auth = "any credentials" if config.keys is None else f"{len(config.keys)} SigV4 key(s)"
        print(
            f"ledger serve: listening on {url} (ROOT {config.root}: {len(names)} ledger(s); {auth})",
            file=config.log,
            flush=True,
        )
        if ready is not None:
            ready(url)
        reaper = asyncio.create_task(server.reaper())
        await stop.wait()
        print("ledger serve: stopping", file=config.log, flush=True)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if reaper is not None:
            reaper.cancel()
        await server.drain(site)  # no new requests; those in flight finish
        await runner.cleanup()
        await loop.run_in_executor(None, server.close)
        print("ledger serve: stopped", file=config.log, flush=True)


def run(config: ServeConfig) -> None:
    asyncio.run(serve(config))
