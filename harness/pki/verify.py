"""Certificate path validation for the harness' own checks, with a reason a report can quote.

The decision is cryptography's RFC 5280 path validation (``cryptography.x509.verification``,
available since cryptography 43): signatures, validity at the given time, basic constraints,
path length, name chaining and key sizes. Its web-PKI defaults are kept for CA certificates; for
end-entity certificates one rule is relaxed because Peppol certificates differ from web ones:
they identify a service provider by its seat id in the subject CN and carry no subjectAltName
(which the web-PKI policy requires). Instead the leaf must have a keyUsage with the bits the
caller asks for (digitalSignature by default).

cryptography's errors are strings; to give a *reason* (expired, not yet valid, unknown CA), a
failed validation is explained by a small path search of our own over the same certificates
(issuer name + signature), then the validity of each certificate on that path. The explanation
never turns a failure into a pass. Revocation is not part of cryptography's verifier: the caller
passes ``check_revocation`` (CRL or OCSP based, see :func:`crl_checker` and
:func:`harness.pki.ocsp.ocsp_checker`), which is asked about every certificate on the validated
path but the trust anchor.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509 import verification

if TYPE_CHECKING:
    from harness.pki.model import TestPki


class ChainFailure(enum.StrEnum):
    """Why a certificate was not accepted."""

    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    UNKNOWN_CA = "unknown CA"
    REVOKED = "revoked"
    #: The revocation check could not say (no CRL of the issuer, responder said unknown).
    REVOCATION_UNKNOWN = "revocation status unknown"
    #: Chains to a trust anchor and is in its validity, but breaks another rule (key usage,
    #: basic constraints, path length, ...): ``detail`` has cryptography's explanation.
    INVALID = "invalid"


class RevocationStatus(enum.StrEnum):
    """A revocation answer (the OCSP certStatus values of RFC 6960 section 2.2)."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


#: ``check(certificate, issuer) -> status``: one revocation lookup.
RevocationCheck = Callable[[x509.Certificate, x509.Certificate], RevocationStatus]

#: keyUsage bits by their cryptography attribute names.
KEY_USAGE_BITS = frozenset(
    {
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    }
)


@dataclass(frozen=True)
class ChainVerification:
    """The outcome of :func:`verify_chain`. True in a boolean context when accepted.

    ``chain``: the validated path, leaf first and trust anchor last (for a failure: the path the
    explanation found, possibly empty). ``subject``: the certificate ``reason`` is about.
    """

    ok: bool
    reason: ChainFailure | None
    detail: str
    chain: tuple[x509.Certificate, ...] = ()
    subject: x509.Certificate | None = None

    def __bool__(self) -> bool:
        return self.ok


def verify_chain(
    certificate: x509.Certificate,
    trust_anchors: Iterable[x509.Certificate],
    *,
    intermediates: Sequence[x509.Certificate] = (),
    at: datetime | None = None,
    check_revocation: RevocationCheck | None = None,
    key_usage: Iterable[str] = ("digital_signature",),
    max_chain_depth: int = 4,
) -> ChainVerification:
    """Validate ``certificate`` against ``trust_anchors`` at time ``at`` (default: now).

    ``intermediates``: untrusted certificates that may complete the path (a sender's chain).
    ``key_usage``: keyUsage bits the end-entity certificate must have (``digital_signature``,
    ``key_encipherment``, ...). A trust anchor may be an intermediate CA: pass the SMP CA alone
    to accept only certificates the SMP CA issued.
    """
    anchors = list(dict.fromkeys(trust_anchors))
    when = _utc(at)
    required = tuple(key_usage)
    unknown_bits = set(required) - KEY_USAGE_BITS
    if unknown_bits:
        raise ValueError(
            f"unknown keyUsage bits {sorted(unknown_bits)}; use {sorted(KEY_USAGE_BITS)}"
        )
    if not anchors:
        return ChainVerification(
            False, ChainFailure.UNKNOWN_CA, "no trust anchors were given", (), certificate
        )

    def leaf_key_usage(
        policy: verification.Policy, cert: x509.Certificate, ku: x509.KeyUsage
    ) -> None:
        missing = [bit for bit in required if not getattr(ku, bit)]
        if missing:
            raise ValueError(f"keyUsage lacks {', '.join(missing)}")

    criticality = verification.Criticality
    ee_policy = (
        verification.ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.SubjectAlternativeName, criticality.AGNOSTIC, None)
        .may_be_present(x509.ExtendedKeyUsage, criticality.AGNOSTIC, None)
        .require_present(x509.KeyUsage, criticality.AGNOSTIC, leaf_key_usage)
    )
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store(anchors))
        .time(when)
        .max_chain_depth(max_chain_depth)
        .extension_policies(
            ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee_policy
        )
        .build_client_verifier()
    )
    try:
        verified = verifier.verify(certificate, list(intermediates))
    except verification.VerificationError as exc:
        return _explain(certificate, anchors, intermediates, when, str(exc))

    chain = tuple(verified.chain)
    if check_revocation is not None:
        for cert, issuer in itertools.pairwise(chain):
            status = RevocationStatus(check_revocation(cert, issuer))
            if status is RevocationStatus.REVOKED:
                return ChainVerification(
                    False,
                    ChainFailure.REVOKED,
                    f"{_who(cert)} (serial {cert.serial_number:x}) is revoked by {_name(issuer.subject)}",
                    chain,
                    cert,
                )
            if status is RevocationStatus.UNKNOWN:
                return ChainVerification(
                    False,
                    ChainFailure.REVOCATION_UNKNOWN,
                    f"the revocation status of {_who(cert)} (serial {cert.serial_number:x}) is unknown",
                    chain,
                    cert,
                )
    return ChainVerification(
        True, None, f"{_who(certificate)} chains to {_name(chain[-1].subject)}", chain, None
    )


