"""TLS server certificates of the test PKI, and a reference endpoint served over HTTPS with one
(``conformance serve --tls-cert/--tls-key`` through the local runtime)."""

from __future__ import annotations

import ipaddress
import ssl
import stat
import warnings
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from harness.pki import init_pki
from harness.pki.tls import issue_tls_server
from harness.runtime.local import LocalRuntime


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    init_pki(directory)
    return directory


def test_server_certificate_names_chain_and_key(pki_dir: Path) -> None:
    files = issue_tls_server(pki_dir)
    cert = x509.load_pem_x509_certificate(files.certificate_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    root = x509.load_pem_x509_certificate(files.ca_path.read_bytes())
    cert.verify_directly_issued_by(root)  # raises if the test root did not sign it
    assert cert.issuer == root.subject
    assert stat.S_IMODE(files.private_key_path.stat().st_mode) == 0o600
    assert issue_tls_server(pki_dir) == files  # idempotent: the same files, not re-issued
    assert x509.load_pem_x509_certificate(files.certificate_path.read_bytes()) == cert


def test_reference_endpoint_over_https(pki_dir: Path, tmp_path: Path) -> None:
    files = issue_tls_server(pki_dir)
    with LocalRuntime(tmp_path / "logs") as runtime:
        smp = runtime.start(
            "smp", pki_dir=pki_dir, tls_cert=files.certificate_path, tls_key=files.private_key_path
        )
        assert smp.base_url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=str(files.ca_path))
        assert httpx.get(smp.url("/conformance/v1/health"), verify=trusted).status_code == 200
        with pytest.raises(httpx.ConnectError):  # not trusted without the test root
            httpx.get(smp.url("/conformance/v1/health"), verify=ssl.create_default_context())
        with pytest.raises(httpx.HTTPError):  # nothing over plain HTTP on that port
            httpx.get(smp.url("/conformance/v1/health").replace("https:", "http:"))
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(cafile=str(files.ca_path))
        with warnings.catch_warnings():  # deprecated on purpose: an old client
            warnings.simplefilter("ignore", DeprecationWarning)
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        with pytest.raises(httpx.ConnectError):  # TLS 1.2 is the minimum
            httpx.get(smp.url("/conformance/v1/health"), verify=old)
