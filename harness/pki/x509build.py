"""Certificate, CRL and key building for the test PKI, shaped like the Peppol PKI.

The Peppol PKI (https://openpeppol.atlassian.net/wiki/spaces/OPMA, "Peppol PKI 2025 - Certificate
Authorities") has a root CA and one issuing CA per service: Access Point and Service Metadata
Publisher. Leaf subjects are ``CN=<seat id>`` (``PSG000001``: a two-letter authority prefix and the
service provider's number), ``OU``, ``O`` (the service provider) and ``C``. Keys are RSA 2048 with
SHA-256 signatures, as Peppol's are. The harness' CAs carry ``OU=FOR TEST ONLY`` like Peppol's test
CAs; nothing here claims to be an OpenPeppol CA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from harness.pki.model import CertificateKind, Revocation, RevocationReason

#: RSA modulus size. 2048 is what Peppol uses and the smallest cryptography's verifier accepts.
KEY_SIZE = 2048
PUBLIC_EXPONENT = 65537

_REASON_FLAGS = {
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.CA_COMPROMISE: x509.ReasonFlags.ca_compromise,
    RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
}


def reason_flag(reason: RevocationReason) -> x509.ReasonFlags:
    return _REASON_FLAGS[reason]


def generate_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_SIZE)


@dataclass(frozen=True)
class SubjectName:
    """The Peppol subject shape: CN (seat id or CA name), OU, O, C."""

    common_name: str
    organization: str
    country: str
    organizational_unit: str | None = None

    def to_x509(self) -> x509.Name:
        attributes = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, self.country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization),
        ]
        if self.organizational_unit:
            attributes.append(
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, self.organizational_unit)
            )
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, self.common_name))
        return x509.Name(attributes)


@dataclass(frozen=True)
class RevocationUrls:
    """Where a relying party checks revocation of certificates issued by one CA.

    ``crl``: the CRL distribution point (``{base}/crl/{ca}.crl``); ``ocsp``: the responder
    (``{base}/``, RFC 6960 appendix A); ``ca_issuers``: the issuing CA's certificate
    (``{base}/ca/{ca}.cer``). Built from the reference OCSP endpoint's base URL.
    """

    crl: str
    ocsp: str | None
    ca_issuers: str

    @classmethod
    def for_issuer(cls, base_url: str, issuer: str) -> RevocationUrls:
        base = base_url.rstrip("/")
        return cls(
            crl=f"{base}/crl/{issuer}.crl", ocsp=f"{base}/", ca_issuers=f"{base}/ca/{issuer}.cer"
        )


def build_certificate(
    *,
    kind: CertificateKind,
    subject: SubjectName,
    public_key: rsa.RSAPublicKey,
    issuer_certificate: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    not_before: datetime,
    not_after: datetime,
    serial_number: int | None = None,
    urls: RevocationUrls | None = None,
) -> x509.Certificate:
    """A certificate of ``kind``; self-signed when ``issuer_certificate`` is None (a root).

    Extensions by kind (RFC 5280 section 4.2):

    * root CA: basicConstraints CA (critical), keyUsage keyCertSign + cRLSign (critical), SKI;
    * issuing CA: basicConstraints CA pathLen 0, the same keyUsage, SKI, AKI, CRL DP of the root;
    * AP: basicConstraints not CA, keyUsage digitalSignature + keyEncipherment (critical);
    * SMP: basicConstraints not CA, keyUsage digitalSignature (critical);
    * OCSP responder: keyUsage digitalSignature, extKeyUsage id-kp-OCSPSigning, id-pkix-ocsp-nocheck
      (RFC 6960 section 4.2.2.2.1: clients need not check the responder's own revocation);
    * every non-root: CRL distribution point and authority information access (OCSP, caIssuers)
      when ``urls`` is given.
    """
    subject_name = subject.to_x509()
    issuer_name = issuer_certificate.subject if issuer_certificate is not None else subject_name
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(serial_number if serial_number is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer_certificate is not None:
        issuer_ski = issuer_certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
            critical=False,
        )
    if kind is CertificateKind.ROOT_CA:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=1), critical=True
        )
        builder = builder.add_extension(
            _key_usage(key_cert_sign=True, crl_sign=True), critical=True
        )
    elif kind is CertificateKind.INTERMEDIATE_CA:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=0), critical=True
        )
        builder = builder.add_extension(
            _key_usage(key_cert_sign=True, crl_sign=True), critical=True
        )
    elif kind is CertificateKind.AP:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True
        )
        builder = builder.add_extension(
            _key_usage(digital_signature=True, key_encipherment=True), critical=True
        )
    elif kind is CertificateKind.SMP:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True
        )
        builder = builder.add_extension(_key_usage(digital_signature=True), critical=True)
    elif kind is CertificateKind.OCSP_RESPONDER:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True
        )
        builder = builder.add_extension(_key_usage(digital_signature=True), critical=True)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False
        )
        builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
    else:  # pragma: no cover - exhaustive over CertificateKind
        raise ValueError(f"unknown certificate kind {kind!r}")
    if urls is not None and issuer_certificate is not None:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(urls.crl)],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        if kind is not CertificateKind.OCSP_RESPONDER:
            access = []
            if urls.ocsp is not None:
                access.append(
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(urls.ocsp),
                    )
                )
            access.append(
                x509.AccessDescription(
                    AuthorityInformationAccessOID.CA_ISSUERS,
                    x509.UniformResourceIdentifier(urls.ca_issuers),
                )
            )
            builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def build_crl(
    *,
    issuer_certificate: x509.Certificate,
    issuer_key: rsa.RSAPrivateKey,
    revoked: list[tuple[int, Revocation]],
    this_update: datetime,
    next_update: datetime,
    number: int,
) -> x509.CertificateRevocationList:
    """A v2 CRL (RFC 5280 section 5) with CRL number, AKI and a reason code per entry.

    The reason code extension is left out for ``unspecified`` (RFC 5280 section 5.3.1 says
    it SHOULD be absent rather than say unspecified).
    """
    issuer_ski = issuer_certificate.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_certificate.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
            critical=False,
        )
    )
    for serial, revocation in sorted(revoked, key=lambda item: item[0]):
        entry = (
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revocation.at)
        )
        if revocation.reason is not RevocationReason.UNSPECIFIED:
            entry = entry.add_extension(
                x509.CRLReason(reason_flag(revocation.reason)), critical=False
            )
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer_key, hashes.SHA256())


def _key_usage(
    *,
    digital_signature: bool = False,
    key_encipherment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )
