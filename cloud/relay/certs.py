"""The relay's TLS certificate: the configured one, or a self-signed one.

In development and tests the relay makes its own certificate once and keeps
it in its state folder; daemons trust exactly that file through their relay
CA setting. Production configures a real certificate chain instead.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cloud.relay.config import RelayConfig

log = logging.getLogger(__name__)

CERT_NAME = "relay-cert.pem"
KEY_NAME = "relay-key.pem"


def self_signed(hostnames: list[str], days: int = 825) -> tuple[bytes, bytes]:
    """A new self-signed certificate and its key, both PEM."""

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])])
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = []

    for host in hostnames:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def certificate_files(config: RelayConfig) -> tuple[Path, Path]:
    """The certificate and key to serve, made on first use in development."""

    if config.tls_cert:
        return Path(config.tls_cert), Path(config.tls_key)

    cert_path = config.state_dir / CERT_NAME
    key_path = config.state_dir / KEY_NAME

    if cert_path.exists() and key_path.exists():
        return cert_path, key_path

    hosts = [
        "localhost",
        "127.0.0.1",
        "::1",
        f"relay.{config.domain}",
        f"*.{config.host_suffix}",
    ]
    cert, key = self_signed(hosts)
    config.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write(key_path, key, 0o600)
    _write(cert_path, cert, 0o644)
    log.info(
        "Made a self-signed relay certificate %s; daemons trust it through "
        "CLD_TUNNEL_RELAY_CA_FILE",
        cert_path,
    )
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A TLS server context for the certificate and key."""

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2

    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise OSError(
            f"cannot use the certificate {cert} and key {key}: {exc}"
        ) from exc

    return context


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())

    os.replace(tmp, path)
