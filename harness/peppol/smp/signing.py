"""Enveloped XML-DSig for SMP resources: sign with the SMP certificate, verify and judge trust.

Profile (Peppol SMP 1.4.0 section 5.5.1 "Message signature"; SHA-256 since SMP 1.3.0): one
``ds:Signature`` as the last child of the document element, ``Reference URI=""`` (the whole
document) with exactly one transform, enveloped-signature; CanonicalizationMethod inclusive C14N
1.0 (``REC-xml-c14n-20010315``; SMP 1.2.0 changed it from exclusive); RSA-SHA256 over SHA-256
digests; the SMP certificate in ``KeyInfo/X509Data/X509Certificate``. :func:`sign_enveloped`
writes exactly that (``c14n`` is a knob for known-bad signers), :func:`profile_deviations` lists
how a signature departs from it (what an SMP is judged on). Verification, what a relying party
does, is lenient where the profile does not affect security: it also accepts exclusive C14N and
C14N 1.1, and a c14n transform next to the enveloped one.

Signing and the XML-DSig mechanics are `signxml` (made for this job); the result interoperates
with ``xmlsec1 --verify`` (pinned by tests). Trust is judged by :func:`harness.pki.verify_chain`,
not by signxml: the signing certificate must be valid at the lookup time and chain, through
certificates the document or the caller supplies, to one of the configured SMP trust anchors
(pass the SMP CA alone to accept only what the SMP CA issued).

What a caller may rely on: :func:`verify_enveloped` either returns a :class:`VerifiedSignature`
whose ``signed_root`` is *exactly what the signature covers* (read data from it, not from the
bytes received: signature-wrapping safe), or raises :class:`~harness.peppol.smp.errors.
SignatureError` whose ``reason`` is a :class:`SignatureProblem`.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError
from harness.peppol.smp.errors import SignatureError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from lxml import etree

    from harness.pki import RevocationCheck

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_11 = "http://www.w3.org/2006/12/xml-c14n11"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

ACCEPTED_C14N = frozenset({EXC_C14N, C14N_10, C14N_11})


class SignatureProblem(enum.StrEnum):
    """Why a signature was not accepted (``SignatureError.reason``)."""

    MISSING = "missing"  #: no ds:Signature at all
    MALFORMED = "malformed"  #: more than one, misplaced, wrong reference, no certificate ...
    ALGORITHM = "algorithm"  #: not RSA-SHA256 / SHA-256 / an accepted C14N
    INVALID = "invalid"  #: digest or signature value does not match (tampered, wrong key)
    EXPIRED = "expired"  #: the signing certificate (or one above it) is outside its validity
    UNTRUSTED = "untrusted"  #: the signing certificate does not chain to a trust anchor
    REVOKED = "revoked"  #: the revocation check says revoked
    #: the revocation check could not say (no current, verifiable CRL of the issuer)
    REVOCATION_UNKNOWN = "revocation-unknown"


@dataclass(frozen=True)
class SigningCredential:
    """The private key and certificate an SMP signs with (and the CAs between it and the root)."""

    private_key: RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_pem(
        cls, key_pem: bytes, cert_pem: bytes, password: bytes | None = None
    ) -> SigningCredential:
        from cryptography import x509 as _x509
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey as _Rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        key = load_pem_private_key(key_pem, password=password)
        if not isinstance(key, _Rsa):
            raise ConfigError(
                "the SMP signing key must be an RSA key (Peppol SMP signs with RSA-SHA256)"
            )
        certs = _x509.load_pem_x509_certificates(cert_pem)
        return cls(key, certs[0], tuple(certs[1:]))

    def __repr__(self) -> str:  # never show the key
        return f"SigningCredential(subject={self.certificate.subject.rfc4514_string()!r})"


@dataclass(frozen=True)
class TrustAnchors:
    """The CA certificates an SMP signature must chain to (the Peppol SMP CA, or a test one)."""

    certificates: tuple[x509.Certificate, ...]
    #: Intermediate CAs the verifier may use to build a path (besides those in the document).
    intermediates: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_pem(cls, *pems: bytes | str) -> TrustAnchors:
        from cryptography import x509 as _x509

        certs: list[x509.Certificate] = []
        for pem in pems:
            data = pem.encode("ascii") if isinstance(pem, str) else pem
            try:
                certs.extend(_x509.load_pem_x509_certificates(data))
            except ValueError as exc:
                raise ConfigError(f"a trust anchor is not a PEM certificate: {exc}") from None
        if not certs:
            raise ConfigError(
                "no trust anchor certificate given; pass the SMP CA certificate (PEM)"
            )
        return cls(tuple(certs))


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified: who signed, how, and exactly what it covers."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    signed_root: etree._Element = field(repr=False)
    c14n: str
    #: Problems the caller chose to tolerate (a known-bad client's leniency), for the record.
    tolerated: tuple[SignatureProblem, ...] = ()


# -- signing -----------------------------------------------------------------------------------


def sign_enveloped(
    root: etree._Element,
    credential: SigningCredential,
    *,
    c14n: str = C14N_10,
) -> etree._Element:
    """A signed copy of ``root``: one enveloped ds:Signature appended as its last child, per
    SMP 1.4.0 section 5.5.1 with the default ``c14n`` (then the Reference has the one
    enveloped-signature transform; another ``c14n`` is added as a second transform, as signxml
    does, which the profile does not allow)."""
    from cryptography.hazmat.primitives import serialization
    from signxml import DigestAlgorithm, SignatureMethod, XMLSigner, methods
    from signxml.algorithms import CanonicalizationMethod

    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod(c14n),
    )
    signer.namespaces = {"ds": DS_NS}
    certs = [credential.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")]
    return signer.sign(
        root,
        key=credential.private_key,
        cert=certs,
        # SMP 1.4.0 5.5.1: "exactly one <Transform>", enveloped-signature; the reference output is
        # then canonicalized with C14N 1.0, the XML-DSig default, which is the profile's method.
        exclude_c14n_transform_element=c14n == C14N_10,
    )


def profile_deviations(root: etree._Element) -> list[str]:
    """How the signature of ``root`` departs from the Peppol SMP 1.4.0 section 5.5.1 profile
    (empty: it follows it). Structure only; whether it verifies is :func:`verify_enveloped`'s."""
    sigs = _signatures(root)
    if len(sigs) != 1:
        return [f"{len(sigs)} ds:Signature elements; the profile has exactly one (enveloped)"]
    info = _read_signed_info(sigs[0])
    problems = [
        f"{name} is {got!r}; the profile requires {want}"
        for name, got, want in (
            ("CanonicalizationMethod", info.c14n, C14N_10),
            ("SignatureMethod", info.method, RSA_SHA256),
            ("DigestMethod", info.digest, SHA256),
        )
        if got != want
    ]
    if info.reference_uris != ("",):
        problems.append(
            f'ds:Reference URIs are {list(info.reference_uris)}; the profile has one, URI=""'
        )
    elif info.transforms != (ENVELOPED,):
        problems.append(
            f"the Reference's transforms are {list(info.transforms)}; the profile requires exactly"
            f" one, {ENVELOPED}"
        )
    if sigs[0].find(f"{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate") is None:
        problems.append("KeyInfo has no X509Data/X509Certificate with the signer's certificate")
    return problems


