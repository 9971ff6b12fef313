"""The OCSP responder of the test PKI (RFC 6960) and the reference ocsp endpoint, in process."""

from __future__ import annotations

import asyncio
import base64
import os
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp

from harness.errors import ConfigError
from harness.pki import OcspResponder, TestPki, init_pki, issue, load_pki, revoke
from harness.pki.ocsp import issuer_hashes
from harness.reference.ocsp import create_app


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    directory = tmp_path_factory.mktemp("pki")
    init_pki(directory)
    issue(directory, "ap", "ap-revoked", revoked=True)
    issue(directory, "smp", "smp-wrong-ca", wrong_ca=True)
    return load_pki(directory)


def request_for(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    algorithm: hashes.HashAlgorithm | None = None,
    nonce: bytes | None = None,
) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm or hashes.SHA1())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def signed_by(response: ocsp.OCSPResponse, signer: x509.Certificate) -> bool:
    key = signer.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and response.signature_hash_algorithm is not None
    try:
        key.verify(
            response.signature,
            response.tbs_response_bytes,
            padding.PKCS1v15(),
            response.signature_hash_algorithm,
        )
    except InvalidSignature:
        return False
    return True


def test_good_certificate_is_answered_good_by_the_delegated_responder(pki: TestPki) -> None:
    responder = OcspResponder(pki.directory)
    ap, ap_ca = pki["ap"].certificate, pki.authority("ap-ca").certificate
    answer = responder.respond(request_for(ap, ap_ca, nonce=b"0123456789abcdef"))
    response = ocsp.load_der_ocsp_response(answer.der)
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == ap.serial_number
    delegated = pki.responders["ap-ca"].certificate
    assert signed_by(response, delegated)
    assert response.certificates == [delegated, ap_ca]
    assert (
        response.responder_key_hash
        == delegated.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )
    assert [e.value.nonce for e in response.extensions] == [b"0123456789abcdef"]
    assert (
        response.next_update_utc is not None and response.next_update_utc > response.this_update_utc
    )
    assert (answer.cert_status, answer.issuer) == ("good", "ap-ca")


def test_revoked_certificate_is_answered_revoked_with_time_and_reason(pki: TestPki) -> None:
    entry = pki["ap-revoked"]
    answer = OcspResponder(pki.directory).respond(request_for(entry.certificate, entry.chain[0]))
    response = ocsp.load_der_ocsp_response(answer.der)
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert entry.revocation is not None
    assert response.revocation_time_utc == entry.revocation.at
    assert response.revocation_reason is x509.ReasonFlags.key_compromise


def test_sha256_cert_ids_are_understood(pki: TestPki) -> None:
    smp, smp_ca = pki["smp"].certificate, pki.authority("smp-ca").certificate
    answer = OcspResponder(pki.directory).respond(
        request_for(smp, smp_ca, algorithm=hashes.SHA256())
    )
    response = ocsp.load_der_ocsp_response(answer.der)
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert isinstance(response.hash_algorithm, hashes.SHA256)
    assert (response.issuer_name_hash, response.issuer_key_hash) == issuer_hashes(
        smp_ca, hashes.SHA256()
    )
    assert signed_by(response, pki.responders["smp-ca"].certificate)


def test_ca_without_delegated_responder_signs_itself(pki: TestPki) -> None:
    wrong = pki["smp-wrong-ca"]
    answer = OcspResponder(pki.directory).respond(request_for(wrong.certificate, wrong.chain[0]))
    response = ocsp.load_der_ocsp_response(answer.der)
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert signed_by(response, wrong.chain[0])
    assert response.certificates == []
    # the root answers for the CAs it issued
    ap_ca = pki.authority("ap-ca")
    root_answer = OcspResponder(pki.directory).respond(
        request_for(ap_ca.certificate, pki.root.certificate)
    )
    assert signed_by(ocsp.load_der_ocsp_response(root_answer.der), pki.root.certificate)
    assert root_answer.cert_status == "good"


def test_serial_the_ca_never_issued_is_unknown(pki: TestPki) -> None:
    ap_ca = pki.authority("ap-ca").certificate
    name_hash, key_hash = issuer_hashes(ap_ca, hashes.SHA1())
    # the SMP certificate's serial asked of the AP CA: not one the AP CA issued
    der = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(name_hash, key_hash, pki["smp"].serial_number, hashes.SHA1())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    answer = OcspResponder(pki.directory).respond(der)
    response = ocsp.load_der_ocsp_response(answer.der)
    assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    assert signed_by(response, pki.responders["ap-ca"].certificate)


def test_issuer_outside_the_pki_is_unauthorized(pki: TestPki, tmp_path: Path) -> None:
    stranger = init_pki(tmp_path)
    answer = OcspResponder(pki.directory).respond(
        request_for(stranger["ap"].certificate, stranger.authority("ap-ca").certificate)
    )
    assert (
        ocsp.load_der_ocsp_response(answer.der).response_status
        is ocsp.OCSPResponseStatus.UNAUTHORIZED
    )


