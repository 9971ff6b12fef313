"""OCSP (RFC 6960) for the test PKI: the responder's logic and a small client.

:class:`OcspResponder` answers requests about certificates of one PKI directory: ``good`` for a
certificate the PKI issued and did not revoke, ``revoked`` (with time and reason) for one it
revoked, ``unknown`` for a serial it never issued under that CA, and the unsuccessful status
``unauthorized`` for a CA that is not in the PKI (RFC 6960 section 2.3). Answers for the AP and
SMP CAs are signed by their delegated responder certificates (id-kp-OCSPSigning, section
4.2.2.2); answers for the other CAs are signed by the CA itself. The manifest is re-read when it
changes, so a certificate revoked after the responder started is answered ``revoked``.

cryptography reads one certificate per request (``OCSPRequest`` has no list); a request for
several is answered ``malformedRequest``. The responder echoes a nonce (RFC 8954) when the
request has one, as ``openssl ocsp`` expects.

:func:`query_ocsp` and :func:`ocsp_checker` are the client side, for the harness' own checks: a
request with SHA-1 CertID (what responders universally accept), over HTTP POST, and a response
that is only believed when its signature is by the issuer or a responder the issuer delegated to.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from harness.errors import HarnessError
from harness.pki.model import IssuedCertificate, TestPki
from harness.pki.store import MANIFEST, load_pki, load_private_key
from harness.pki.verify import RevocationCheck, RevocationStatus
from harness.pki.x509build import reason_flag

OCSP_REQUEST_MEDIA_TYPE = "application/ocsp-request"
OCSP_RESPONSE_MEDIA_TYPE = "application/ocsp-response"
#: How long an answer is fresh (nextUpdate - thisUpdate).
ANSWER_VALIDITY = timedelta(hours=1)
#: Clock skew the client tolerates on thisUpdate.
CLOCK_SKEW = timedelta(minutes=5)


class OcspError(HarnessError):
    """An OCSP exchange gave no usable answer (transport, unsuccessful status, bad signature)."""


@dataclass(frozen=True)
class OcspAnswer:
    """What a responder said about one certificate (or why it said nothing useful).

    ``response_status`` is ``successful`` or an RFC 6960 error status; ``cert_status``,
    ``serial_number`` and ``issuer`` are set when it is successful (``issuer``: the CA name in
    the PKI); ``der`` is the encoded OCSPResponse.
    """

    der: bytes
    response_status: str
    cert_status: RevocationStatus | None = None
    serial_number: int | None = None
    issuer: str | None = None
    revocation_time: datetime | None = None
    revocation_reason: str | None = None


class OcspResponder:
    """Answers OCSP requests from the test PKI in ``directory`` (thread-safe)."""

    def __init__(
        self, directory: str | os.PathLike[str], *, validity: timedelta = ANSWER_VALIDITY
    ) -> None:
        self.directory = Path(directory)
        self.validity = validity
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._pki: TestPki | None = None
        self._keys: dict[Path, rsa.RSAPrivateKey] = {}

    @property
    def pki(self) -> TestPki:
        """The PKI as it is on disk now (re-loaded when the manifest changed)."""
        stat = (self.directory / MANIFEST).stat()
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        with self._lock:
            if self._pki is None or stamp != self._stamp:
                self._pki = load_pki(self.directory)
                self._stamp = stamp
            return self._pki

    def respond(self, request_der: bytes, *, now: datetime | None = None) -> OcspAnswer:
        """The DER OCSPResponse to ``request_der``; never raises for a bad request."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
            algorithm = request.hash_algorithm
            serial = request.serial_number
            name_hash, key_hash = request.issuer_name_hash, request.issuer_key_hash
        except (ValueError, TypeError, NotImplementedError):
            # NotImplementedError: several certificates in one request, which cryptography
            # does not read; the client is told its request is not one this responder takes
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        pki = self.pki
        ca = _find_issuer(pki, algorithm, name_hash, key_hash)
        if ca is None:
            return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        entry = _issued_by(pki, ca.name, serial)
        if entry is None:
            status = ocsp.OCSPCertStatus.UNKNOWN
        elif entry.revocation is not None and entry.revocation.at <= at:
            status = ocsp.OCSPCertStatus.REVOKED
        else:
            status = ocsp.OCSPCertStatus.GOOD
        revocation = (
            entry.revocation
            if (entry is not None and status is ocsp.OCSPCertStatus.REVOKED)
            else None
        )
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=name_hash,
            issuer_key_hash=key_hash,
            serial_number=serial,
            algorithm=algorithm,
            cert_status=status,
            this_update=at,
            next_update=at + self.validity,
            revocation_time=revocation.at if revocation else None,
            revocation_reason=reason_flag(revocation.reason) if revocation else None,
        )
        signer = pki.responders.get(ca.name) or ca
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer.certificate)
        if signer is not ca:
            # the delegated responder and its issuer, so a client can build the responder's path
            builder = builder.certificates([signer.certificate, ca.certificate])
        for extension in request.extensions:
            if isinstance(extension.value, x509.OCSPNonce):
                builder = builder.add_extension(extension.value, critical=False)
        response = builder.sign(self._key(signer), hashes.SHA256())
        return OcspAnswer(
            der=response.public_bytes(serialization.Encoding.DER),
            response_status="successful",
            cert_status=RevocationStatus(_STATUS_NAMES[status]),
            serial_number=serial,
            issuer=ca.name,
            revocation_time=revocation.at if revocation else None,
            revocation_reason=revocation.reason.value if revocation else None,
        )

    def _key(self, signer: IssuedCertificate) -> rsa.RSAPrivateKey:
        with self._lock:
            key = self._keys.get(signer.private_key_path)
            if key is None:
                key = self._keys[signer.private_key_path] = load_private_key(signer)
            return key