@dataclass(frozen=True)
class _SignedInfoView:
    """What a ds:Signature's SignedInfo says: algorithm URIs ('' when absent), the URI of each
    Reference, and the transforms of the first one. Judged by :func:`_check_structure` (what a
    relying party accepts) and :func:`profile_deviations` (what an SMP must write)."""

    present: bool
    c14n: str = ""
    method: str = ""
    digest: str = ""
    reference_uris: tuple[str | None, ...] = ()
    transforms: tuple[str | None, ...] = ()


def _read_signed_info(sig: etree._Element) -> _SignedInfoView:
    signed_info = sig.find(f"{{{DS_NS}}}SignedInfo")
    if signed_info is None:
        return _SignedInfoView(present=False)

    def algorithm(parent: etree._Element | None, name: str) -> str:
        el = None if parent is None else parent.find(f"{{{DS_NS}}}{name}")
        return "" if el is None else el.get("Algorithm", "")

    refs = signed_info.findall(f"{{{DS_NS}}}Reference")
    first = refs[0] if refs else None
    transforms = (
        ()
        if first is None
        else tuple(
            t.get("Algorithm")
            for t in first.iterfind(f"{{{DS_NS}}}Transforms/{{{DS_NS}}}Transform")
        )
    )
    return _SignedInfoView(
        present=True,
        c14n=algorithm(signed_info, "CanonicalizationMethod"),
        method=algorithm(signed_info, "SignatureMethod"),
        digest=algorithm(first, "DigestMethod"),
        reference_uris=tuple(r.get("URI") for r in refs),
        transforms=transforms,
    )


# -- verification ------------------------------------------------------------------------------


def _signatures(root: etree._Element) -> list[etree._Element]:
    return list(root.iter(f"{{{DS_NS}}}Signature"))


def _keyinfo_certificates(signature: etree._Element) -> list[x509.Certificate]:
    from cryptography import x509 as _x509

    certs: list[x509.Certificate] = []
    for el in signature.iterfind(
        f"{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate"
    ):
        text = "".join((el.text or "").split())
        try:
            certs.append(_x509.load_der_x509_certificate(base64.b64decode(text, validate=True)))
        except (ValueError, TypeError) as exc:
            raise SignatureError(
                SignatureProblem.MALFORMED,
                f"KeyInfo/X509Data/X509Certificate is not a base64 DER certificate ({exc})",
            ) from None
    return certs


def _check_structure(root: etree._Element) -> tuple[etree._Element, str]:
    sigs = _signatures(root)
    if not sigs:
        raise SignatureError(
            SignatureProblem.MISSING,
            f"{root.tag.split('}')[-1]} has no ds:Signature; the SMP must sign it (enveloped,"
            " RSA-SHA256, with its SMP certificate)",
        )
    if len(sigs) > 1:
        raise SignatureError(
            SignatureProblem.MALFORMED,
            f"the document has {len(sigs)} ds:Signature elements; expected one",
        )
    sig = sigs[0]
    if sig.getparent() is not root or root[-1] is not sig:
        raise SignatureError(
            SignatureProblem.MALFORMED,
            "ds:Signature is not the last child of the document element (enveloped signature expected)",
        )
    info = _read_signed_info(sig)
    if not info.present:
        raise SignatureError(SignatureProblem.MALFORMED, "ds:Signature has no ds:SignedInfo")
    if info.reference_uris != ("",):
        raise SignatureError(
            SignatureProblem.MALFORMED,
            'the signature must have exactly one ds:Reference with URI="" (the whole document);'
            f" found {list(info.reference_uris)}",
        )
    c14n, method, digest = info.c14n, info.method, info.digest
    if method != RSA_SHA256 or digest != SHA256 or c14n not in ACCEPTED_C14N:
        raise SignatureError(
            SignatureProblem.ALGORITHM,
            f"signature algorithms are SignatureMethod={method!r}, DigestMethod={digest!r},"
            f" CanonicalizationMethod={c14n!r}; Peppol SMP signatures use RSA-SHA256 and SHA-256",
        )
    if ENVELOPED not in info.transforms:
        raise SignatureError(
            SignatureProblem.MALFORMED, "the reference lacks the enveloped-signature transform"
        )
    return sig, c14n


def verify_enveloped(
    root: etree._Element,
    trust: TrustAnchors | None,
    *,
    at: datetime | None = None,
    check_validity_period: bool = True,
    check_trust: bool = True,
    check_revocation: RevocationCheck | None = None,
) -> VerifiedSignature:
    """Verify the enveloped signature of ``root`` (an already safely parsed document element).

    ``trust`` None means "no trust anchors configured", which fails the trust check unless
    ``check_trust`` is False. ``check_validity_period`` / ``check_trust`` False are the knobs of
    a lenient (known-bad) client: the problem is recorded in ``tolerated`` instead of raised.
    The cryptographic check (digest and signature value) is never skipped here.
    """
    from cryptography.hazmat.primitives import serialization
    from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
    from signxml.exceptions import InvalidDigest, InvalidInput, InvalidSignature

    sig, c14n = _check_structure(root)
    certs = _keyinfo_certificates(sig)
    if not certs:
        raise SignatureError(
            SignatureProblem.MALFORMED,
            "the signature carries no certificate (KeyInfo/X509Data/X509Certificate); the SMP"
            " must include its signing certificate",
        )
    leaf = _signing_certificate(certs)
    config = SignatureConfiguration(
        require_x509=True,
        location="./",
        signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
        digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
        # signxml would refuse an expired x509_cert itself; validity is judged below, with a
        # reason, by check_certificate.
        verification_time=leaf.not_valid_before_utc,
    )
    try:
        result: Any = XMLVerifier().verify(
            root,
            x509_cert=leaf.public_bytes(serialization.Encoding.PEM).decode("ascii"),
            expect_config=config,
        )
    except (InvalidDigest, InvalidSignature) as exc:
        raise SignatureError(
            SignatureProblem.INVALID,
            f"the signature does not verify with the certificate it carries"
            f" ({leaf.subject.rfc4514_string()}): {exc}. The signed content was changed after"
            " signing, or it was signed with another key.",
        ) from None
    except InvalidInput as exc:
        raise SignatureError(
            SignatureProblem.MALFORMED, f"the signature cannot be checked: {exc}"
        ) from None

    chain, tolerated = check_certificate(
        leaf,
        [c for c in certs if c is not leaf],
        trust,
        at=at or datetime.now(UTC),
        check_validity_period=check_validity_period,
        check_trust=check_trust,
        check_revocation=check_revocation,
    )
    return VerifiedSignature(leaf, tuple(chain), result.signed_xml, c14n, tolerated)


def signer_certificate(
    root: etree._Element,
) -> tuple[x509.Certificate, list[x509.Certificate]] | None:
    """The signing certificate a document's (single, top-level) ds:Signature carries and the
    other KeyInfo certificates, without checking anything; None when there is none."""
    sigs = [s for s in _signatures(root) if s.getparent() is root]
    if len(sigs) != 1:
        return None
    certs = _keyinfo_certificates(sigs[0])
    if not certs:
        return None
    leaf = _signing_certificate(certs)
    return leaf, [c for c in certs if c is not leaf]


def _signing_certificate(certs: Sequence[x509.Certificate]) -> x509.Certificate:
    """The end-entity among the KeyInfo certificates (the one that issued no other)."""
    if len(certs) == 1:
        return certs[0]
    issuers = {c.issuer for c in certs}
    leaves = [c for c in certs if c.subject not in issuers or c.subject == c.issuer]
    return leaves[0] if leaves else certs[0]


def check_certificate(
    leaf: x509.Certificate,
    candidates: Sequence[x509.Certificate],
    trust: TrustAnchors | None,
    *,
    at: datetime,
    check_validity_period: bool = True,
    check_trust: bool = True,
    check_revocation: RevocationCheck | None = None,
) -> tuple[list[x509.Certificate], tuple[SignatureProblem, ...]]:
    """Judge the signing certificate with :func:`harness.pki.verify_chain` (RFC 5280 path
    validation against the SMP trust anchors at ``at``; keyUsage digitalSignature).

    Returns (path leaf..anchor, tolerated problems) or raises SignatureError(EXPIRED /
    UNTRUSTED / REVOKED / REVOCATION_UNKNOWN). ``check_validity_period`` False (a lenient client)
    judges the path at the leaf's own notBefore instead, so only the validity period is ignored;
    ``check_trust`` False tolerates a certificate that chains to no anchor. ``check_revocation``
    (None: no revocation check) is asked about every certificate of the validated path but the
    anchor, only once the path is valid: an untrusted or expired certificate is refused as such.
    """
    from harness.pki import ChainFailure, verify_chain

    anchors = trust.certificates if trust is not None else ()
    intermediates = [*candidates, *(trust.intermediates if trust is not None else ())]
    result = verify_chain(
        leaf, anchors, intermediates=intermediates, at=at, check_revocation=check_revocation
    )
    tolerated: list[SignatureProblem] = []
    if not result and result.reason in (ChainFailure.EXPIRED, ChainFailure.NOT_YET_VALID):
        if check_validity_period:
            raise SignatureError(
                SignatureProblem.EXPIRED,
                f"the SMP signing certificate is outside its validity: {result.detail}",
            )
        tolerated.append(SignatureProblem.EXPIRED)
        result = verify_chain(
            leaf,
            anchors,
            intermediates=intermediates,
            at=leaf.not_valid_before_utc,
            check_revocation=check_revocation,
        )
    if not result:
        if result.reason is ChainFailure.REVOKED:
            raise SignatureError(
                SignatureProblem.REVOKED, f"the SMP signing certificate: {result.detail}"
            )
        if result.reason is ChainFailure.REVOCATION_UNKNOWN:
            raise SignatureError(
                SignatureProblem.REVOCATION_UNKNOWN,
                f"the SMP signing certificate: {result.detail} (no current CRL of its issuer that"
                " verifies with the issuer's key)",
            )
        if not check_trust:
            tolerated.append(SignatureProblem.UNTRUSTED)
            return [], tuple(tolerated)
        subjects = ", ".join(a.subject.rfc4514_string() for a in anchors) or "none configured"
        raise SignatureError(
            SignatureProblem.UNTRUSTED,
            f"the SMP signing certificate is not trusted: {result.detail}. Trust anchors: {subjects}",
        )
    return list(result.chain), tuple(tolerated)
