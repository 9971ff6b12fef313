"""Values of the test PKI: what a hierarchy and an issued certificate are, as frozen dataclasses.

Nothing here holds private key *bytes*: an :class:`IssuedCertificate` names the file its key is in
(written with mode 0600), so a value can be logged, put in a report or compared without leaking
a key. :func:`harness.pki.load_private_key` reads the key when a signer really needs it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

from harness.errors import ConfigError

if TYPE_CHECKING:
    from cryptography import x509


class PkiError(ConfigError):
    """The test PKI directory is missing, incomplete, inconsistent, or a request cannot be met.

    A :class:`~harness.errors.ConfigError`: the user fixes it (``conformance pki init DIR``,
    ``--force``, another name), so the CLI exits 2 with the message.
    """


class CertificateKind(enum.StrEnum):
    """What a certificate of the test PKI is for (the Peppol PKI's certificate types)."""

    ROOT_CA = "root-ca"
    INTERMEDIATE_CA = "intermediate-ca"
    #: An Access Point certificate (Peppol AP: signs and decrypts AS4 messages).
    AP = "ap"
    #: A Service Metadata Publisher certificate (Peppol SMP: signs SignedServiceMetadata).
    SMP = "smp"
    #: A delegated OCSP responder (RFC 6960 section 4.2.2.2: id-kp-OCSPSigning, issued by the CA).
    OCSP_RESPONDER = "ocsp-responder"


#: Leaf kinds :func:`harness.pki.issue` makes.
LEAF_KINDS = (CertificateKind.AP, CertificateKind.SMP)


class Fault(enum.StrEnum):
    """A deliberate defect of an issued certificate, for negative tests."""

    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    REVOKED = "revoked"
    #: Issued by a separate root that is not a trust anchor of the test PKI.
    WRONG_CA = "wrong-ca"


class RevocationReason(enum.StrEnum):
    """CRL reason codes (RFC 5280 section 5.3.1) the test PKI uses, by their ASN.1 names."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "keyCompromise"
    CA_COMPROMISE = "cACompromise"
    AFFILIATION_CHANGED = "affiliationChanged"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessationOfOperation"


@dataclass(frozen=True)
class Revocation:
    """When and why a certificate was revoked (what its CRL entry and OCSP answer say)."""

    at: datetime
    reason: RevocationReason = RevocationReason.KEY_COMPROMISE


@dataclass(frozen=True)
class IssuedCertificate:
    """One certificate of the test PKI and where its files are.

    ``chain`` is the issuing path above ``certificate``: its issuer first, the self-signed root
    last (empty for a root). ``chain_path`` is a PEM bundle of ``certificate`` followed by the
    intermediates (not the root): what a TLS server or an AS4 sender presents.
    ``issuer`` is the name of the issuing CA in the PKI (``None`` for a root).
    """

    name: str
    kind: CertificateKind
    certificate: x509.Certificate
    private_key_path: Path
    chain: tuple[x509.Certificate, ...]
    certificate_path: Path
    chain_path: Path
    issuer: str | None
    faults: frozenset[Fault] = frozenset()
    revocation: Revocation | None = None
    #: Whether the certificate chains to the PKI's trust anchor (False under the untrusted root).
    trusted: bool = True

    @property
    def serial_number(self) -> int:
        return self.certificate.serial_number

    @property
    def fingerprint_sha256(self) -> str:
        """Upper-case hex with colons, as ``openssl x509 -fingerprint -sha256`` prints it."""
        from cryptography.hazmat.primitives import hashes

        return _colon_hex(self.certificate.fingerprint(hashes.SHA256()))

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    @property
    def common_name(self) -> str:
        """The subject CN: the Peppol seat id (``PSG000001``) for AP and SMP certificates."""
        from cryptography.x509.oid import NameOID

        values = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(values[0].value) if values else ""

    @property
    def revoked(self) -> bool:
        return self.revocation is not None

    def __repr__(self) -> str:
        return (
            f"IssuedCertificate(name={self.name!r}, kind={self.kind.value!r}, "
            f"subject={self.certificate.subject.rfc4514_string()!r}, serial={self.serial_number:x}, "
            f"faults={sorted(f.value for f in self.faults)})"
        )


@dataclass(frozen=True)
class TestPki:
    """A test PKI on disk, as loaded by :func:`harness.pki.load_pki` (a snapshot: issuing or
    revoking later changes the directory, not this value; load again to see it).

    ``authorities`` maps CA names (``root``, ``ap-ca``, ``smp-ca``, and once a wrong-CA
    certificate was issued ``untrusted-root``, ``untrusted-ca``) to CA certificates;
    ``certificates`` maps leaf names (``ap``, ``smp``, ``participant-ap``, ``participant-smp``
    and whatever was issued since) to leaves; ``responders`` maps a CA name to its delegated OCSP
    responder certificate.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    directory: Path
    authorities: Mapping[str, IssuedCertificate]
    certificates: Mapping[str, IssuedCertificate]
    responders: Mapping[str, IssuedCertificate] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: Base URL of the reference OCSP/CRL endpoint written into CRL distribution point and
    #: authority information access extensions (``None``: certificates carry no such URLs).
    revocation_base_url: str | None = None
    created: datetime | None = None

    @property
    def root(self) -> IssuedCertificate:
        return self.authorities["root"]

    @property
    def trust_anchors(self) -> tuple[x509.Certificate, ...]:
        """The certificates a relying party trusts: the test root only."""
        return (self.root.certificate,)

    @property
    def intermediates(self) -> tuple[x509.Certificate, ...]:
        """The trusted issuing CAs (AP CA, SMP CA): what a relying party may be given untrusted."""
        return tuple(
            ca.certificate
            for ca in self.authorities.values()
            if ca.trusted and ca.kind is CertificateKind.INTERMEDIATE_CA
        )

    @property
    def trust_anchors_path(self) -> Path:
        """PEM file with the trust anchors (``openssl verify -CAfile``)."""
        return self.directory / "trust-anchors.pem"

    @property
    def intermediates_path(self) -> Path:
        """PEM file with the trusted intermediates (``openssl verify -untrusted``)."""
        return self.directory / "intermediates.pem"

    @property
    def manifest_path(self) -> Path:
        return self.directory / "manifest.json"

    def __getitem__(self, name: str) -> IssuedCertificate:
        """A leaf certificate by name; :class:`PkiError` naming the known ones otherwise."""
        try:
            return self.certificates[name]
        except KeyError:
            raise PkiError(
                f"the test PKI in {self.directory} has no certificate {name!r}; known:"
                f" {', '.join(sorted(self.certificates))} (issue one with `conformance pki issue`)"
            ) from None

    def authority(self, name: str) -> IssuedCertificate:
        try:
            return self.authorities[name]
        except KeyError:
            raise PkiError(
                f"the test PKI in {self.directory} has no CA {name!r}; known: {', '.join(sorted(self.authorities))}"
            ) from None

    def crl_path(self, ca: str, *, der: bool = False) -> Path:
        """The CRL of CA ``ca`` (PEM, or DER with ``der=True``)."""
        self.authority(ca)
        return self.directory / "ca" / ca / ("crl.der" if der else "crl.pem")

    def crl(self, ca: str) -> x509.CertificateRevocationList:
        from cryptography import x509 as _x509

        return _x509.load_der_x509_crl(self.crl_path(ca, der=True).read_bytes())

    def issuer_of(self, certificate: IssuedCertificate) -> IssuedCertificate | None:
        return self.authorities.get(certificate.issuer) if certificate.issuer else None

    def find(self, certificate: x509.Certificate) -> IssuedCertificate | None:
        """The entry of ``certificate`` (any kind), matched by its DER bytes."""
        for entry in (
            *self.authorities.values(),
            *self.certificates.values(),
            *self.responders.values(),
        ):
            if entry.certificate == certificate:
                return entry
        return None

    def issue(self, kind: CertificateKind | str, name: str, **options: object) -> IssuedCertificate:
        """Shorthand for :func:`harness.pki.issue` on this directory."""
        from harness.pki.store import issue

        return issue(self.directory, kind, name, **options)  # type: ignore[arg-type]


def _colon_hex(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)
