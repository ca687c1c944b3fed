"""`ledger serve` as a command: refusing to start without a way to check signatures,
--allow-any-credentials only on loopback, TLS with a self-signed certificate, a clean
stop on SIGTERM, and the HTTP stack loaded only when serving."""

from __future__ import annotations

import datetime as _dt
import ipaddress
import signal
import subprocess
import sys
from pathlib import Path

from conftest import aws
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from test_server_bad_input import Raw, _execute, _session, _transaction

import ledger


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger", "serve", *args], capture_output=True, text=True, timeout=60
    )


def test_refuses_to_start_without_credentials_and_says_why(tmp_path):
    proc = _serve(str(tmp_path / "root"))
    assert proc.returncode == 1
    assert "refusing to start" in proc.stderr and "--credentials" in proc.stderr
    assert "--allow-any-credentials" in proc.stderr


def test_any_credentials_only_on_a_loopback_host(tmp_path):
    proc = _serve(str(tmp_path / "root"), "--allow-any-credentials", "--host", "0.0.0.0")
    assert proc.returncode == 1 and "loopback" in proc.stderr
    proc = _serve(str(tmp_path / "root"), "--credentials", "/dev/null", "--allow-any-credentials")
    assert proc.returncode == 2
    empty = tmp_path / "empty"
    empty.write_text("[default]\nregion = us-east-1\n")
    proc = _serve(str(tmp_path / "root"), "--credentials", str(empty))
    assert proc.returncode == 1 and "holds no aws_access_key_id" in proc.stderr
    proc = _serve(str(tmp_path / "root"), "--allow-any-credentials", "--tls-cert", str(empty))
    assert proc.returncode == 2 and "go together" in proc.stderr


def test_any_credentials_warns(start_server):
    server = start_server("--allow-any-credentials", auth=False)
    assert "WARNING" in server.log() and "any signature is accepted" in server.log()


def test_the_http_stack_is_imported_only_to_serve():
    code = "import sys, ledger.cli.main; assert 'aiohttp' not in sys.modules and 'ledger.server' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sigterm_stops_cleanly_and_aborts_open_transactions(start_server, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    with ledger.connect(root / "books") as db:
        db.execute("CREATE TABLE T")
    server = start_server("--allow-any-credentials", root=root, auth=False)
    raw = Raw(server.url)
    token = _session(raw)
    tx = _transaction(raw, token)
    assert _execute(raw, token, tx, "INSERT INTO T ?", {"never": "committed"})[0] == 200
    assert server.stop(signal.SIGTERM) == 0
    assert "ledger serve: stopped" in server.log()
    with ledger.connect(root / "books") as db:
        assert list(db.execute("SELECT * FROM T")) == []
        assert db.verify().verified
    server.start()
    assert server.stop(signal.SIGINT) == 0


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = _dt.datetime.now(_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls_with_a_self_signed_certificate(start_server, client_python, tmp_path):
    cert, key = _self_signed(tmp_path)
    server = start_server("--tls-cert", str(cert), "--tls-key", str(key))
    assert server.url.startswith("https://127.0.0.1:")
    untrusted = aws(client_python, server, "qldb", "list-ledgers", check=False)
    assert untrusted.returncode != 0 and "SSL" in untrusted.stderr
    trusted = server.client_env()
    trusted["AWS_CA_BUNDLE"] = str(cert)  # how clients trust the certificate
    created = aws(client_python, server, "qldb", "create-ledger", "--name", "secure", "--permissions-mode", "ALLOW_ALL", env=trusted)
    assert created["Name"] == "secure"
    assert aws(client_python, server, "qldb", "list-ledgers", env=trusted)["Ledgers"][0]["Name"] == "secure"
