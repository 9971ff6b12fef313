"""TLS server certificates of the test PKI, for reference endpoints served over HTTPS.

:func:`issue_tls_server` writes, under ``<pki>/tls/``, a server certificate for the given host
names and IP addresses (subjectAltName; extKeyUsage serverAuth), issued by the test PKI's root
CA, and its private key (mode 0600). A client trusts it with the root certificate
(:attr:`TlsServerFiles.ca_path`). These files are not in the PKI manifest: they serve transport
security of the harness's own endpoints, not Peppol signatures. Idempotent: an existing, still
valid certificate for the same names is returned as it is.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

TLS_DIR = "tls"
LIFETIME = timedelta(days=30)
BACKDATE = timedelta(hours=1)


@dataclass(frozen=True)
class TlsServerFiles:
    """Where a TLS server's certificate chain, key and the CA that issued it are (PEM files)."""

    certificate_path: Path
    private_key_path: Path
    ca_path: Path


def issue_tls_server(
    pki_dir: str | os.PathLike[str],
    name: str = "reference-tls",
    hosts: Sequence[str] = ("127.0.0.1", "localhost"),
    *,
    now: datetime | None = None,
) -> TlsServerFiles:
    """A TLS server certificate for ``hosts`` (IP addresses or DNS names) under the test root."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from harness.pki.store import load_pki, load_private_key

    pki = load_pki(pki_dir)
    folder = Path(pki_dir) / TLS_DIR
    folder.mkdir(exist_ok=True)
    files = TlsServerFiles(
        folder / f"{name}.pem", folder / f"{name}.key.pem", pki.root.certificate_path
    )
    at = now or datetime.now(UTC)
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    if files.certificate_path.is_file() and files.private_key_path.is_file():
        existing = x509.load_pem_x509_certificate(files.certificate_path.read_bytes())
        san = existing.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        if set(san) == set(names) and existing.not_valid_after_utc > at + timedelta(days=1):
            return files
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = pki.root
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - BACKDATE)
        .not_valid_after(at + LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(load_private_key(root), hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(files.private_key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(key_pem)
    files.certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return files