_STATUS_NAMES = {
    ocsp.OCSPCertStatus.GOOD: "good",
    ocsp.OCSPCertStatus.REVOKED: "revoked",
    ocsp.OCSPCertStatus.UNKNOWN: "unknown",
}


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> OcspAnswer:
    response = ocsp.OCSPResponseBuilder.build_unsuccessful(status)
    return OcspAnswer(
        der=response.public_bytes(serialization.Encoding.DER), response_status=status.name.lower()
    )


def issuer_hashes(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
    """(issuerNameHash, issuerKeyHash) of RFC 6960 section 4.1.1: hashes of the issuer's DER
    name and of its subjectPublicKey BIT STRING contents (for RSA: the PKCS#1 RSAPublicKey)."""
    name = hashes.Hash(algorithm)
    name.update(issuer.subject.public_bytes())
    key = hashes.Hash(algorithm)
    key.update(
        issuer.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        )
    )
    return name.finalize(), key.finalize()


def _find_issuer(
    pki: TestPki, algorithm: hashes.HashAlgorithm, name_hash: bytes, key_hash: bytes
) -> IssuedCertificate | None:
    for ca in pki.authorities.values():
        if issuer_hashes(ca.certificate, algorithm) == (name_hash, key_hash):
            return ca
    return None


def _issued_by(pki: TestPki, ca: str, serial: int) -> IssuedCertificate | None:
    for entry in (*pki.certificates.values(), *pki.authorities.values(), *pki.responders.values()):
        if entry.issuer == ca and entry.serial_number == serial:
            return entry
    return None


# -- client ---------------------------------------------------------------------------------------


def ocsp_url(certificate: x509.Certificate) -> str | None:
    """The OCSP responder URL in ``certificate``'s authority information access, if any."""
    try:
        aia = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    for access in aia:
        if access.access_method == AuthorityInformationAccessOID.OCSP and isinstance(
            access.access_location, x509.UniformResourceIdentifier
        ):
            return access.access_location.value
    return None