def test_garbage_is_a_malformed_request(pki: TestPki) -> None:
    for der in (b"", b"\x30\x03\x02\x01\x01", os.urandom(40)):
        answer = OcspResponder(pki.directory).respond(der)
        assert answer.response_status == "malformed_request"
        assert (
            ocsp.load_der_ocsp_response(answer.der).response_status
            is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
        )


def test_revocation_after_start_is_seen(tmp_path: Path) -> None:
    init_pki(tmp_path)
    responder = OcspResponder(tmp_path)
    pki = load_pki(tmp_path)
    der = request_for(pki["participant-ap"].certificate, pki.authority("ap-ca").certificate)
    assert responder.respond(der).cert_status == "good"
    revoke(tmp_path, "participant-ap")
    assert responder.respond(der).cert_status == "revoked"
    # before the revocation time, OCSP still said good
    early = responder.respond(der, now=datetime(2000, 1, 1, tzinfo=UTC))
    assert early.cert_status == "good"


# -- the Starlette app ---------------------------------------------------------------------------


class Client:
    """Calls the ASGI app in process (httpx's ASGI transport; no server, no port)."""

    def __init__(self, app: object) -> None:
        self.app = app

    def _call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://ocsp.test") as http:
                return await http.request(method, path, **kwargs)  # type: ignore[arg-type]

        return asyncio.run(go())

    def get(self, path: str) -> httpx.Response:
        return self._call("GET", path)

    def post(self, path: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
        return self._call("POST", path, content=content, headers=headers)


@pytest.fixture(scope="module")
def client(pki: TestPki) -> Client:
    return Client(create_app(pki_dir=str(pki.directory)))


def test_app_answers_post_and_get(pki: TestPki, client: Client) -> None:
    entry = pki["ap-revoked"]
    der = request_for(entry.certificate, entry.chain[0])
    posted = client.post("/", content=der, headers={"Content-Type": "application/ocsp-request"})
    assert posted.status_code == 200
    assert posted.headers["content-type"] == "application/ocsp-response"
    assert (
        ocsp.load_der_ocsp_response(posted.content).certificate_status
        is ocsp.OCSPCertStatus.REVOKED
    )
    encoded = quote(base64.b64encode(der).decode(), safe="")
    got = client.get("/" + encoded)
    assert got.status_code == 200
    assert (
        ocsp.load_der_ocsp_response(got.content).certificate_status is ocsp.OCSPCertStatus.REVOKED
    )
    urlsafe = base64.urlsafe_b64encode(der).decode().rstrip("=")
    assert (
        ocsp.load_der_ocsp_response(client.get("/" + urlsafe).content).serial_number
        == entry.serial_number
    )
    bad = client.get("/" + quote("not base64!!", safe=""))
    assert (
        ocsp.load_der_ocsp_response(bad.content).response_status
        is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


def test_app_refuses_other_content_types_and_huge_requests(client: Client) -> None:
    assert client.post("/", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    huge = client.post(
        "/", content=b"\0" * (64 * 1024 + 1), headers={"Content-Type": "application/ocsp-request"}
    )
    assert huge.status_code == 413


def test_app_serves_crls_and_ca_certificates(pki: TestPki, client: Client) -> None:
    crl = client.get("/crl/ap-ca.crl")
    assert crl.status_code == 200 and crl.headers["content-type"] == "application/pkix-crl"
    assert crl.content == pki.crl_path("ap-ca", der=True).read_bytes()
    parsed = x509.load_der_x509_crl(crl.content)
    assert (
        parsed.get_revoked_certificate_by_serial_number(pki["ap-revoked"].serial_number) is not None
    )
    cer = client.get("/ca/smp-ca.cer")
    assert cer.headers["content-type"] == "application/pkix-cert"
    assert x509.load_der_x509_certificate(cer.content) == pki.authority("smp-ca").certificate
    for path in ("/crl/nope.crl", "/crl/ap-ca.cer", "/ca/ap-ca.crl", "/ca/root"):
        assert client.get(path).status_code == 404, path
    # anything else under / is an OCSP GET: a path that climbs out is a malformed request
    climbing = client.get("/crl/..%2Fmanifest.json")
    assert ocsp.load_der_ocsp_response(climbing.content).response_status is (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


def test_app_health_names_the_cas(client: Client) -> None:
    body = client.get("/conformance/v1/health").json()
    assert body["status"] == "ok"
    assert {"root", "ap-ca", "smp-ca"} <= set(body["authorities"])


def test_app_needs_a_pki(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONFORMANCE_PKI_DIR", raising=False)
    with pytest.raises(ConfigError, match="--pki-dir"):
        create_app()
    with pytest.raises(ConfigError, match="conformance pki init"):
        create_app(pki_dir=str(tmp_path))
    monkeypatch.setenv("CONFORMANCE_PKI_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="conformance pki init"):
        create_app()


def test_app_has_no_variants(pki: TestPki) -> None:
    with pytest.raises(ConfigError, match="no variant 'lying'"):
        create_app(variant="lying", pki_dir=str(pki.directory))