def crl_checker(
    crls: Iterable[x509.CertificateRevocationList], *, at: datetime | None = None
) -> RevocationCheck:
    """A revocation check over CRLs: the issuer's CRL (by name and signature) lists the serial?

    A certificate whose issuer has no CRL here, or only one that expired before ``at``, is
    UNKNOWN (RFC 5280 section 6.3.3: an out-of-date CRL does not prove anything).
    """
    lists = tuple(crls)
    when = _utc(at) if at is not None else None

    def check(certificate: x509.Certificate, issuer: x509.Certificate) -> RevocationStatus:
        now = when or datetime.now(UTC)
        for crl in lists:
            if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                continue
            if crl.next_update_utc is not None and crl.next_update_utc < now:
                continue
            if crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None:
                return RevocationStatus.REVOKED
            return RevocationStatus.GOOD
        return RevocationStatus.UNKNOWN

    return check


def pki_crl_checker(pki: TestPki, *, at: datetime | None = None) -> RevocationCheck:
    """:func:`crl_checker` over every CRL of the test PKI as it is on disk now."""
    return crl_checker([pki.crl(name) for name in pki.authorities], at=at)


# -- explaining a failure ------------------------------------------------------------------------


def _explain(
    certificate: x509.Certificate,
    anchors: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
    when: datetime,
    message: str,
) -> ChainVerification:
    path = _find_path(certificate, anchors, intermediates, depth=8)
    if path is None:
        issuer = _name(certificate.issuer)
        return ChainVerification(
            False,
            ChainFailure.UNKNOWN_CA,
            f"{_who(certificate)} does not chain to a trust anchor: its issuer {issuer} is neither a trust"
            f" anchor nor linked to one by the intermediates given (cryptography: {message})",
            (),
            certificate,
        )
    for cert in path:
        if when < cert.not_valid_before_utc:
            return ChainVerification(
                False,
                ChainFailure.NOT_YET_VALID,
                f"{_who(cert)} is not valid before {cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}"
                f" (checked at {when:%Y-%m-%dT%H:%M:%SZ})",
                tuple(path),
                cert,
            )
        if when > cert.not_valid_after_utc:
            return ChainVerification(
                False,
                ChainFailure.EXPIRED,
                f"{_who(cert)} expired on {cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
                f" (checked at {when:%Y-%m-%dT%H:%M:%SZ})",
                tuple(path),
                cert,
            )
    return ChainVerification(
        False, ChainFailure.INVALID, f"{_who(certificate)}: {message}", tuple(path), certificate
    )


def _find_path(
    cert: x509.Certificate,
    anchors: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
    *,
    depth: int,
    seen: tuple[x509.Certificate, ...] = (),
) -> list[x509.Certificate] | None:
    """A path ``cert`` .. anchor by issuer name and signature only (no validity, no policy)."""
    if cert in anchors:
        return [cert]
    if depth == 0:
        return None
    for anchor in anchors:
        if anchor.subject == cert.issuer and _signed_by(cert, anchor):
            return [cert, anchor]
    for candidate in intermediates:
        if candidate in seen or candidate == cert or candidate.subject != cert.issuer:
            continue
        if _signed_by(cert, candidate):
            rest = _find_path(
                candidate, anchors, intermediates, depth=depth - 1, seen=(*seen, cert)
            )
            if rest is not None:
                return [cert, *rest]
    return None


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _who(cert: x509.Certificate) -> str:
    return f"certificate {_name(cert.subject)}"


def _name(name: x509.Name) -> str:
    return name.rfc4514_string() or "(empty name)"


def _utc(at: datetime | None) -> datetime:
    when = datetime.now(UTC) if at is None else at
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