def query_ocsp(
    certificate: x509.Certificate,
    issuer: x509.Certificate,
    url: str,
    *,
    timeout: float = 5.0,
    now: datetime | None = None,
) -> OcspAnswer:
    """Ask the responder at ``url`` about ``certificate``; the answer is verified before it is
    returned (:class:`OcspError` otherwise: transport, unsuccessful status, wrong certificate,
    nonce, signature not by the issuer or its delegated responder, stale)."""
    nonce = os.urandom(16)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, issuer, hashes.SHA1())  # CertID hash: RFC 6960's default
        .add_extension(x509.OCSPNonce(nonce), critical=False)
        .build()
    )
    http_request = urllib.request.Request(
        url,
        data=request.public_bytes(serialization.Encoding.DER),
        method="POST",
        headers={"Content-Type": OCSP_REQUEST_MEDIA_TYPE, "Accept": OCSP_RESPONSE_MEDIA_TYPE},
    )
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as reply:
            der = reply.read()
    except (urllib.error.URLError, OSError) as exc:
        raise OcspError(f"OCSP responder {url} did not answer: {exc}") from None
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError as exc:
        raise OcspError(
            f"OCSP responder {url} sent something that is not an OCSPResponse: {exc}"
        ) from None
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise OcspError(f"OCSP responder {url} answered {response.response_status.name.lower()}")
    name_hash, key_hash = issuer_hashes(issuer, hashes.SHA1())
    if (response.serial_number, response.issuer_name_hash, response.issuer_key_hash) != (
        certificate.serial_number,
        name_hash,
        key_hash,
    ):
        raise OcspError(f"OCSP responder {url} answered about another certificate")
    echoed = [e.value.nonce for e in response.extensions if isinstance(e.value, x509.OCSPNonce)]
    if echoed and echoed[0] != nonce:
        raise OcspError(f"OCSP responder {url} answered with another nonce (replayed response?)")
    _check_signer(response, issuer, url)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    if response.this_update_utc > at + CLOCK_SKEW or (
        response.next_update_utc is not None and response.next_update_utc < at
    ):
        raise OcspError(
            f"OCSP answer of {url} is not current (thisUpdate {response.this_update_utc},"
            f" nextUpdate {response.next_update_utc})"
        )
    status = RevocationStatus(_STATUS_NAMES[response.certificate_status])
    return OcspAnswer(
        der=der,
        response_status="successful",
        cert_status=status,
        serial_number=response.serial_number,
        revocation_time=response.revocation_time_utc,
        revocation_reason=response.revocation_reason.value if response.revocation_reason else None,
    )


def ocsp_checker(url: str | None = None, *, timeout: float = 5.0) -> RevocationCheck:
    """A revocation check for :func:`harness.pki.verify_chain` asking an OCSP responder: ``url``,
    or the one in each certificate's authority information access. No responder, or no usable
    answer, is UNKNOWN."""

    def check(certificate: x509.Certificate, issuer: x509.Certificate) -> RevocationStatus:
        where = url or ocsp_url(certificate)
        if where is None:
            return RevocationStatus.UNKNOWN
        try:
            answer = query_ocsp(certificate, issuer, where, timeout=timeout)
        except OcspError:
            return RevocationStatus.UNKNOWN
        return answer.cert_status or RevocationStatus.UNKNOWN

    return check


def _check_signer(response: ocsp.OCSPResponse, issuer: x509.Certificate, url: str) -> None:
    """RFC 6960 section 4.2.2.2: signed by the CA, or by a responder the CA issued with
    id-kp-OCSPSigning."""
    candidates = [issuer, *response.certificates]
    for signer in candidates:
        if signer is not issuer:
            try:
                signer.verify_directly_issued_by(issuer)
                eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
                continue
            if ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
                continue
        key = signer.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or response.signature_hash_algorithm is None:
            continue
        try:
            key.verify(
                response.signature,
                response.tbs_response_bytes,
                padding.PKCS1v15(),
                response.signature_hash_algorithm,
            )
        except InvalidSignature:
            continue
        return
    raise OcspError(
        f"the OCSP answer of {url} is not signed by the issuer nor by a responder it delegated to"
    )
