"""Known-bad variants of the reference SMP (``smp``) and of the reference lookup participant
(``peppol-smp-participant``) of profile ``peppol-smp``.

Each variant has exactly ONE fixed fault and declares the set of requirements
(``suites/peppol_smp/requirements.yaml``) a certification run against it must find failed -- no
more, no less. Where one fault necessarily breaks a second requirement, the description says why
(an unsigned SignedServiceMetadata is also schema-invalid, because the SMP 1.0 types make
``ds:Signature`` mandatory; an AP that computes the wrong DNS name finds no receiver at all).

Data only (no Starlette, no signing): the participant-file loader and ``conformance serve --list``
import it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class SmpFault(enum.StrEnum):
    """How a reference SMP variant misbehaves."""

    NONE = "none"
    UNSIGNED = "unsigned"  #: SignedServiceMetadata without ds:Signature
    CORRUPT_SIGNATURE = "corrupt-signature"  #: a SignatureValue bit flipped after signing
    WRONG_CA_SIGNER = "wrong-ca-signer"  #: signed by an SMP certificate of an untrusted CA
    EXPIRED_SIGNER = "expired-signer"  #: signed by an expired SMP certificate of the SMP CA
    CASE_SENSITIVE_PARTICIPANTS = (
        "case-sensitive-participants"  #: participant values matched exactly
    )
    DOUBLE_ENCODED_REFERENCES = "double-encoded-references"  #: ServiceGroup hrefs encoded twice
    WRONG_CONTENT_TYPE = "wrong-content-type"  #: XML answered as application/octet-stream
    NO_XML_DECLARATION = "no-xml-declaration"  #: XML answered without <?xml ... encoding="UTF-8"?>
    EMPTY_GROUP_FOR_UNKNOWN = "empty-group-for-unknown"  #: 200 + empty ServiceGroup, not 404
    SCHEMA_ORDER = "schema-order"  #: ServiceDescription written before Certificate
    #: document type values matched ignoring letter case
    CASE_INSENSITIVE_DOCUMENT_TYPES = "case-insensitive-document-types"
    DROPS_SERVICE_DATES = "drops-service-dates"  #: activation/expiration dates not published
    HTTP_REDIRECT = "http-redirect"  #: a published Redirect answered with HTTP 301, not metadata
    DECODES_PATH_TWICE = "decodes-path-twice"  #: the request path percent-decoded twice
    PUBLISH_ANSWERS_TEXT = "publish-answers-text"  #: publishParticipant answers 200 text/plain
    PLAIN_HTTP_REFERENCES = "plain-http-references"  #: http:// hrefs from an HTTPS-only SMP
    REVOKED_SIGNER = "revoked-signer"  #: signed by a revoked SMP certificate of the SMP CA
    #: unpublishParticipant answers 204 but the participant stays published
    UNPUBLISH_KEEPS_SERVING = "unpublish-keeps-serving"


class LookupFault(enum.StrEnum):
    """How a reference lookup participant (sending AP) variant misbehaves."""

    NONE = "none"
    DNS_HASHES_SCHEME = "dns-hashes-scheme"  #: hashes scheme::value, not the value alone
    DNS_LEGACY_CNAME = "dns-legacy-cname"  #: retired B-<md5> CNAME lookup
    DOUBLE_ENCODES_IDS = "double-encodes-ids"  #: identifiers in the SMP URL encoded twice
    ACCEPTS_BAD_SIGNATURE = "accepts-bad-signature"  #: signature value and digest not checked
    ACCEPTS_WRONG_CA = "accepts-wrong-ca"  #: signer need not chain to the SMP CA
    ACCEPTS_EXPIRED = "accepts-expired"  #: signer validity period not checked
    IGNORES_TRANSPORT_PROFILE = "ignores-transport-profile"  #: first endpoint, whatever its profile
    IGNORES_REDIRECTS = "ignores-redirects"  #: a Redirect is not followed: the lookup refused
    IGNORES_REDIRECT_CERTIFICATE = "ignores-redirect-certificate"  #: CertificateUID not checked
    IGNORES_ACTIVATION_DATES = "ignores-activation-dates"  #: endpoints used whatever their dates
    ANY_DOCUMENT_TYPE = "any-document-type"  #: falls back to another document type's metadata
    REFUSAL_WITHOUT_REASON = "refusal-without-reason"  #: refusals answered without "reason"
    IGNORES_REVOCATION = "ignores-revocation"  #: the CRLs handed with the lookup not consulted


@dataclass(frozen=True)
class SmpVariant:
    """A behaviour of a reference endpoint of profile peppol-smp: ``good`` or one fault."""

    name: str
    #: ``smp`` or ``peppol-smp-participant``.
    endpoint: str
    description: str
    #: Requirements a run against this variant must fail, exactly.
    declared: frozenset[str]
    smp_fault: SmpFault = SmpFault.NONE
    lookup_fault: LookupFault = LookupFault.NONE
    #: The fault shows only on an SMP served over HTTPS (a participant with require_https).
    https_only: bool = False

    @property
    def is_good(self) -> bool:
        return self.smp_fault is SmpFault.NONE and self.lookup_fault is LookupFault.NONE


SMP_ENDPOINT = "smp"
LOOKUP_ENDPOINT = "peppol-smp-participant"

GOOD_SMP = SmpVariant(
    "good",
    SMP_ENDPOINT,
    "The reference SMP as it should be: identifiers encoded once and matched by the Peppol case "
    "rules, 404 for what it does not know, text/xml, schema-valid documents, metadata signed "
    "(enveloped, RSA-SHA256) by its SMP certificate.",
    frozenset(),
)
GOOD_LOOKUP = SmpVariant(
    "good",
    LOOKUP_ENDPOINT,
    "The reference sending AP as it should be: SML U-NAPTR lookup at the SHA-256 name, one "
    "percent-encoding, signature verified and chained to the SMP CA at lookup time, only "
    "endpoints of a supported transport profile, the signer checked against the CRLs handed.",
    frozenset(),
)

_SMP_CATALOGUE: tuple[SmpVariant, ...] = (
    SmpVariant(
        "unsigned-metadata",
        SMP_ENDPOINT,
        "Serves SignedServiceMetadata without a ds:Signature (also schema-invalid: the SMP 1.0 "
        "types require the signature element).",
        frozenset({"SMP-SIG-001", "SMP-XML-001"}),
        smp_fault=SmpFault.UNSIGNED,
    ),
    SmpVariant(
        "corrupt-signature",
        SMP_ENDPOINT,
        "Signs the metadata, then flips one bit of the SignatureValue: the content is right, the "
        "signature does not verify.",
        frozenset({"SMP-SIG-001"}),
        smp_fault=SmpFault.CORRUPT_SIGNATURE,
    ),
    SmpVariant(
        "wrong-signing-certificate",
        SMP_ENDPOINT,
        "Signs with an SMP certificate issued by a CA outside the SMP trust anchors (a valid "
        "signature by the wrong certificate).",
        frozenset({"SMP-SIG-002"}),
        smp_fault=SmpFault.WRONG_CA_SIGNER,
    ),
    SmpVariant(
        "expired-signing-certificate",
        SMP_ENDPOINT,
        "Signs with an SMP certificate of the SMP CA that expired a day ago.",
        frozenset({"SMP-SIG-003"}),
        smp_fault=SmpFault.EXPIRED_SIGNER,
    ),
    SmpVariant(
        "case-sensitive-participants",
        SMP_ENDPOINT,
        "Matches participant identifier values exactly: the same participant asked in another "
        "letter case gets 404.",
        frozenset({"SMP-ID-001"}),
        smp_fault=SmpFault.CASE_SENSITIVE_PARTICIPANTS,
    ),
    SmpVariant(
        "double-encoded-references",
        SMP_ENDPOINT,
        "Writes the ServiceMetadataReference hrefs of a ServiceGroup with the identifiers "
        "percent-encoded twice, so they do not lead to the metadata.",
        frozenset({"SMP-URL-002"}),
        smp_fault=SmpFault.DOUBLE_ENCODED_REFERENCES,
    ),
    SmpVariant(
        "wrong-content-type",
        SMP_ENDPOINT,
        "Serves the right XML documents labelled Content-Type application/octet-stream.",
        frozenset({"SMP-HTTP-002"}),
        smp_fault=SmpFault.WRONG_CONTENT_TYPE,
    ),
    SmpVariant(
        "no-xml-declaration",
        SMP_ENDPOINT,
        "Serves the right UTF-8 XML documents (signatures intact) without the XML declaration "
        "that SMP 1.4.0 section 5.2 requires (<?xml version=\"1.0\" encoding=\"UTF-8\"?>).",
        frozenset({"SMP-XML-003"}),
        smp_fault=SmpFault.NO_XML_DECLARATION,
    ),
    SmpVariant(
        "no-404-for-unknown-participant",
        SMP_ENDPOINT,
        "Answers 200 with an empty ServiceGroup for participants it does not know, instead of 404 "
        "(also SMP-API-002: an unpublished participant is one it no longer knows, so its "
        "ServiceGroup is answered 200 after unpublishParticipant too).",
        frozenset({"SMP-HTTP-001", "SMP-API-002"}),
        smp_fault=SmpFault.EMPTY_GROUP_FOR_UNKNOWN,
    ),
    SmpVariant(
        "schema-order",
        SMP_ENDPOINT,
        "Writes Endpoint/ServiceDescription before Endpoint/Certificate (then signs): the content "
        "reads right and the signature verifies, but the document is not schema-valid.",
        frozenset({"SMP-XML-001"}),
        smp_fault=SmpFault.SCHEMA_ORDER,
    ),
    SmpVariant(
        "case-insensitive-document-types",
        SMP_ENDPOINT,
        "Matches document type identifier values ignoring letter case, so a document type asked "
        "in another case (another document type: PFUOI POLICY 2) gets the published metadata "
        "instead of 404.",
        frozenset({"SMP-ID-002"}),
        smp_fault=SmpFault.CASE_INSENSITIVE_DOCUMENT_TYPES,
    ),
    SmpVariant(
        "drops-service-dates",
        SMP_ENDPOINT,
        "Publishes endpoints without the ServiceActivationDate and ServiceExpirationDate it was "
        "given (the metadata is otherwise right, signed and schema-valid).",
        frozenset({"SMP-XML-002"}),
        smp_fault=SmpFault.DROPS_SERVICE_DATES,
    ),
    SmpVariant(
        "http-redirect",
        SMP_ENDPOINT,
        "Answers the metadata of a document type published as a Redirect with HTTP 301 and a "
        "Location header, instead of a signed SignedServiceMetadata holding the Redirect.",
        frozenset({"SMP-RED-001"}),
        smp_fault=SmpFault.HTTP_REDIRECT,
    ),
    SmpVariant(
        "decodes-path-twice",
        SMP_ENDPOINT,
        "Percent-decodes the request path twice, so a published identifier whose value holds "
        "'%' (the awkward document type's '%25') is not found (404), and the ServiceGroup's "
        "reference to it leads nowhere (SMP-URL-002); other identifiers are served right.",
        frozenset({"SMP-URL-001", "SMP-URL-002"}),
        smp_fault=SmpFault.DECODES_PATH_TWICE,
    ),
    SmpVariant(
        "publish-answers-text",
        SMP_ENDPOINT,
        "Publishes what it is asked, but answers publishParticipant with 200 text/plain, which "
        "the control API does not define (201 JSON or 204).",
        frozenset({"SMP-API-001"}),
        smp_fault=SmpFault.PUBLISH_ANSWERS_TEXT,
    ),
    SmpVariant(
        "plain-http-references",
        SMP_ENDPOINT,
        "Served over HTTPS, but writes the ServiceMetadataReference hrefs of a ServiceGroup as "
        "http:// URLs (also SMP-URL-002: a plain-HTTP request to its TLS port gets no metadata). "
        "Certify it with require_https = true.",
        frozenset({"SMP-TLS-001", "SMP-URL-002"}),
        smp_fault=SmpFault.PLAIN_HTTP_REFERENCES,
        https_only=True,
    ),
    SmpVariant(
        "revoked-signing-certificate",
        SMP_ENDPOINT,
        "Signs with an SMP certificate of the SMP CA that the SMP CA has revoked (listed in its "
        "CRL); the signature verifies and the certificate is within its validity period.",
        frozenset({"SMP-SIG-004"}),
        smp_fault=SmpFault.REVOKED_SIGNER,
    ),
    SmpVariant(
        "unpublish-keeps-serving",
        SMP_ENDPOINT,
        "Answers unpublishParticipant with 204 as the control API says, but keeps the participant "
        "published: its ServiceGroup and metadata are still served (200) afterwards.",
        frozenset({"SMP-API-002"}),
        smp_fault=SmpFault.UNPUBLISH_KEEPS_SERVING,
    ),
)

_LOOKUP_CATALOGUE: tuple[SmpVariant, ...] = (
    SmpVariant(
        "dns-hashes-scheme-and-value",
        LOOKUP_ENDPOINT,
        "Hashes scheme::value instead of the identifier value alone for the SML DNS name, so it "
        "finds no receiver (and answers not-registered for registered ones).",
        frozenset({"LOOKUP-DNS-001", "LOOKUP-RES-001"}),
        lookup_fault=LookupFault.DNS_HASHES_SCHEME,
    ),
    SmpVariant(
        "dns-legacy-md5-cname",
        LOOKUP_ENDPOINT,
        "Looks the receiver up by the retired B-<md5> CNAME name instead of the U-NAPTR record "
        "at the SHA-256 name, so it finds no receiver in a NAPTR-only SML.",
        frozenset({"LOOKUP-DNS-001", "LOOKUP-RES-001"}),
        lookup_fault=LookupFault.DNS_LEGACY_CNAME,
    ),
    SmpVariant(
        "double-encodes-ids",
        LOOKUP_ENDPOINT,
        "Percent-encodes the identifiers of the SMP request twice, so a correct SMP answers 404 "
        "and it finds no endpoint.",
        frozenset({"LOOKUP-URL-001", "LOOKUP-RES-001"}),
        lookup_fault=LookupFault.DOUBLE_ENCODES_IDS,
    ),
    SmpVariant(
        "accepts-bad-signature",
        LOOKUP_ENDPOINT,
        "Does not check the signature value and digest, so metadata changed after signing or "
        "with a corrupted signature is accepted; the signing certificate it carries is still "
        "judged (and a document with no signature at all still fails schema validation).",
        frozenset({"LOOKUP-SIG-001"}),
        lookup_fault=LookupFault.ACCEPTS_BAD_SIGNATURE,
    ),
    SmpVariant(
        "accepts-wrong-ca",
        LOOKUP_ENDPOINT,
        "Accepts metadata signed by a certificate that does not chain to the SMP trust anchors.",
        frozenset({"LOOKUP-SIG-002"}),
        lookup_fault=LookupFault.ACCEPTS_WRONG_CA,
    ),
    SmpVariant(
        "accepts-expired-certificate",
        LOOKUP_ENDPOINT,
        "Accepts metadata signed by an SMP certificate outside its validity period.",
        frozenset({"LOOKUP-SIG-003"}),
        lookup_fault=LookupFault.ACCEPTS_EXPIRED,
    ),
    SmpVariant(
        "ignores-transport-profile",
        LOOKUP_ENDPOINT,
        "Takes the first published endpoint whatever its transport profile, also one it does not "
        "support.",
        frozenset({"LOOKUP-TP-001"}),
        lookup_fault=LookupFault.IGNORES_TRANSPORT_PROFILE,
    ),
    SmpVariant(
        "ignores-redirect-certificate",
        LOOKUP_ENDPOINT,
        "Follows a Redirect without checking that the destination metadata is signed by the "
        "certificate the Redirect names (CertificateUID); a second redirect is still refused.",
        frozenset({"LOOKUP-RED-002"}),
        lookup_fault=LookupFault.IGNORES_REDIRECT_CERTIFICATE,
    ),
    SmpVariant(
        "ignores-redirects",
        LOOKUP_ENDPOINT,
        "Refuses every lookup whose metadata is a Redirect instead of following it to the other "
        "SMP (SMP 1.4.0 section 4.3: a client MUST follow the first redirect).",
        frozenset({"LOOKUP-RED-001"}),
        lookup_fault=LookupFault.IGNORES_REDIRECTS,
    ),
    SmpVariant(
        "ignores-activation-dates",
        LOOKUP_ENDPOINT,
        "Uses endpoints whatever their ServiceActivationDate and ServiceExpirationDate: an "
        "expired endpoint, or one not active yet, is answered.",
        frozenset({"LOOKUP-ACT-001"}),
        lookup_fault=LookupFault.IGNORES_ACTIVATION_DATES,
    ),
    SmpVariant(
        "any-document-type",
        LOOKUP_ENDPOINT,
        "When the receiver's SMP has no metadata for the document type (404), uses the metadata "
        "of another document type its ServiceGroup lists, so it answers an endpoint instead of "
        "refusing.",
        frozenset({"LOOKUP-RES-002"}),
        lookup_fault=LookupFault.ANY_DOCUMENT_TYPE,
    ),
    SmpVariant(
        "refusal-without-reason",
        LOOKUP_ENDPOINT,
        'Refuses when it should, but answers {"outcome": "refused"} without the "reason" the '
        "control API requires.",
        frozenset({"LOOKUP-API-001"}),
        lookup_fault=LookupFault.REFUSAL_WITHOUT_REASON,
    ),
    SmpVariant(
        "ignores-revocation",
        LOOKUP_ENDPOINT,
        "Does not consult the CRLs handed with the lookup (smp_crls), so metadata signed by a "
        "revoked SMP certificate is accepted; signature, chain and validity are still checked.",
        frozenset({"LOOKUP-SIG-004"}),
        lookup_fault=LookupFault.IGNORES_REVOCATION,
    ),
)

#: Known-bad variants of the reference SMP, by name.
SMP_VARIANTS: Mapping[str, SmpVariant] = MappingProxyType({v.name: v for v in _SMP_CATALOGUE})
#: Known-bad variants of the reference lookup participant, by name.
LOOKUP_VARIANTS: Mapping[str, SmpVariant] = MappingProxyType({v.name: v for v in _LOOKUP_CATALOGUE})


def get_smp_variant(name: str | None) -> SmpVariant:
    """``good`` (or None) or a known-bad SMP variant; KeyError naming the known ones otherwise."""
    return _get(name, GOOD_SMP, SMP_VARIANTS, SMP_ENDPOINT)


def get_lookup_variant(name: str | None) -> SmpVariant:
    """``good`` (or None) or a known-bad lookup-participant variant."""
    return _get(name, GOOD_LOOKUP, LOOKUP_VARIANTS, LOOKUP_ENDPOINT)


def _get(
    name: str | None, good: SmpVariant, known: Mapping[str, SmpVariant], endpoint: str
) -> SmpVariant:
    if name in (None, "", good.name):
        return good
    try:
        return known[name]  # type: ignore[index]
    except KeyError:
        raise KeyError(
            f"unknown variant {name!r} of {endpoint}; known: good, {', '.join(sorted(known))}"
        ) from None
