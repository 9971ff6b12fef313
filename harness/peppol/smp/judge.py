"""Judge what an SMP serves and what an AP answers against the peppol-smp requirements
(``suites/peppol_smp/requirements.yaml``). Pytest-free: every function returns
:class:`~harness.peppol.judge.Judgement` values (requirement id, outcome, message) that a suite
records as checks, one per assertion.

SMP side (:func:`inspect_service_group`, :func:`inspect_metadata`): one GET (or a few, to follow
ServiceGroup references) through an :class:`~harness.peppol.smp.reader.SmpReader`, then

- SMP-URL-001 the resource of a published identifier is found (200); transport failure -> error;
- SMP-HTTP-002 it is labelled with an XML media type;
- SMP-XML-003 it is UTF-8 and opens with an XML declaration naming encoding UTF-8;
- SMP-XML-001 it is schema-valid (official SMP 1.0 elements only);
- SMP-XML-002 it is about the participant / document type asked and holds the published endpoints;
- SMP-URL-002 the ServiceGroup references lead to the metadata of each published document type;
- SMP-SIG-001/-002/-003 the signature verifies and follows the SMP 1.4.0 section 5.5.1 profile
  (inclusive C14N, one enveloped-signature transform, RSA-SHA256, SHA-256) / its certificate chains
  to the configured SMP CA /
  the certificate is within its validity period; judged independently, so a corrupted signature
  by a good certificate fails only SMP-SIG-001, and a missing signature leaves nothing to judge
  for the certificate (not applicable);
- SMP-SIG-004 the signing certificate is not revoked, judged by the CRLs the harness holds offline
  (:class:`RevocationSource`: its own test SMP CA); a certificate of another CA (a participant's
  own SMP CA, the Peppol SMP CA) is not applicable, with the reason, never a silent pass;
- SMP-RED-001 a published redirect is served as published (href, CertificateUID);
- SMP-API-002 (:func:`inspect_unpublish`) unpublishParticipant answers as the control API says and
  the participant's ServiceGroup and metadata answer 404 afterwards.

AP side: :func:`judge_dns_queries`, :func:`judge_smp_requests` (what the AP asked of the
harness's SML and SMP, from their logs) and :func:`judge_found_endpoint`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from harness.peppol.judge import Judgement
from harness.peppol.smp.control import Publication, PublishedService, information_differences
from harness.peppol.smp.identifiers import (
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    parse_document_type_segment,
    parse_participant_segment,
)
from harness.peppol.smp.reader import HttpExchange, SmpReader
from harness.report.model import Outcome

if TYPE_CHECKING:
    from cryptography import x509
    from lxml import etree

    from harness.peppol.smp.signing import TrustAnchors

#: Media types an SMP may label its XML with (SMP-HTTP-002).
XML_MEDIA_TYPES = frozenset({"text/xml", "application/xml"})

SMP_FOUND = "SMP-URL-001"
SMP_REFERENCES = "SMP-URL-002"
SMP_CASE_PARTICIPANT = "SMP-ID-001"
SMP_CASE_DOCUMENT = "SMP-ID-002"
SMP_NOT_FOUND = "SMP-HTTP-001"
SMP_MEDIA_TYPE = "SMP-HTTP-002"
SMP_SCHEMA = "SMP-XML-001"
SMP_ENCODING = "SMP-XML-003"
SMP_CONTENT = "SMP-XML-002"
SMP_SIGNATURE = "SMP-SIG-001"
SMP_SIGNER_CA = "SMP-SIG-002"
SMP_SIGNER_VALIDITY = "SMP-SIG-003"
SMP_SIGNER_REVOCATION = "SMP-SIG-004"
SMP_REDIRECT = "SMP-RED-001"
SMP_TLS = "SMP-TLS-001"
SMP_UNPUBLISH = "SMP-API-002"


def _pass(req: str, message: str = "") -> Judgement:
    return Judgement(req, Outcome.PASS, message)


def _fail(req: str, message: str) -> Judgement:
    return Judgement(req, Outcome.FAIL, message)


@dataclass(frozen=True)
class Inspection:
    """What was asked of the SMP (evidence) and the judgements drawn from it."""

    exchanges: tuple[HttpExchange, ...]
    judgements: tuple[Judgement, ...]

    @property
    def failed(self) -> tuple[Judgement, ...]:
        return tuple(j for j in self.judgements if j.outcome is Outcome.FAIL)


# -- building blocks -------------------------------------------------------------------------------


def judge_found(ex: HttpExchange, requirement: str, what: str) -> Judgement:
    """A published resource must be answered 200; no answer at all is an error (no judgement)."""
    if ex.status is None:
        return Judgement(requirement, Outcome.ERROR, f"{what}: the SMP did not answer: {ex.error}")
    if ex.status == 200:
        return _pass(requirement)
    return _fail(requirement, f"{what}: {ex.summary}, expected 200 for a published resource")


def judge_not_found(ex: HttpExchange, requirement: str, what: str) -> Judgement:
    """An unknown resource must be answered 404."""
    if ex.status is None:
        return Judgement(requirement, Outcome.ERROR, f"{what}: the SMP did not answer: {ex.error}")
    if ex.status == 404:
        return _pass(requirement)
    return _fail(requirement, f"{what}: {ex.summary}, expected 404 Not Found")


def judge_media_type(ex: HttpExchange, what: str) -> Judgement:
    if ex.media_type in XML_MEDIA_TYPES:
        return _pass(SMP_MEDIA_TYPE)
    return _fail(
        SMP_MEDIA_TYPE,
        f"{what} is labelled Content-Type {ex.content_type or '(none)'}; expected text/xml"
        " (or application/xml)",
    )


_XML_DECLARATION = re.compile(
    rb"""<\?xml\s+version\s*=\s*(["'])1\.0\1(?:\s+encoding\s*=\s*(["'])([A-Za-z0-9._-]+)\2)?"""
    rb"""(?:\s+standalone\s*=\s*(["'])(?:yes|no)\4)?\s*\?>"""
)


def judge_xml_declaration(body: bytes, what: str) -> Judgement:
    """SMP-XML-003 (SMP 1.4.0 section 5.2): UTF-8, and an XML 1.0 declaration whose encoding
    attribute says UTF-8 (in any letter case); a UTF-8 byte order mark before it is allowed."""
    text = body.removeprefix(b"\xef\xbb\xbf")
    match = _XML_DECLARATION.match(text)
    if match is None:
        head = text[:60].decode("utf-8", "replace")
        return _fail(
            SMP_ENCODING,
            f"{what} does not start with an XML declaration (<?xml version=\"1.0\""
            f' encoding="UTF-8"?>); it starts {head!r}',
        )
    encoding = (match.group(3) or b"").decode("ascii")
    if encoding.upper() != "UTF-8":
        said = f"encoding={encoding!r}" if encoding else "no encoding attribute"
        return _fail(SMP_ENCODING, f"{what}: the XML declaration has {said}; it must say UTF-8")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _fail(SMP_ENCODING, f"{what} declares UTF-8 but is not UTF-8 (byte {exc.start})")
    return _pass(SMP_ENCODING)


def parse_and_validate(body: bytes, what: str) -> tuple[etree._Element | None, Judgement]:
    """The document element (None if not safe, well-formed XML) and the SMP-XML-001 judgement."""
    from harness.peppol.smp.errors import SmpDocumentError
    from harness.peppol.smp.smp_xml import parse_document, validate

    try:
        root = parse_document(body, name=what)
    except SmpDocumentError as exc:
        return None, _fail(SMP_SCHEMA, f"{what} is not well-formed, safe XML: {exc}")
    errors = validate(root)
    if errors:
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        return root, _fail(
            SMP_SCHEMA,
            f"{what} is not valid against the Peppol SMP 1.0 schemas: {'; '.join(errors[:3])}{more}",
        )
    return root, _pass(SMP_SCHEMA)


@dataclass(frozen=True)
class RevocationSource:
    """What SMP-SIG-004 is judged by: CA certificates whose current CRLs the harness holds offline
    (the harness's test SMP CA and the root above it) and those CRLs.

    A signing certificate issued by one of ``authorities`` is looked up in its issuer's CRL, and
    so is each CA above it up to the root; one issued by any other CA cannot be judged offline.
    """

    authorities: tuple[x509.Certificate, ...]
    crls: tuple[x509.CertificateRevocationList, ...] = field(repr=False)


def judge_revocation(
    leaf: x509.Certificate, source: RevocationSource | None, at: datetime, what: str
) -> Judgement:
    """SMP-SIG-004: the signing certificate (and each CA certificate above it) is not revoked.

    Not applicable, with the reason, when the harness has no revocation source or the certificate
    was not issued by a CA of it; an error (no judgement) when the harness's own CRL of that CA is
    missing or out of date; fail when a CRL lists a certificate of the path.
    """
    from harness.pki import RevocationStatus, crl_checker

    subject = leaf.subject.rfc4514_string()
    if source is None:
        return Judgement(SMP_SIGNER_REVOCATION, Outcome.NOT_APPLICABLE,
                         f"{what}: the harness was given no CRLs to judge the revocation of {subject} by")  # fmt: skip

    def issuer_of(cert: x509.Certificate) -> x509.Certificate | None:
        for ca in source.authorities:
            if ca.subject == cert.issuer and _issued_by(cert, ca):
                return ca
        return None

    issuer = issuer_of(leaf)
    if issuer is None:
        known = "; ".join(a.subject.rfc4514_string() for a in source.authorities)
        return Judgement(
            SMP_SIGNER_REVOCATION,
            Outcome.NOT_APPLICABLE,
            f"{what} is signed by {subject}, issued by {leaf.issuer.rfc4514_string()}, which is not"
            f" a CA of the harness's test PKI ({known}): its revocation status (that CA's CRL or"
            " OCSP responder) cannot be obtained offline, so the harness does not judge it; check"
            " it against that CA's revocation services",
        )
    check = crl_checker(source.crls, at=at)
    cert: x509.Certificate | None = leaf
    checked: list[str] = []
    while cert is not None and issuer is not None and cert != issuer:
        status = check(cert, issuer)
        name = cert.subject.rfc4514_string()
        if status is RevocationStatus.REVOKED:
            return _fail(
                SMP_SIGNER_REVOCATION,
                f"{what} is signed by {subject}; {name} (serial {cert.serial_number:x}) is"
                f" revoked: the CRL of {issuer.subject.rfc4514_string()} lists it",
            )
        if status is RevocationStatus.UNKNOWN:
            return Judgement(
                SMP_SIGNER_REVOCATION,
                Outcome.ERROR,
                f"the harness holds no current CRL of {issuer.subject.rfc4514_string()} that"
                f" verifies, so the revocation of {name} cannot be judged (re-create the test PKI"
                " or refresh its CRLs: `conformance pki init`)",
            )
        checked.append(issuer.subject.rfc4514_string())
        cert, issuer = issuer, issuer_of(issuer)
    return _pass(
        SMP_SIGNER_REVOCATION,
        f"signed by {subject}, not revoked according to the CRLs of {', '.join(checked)}",
    )


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def judge_signature(
    root: etree._Element,
    trust: TrustAnchors,
    at: datetime,
    what: str,
    revocation: RevocationSource | None = None,
) -> list[Judgement]:
    """SMP-SIG-001 (present, profile, verifies), -002 (chains to ``trust``), -003 (valid at
    ``at``), -004 (not revoked, by ``revocation``), each judged on its own."""
    from harness.peppol.smp.errors import SignatureError
    from harness.peppol.smp.signing import (
        SignatureProblem,
        check_certificate,
        profile_deviations,
        signer_certificate,
        verify_enveloped,
    )

    out: list[Judgement] = []
    try:
        verify_enveloped(root, None, at=at, check_validity_period=False, check_trust=False)
    except SignatureError as exc:
        out.append(_fail(SMP_SIGNATURE, f"{what}: {exc}"))
    else:
        deviations = profile_deviations(root)
        if deviations:
            out.append(
                _fail(
                    SMP_SIGNATURE,
                    f"{what}: the signature verifies but departs from the Peppol SMP 1.4.0"
                    f" section 5.5.1 profile: {'; '.join(deviations)}",
                )
            )
        else:
            out.append(_pass(SMP_SIGNATURE))
    try:
        found = signer_certificate(root)
    except SignatureError:
        found = None
    if found is None:
        reason = f"{what} carries no signing certificate to judge"
        out.append(Judgement(SMP_SIGNER_CA, Outcome.NOT_APPLICABLE, reason))
        out.append(Judgement(SMP_SIGNER_VALIDITY, Outcome.NOT_APPLICABLE, reason))
        out.append(Judgement(SMP_SIGNER_REVOCATION, Outcome.NOT_APPLICABLE, reason))
        return out
    leaf, others = found
    from cryptography.hazmat.primitives import hashes

    subject = leaf.subject.rfc4514_string()
    fingerprint = leaf.fingerprint(hashes.SHA256()).hex()
    validity: list[str] = []
    if at < leaf.not_valid_before_utc:
        validity.append(f"not valid before {leaf.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}")
    if at > leaf.not_valid_after_utc:
        validity.append(f"expired at {leaf.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}")
    try:
        # no revocation check here: SMP-SIG-004 is judged on its own, below
        _, tolerated = check_certificate(leaf, others, trust, at=at, check_validity_period=False)
    except SignatureError as exc:
        out.append(
            _fail(
                SMP_SIGNER_CA,
                f"{what} is signed by {subject}, which does not chain to the configured SMP CA: {exc}",
            )
        )
    else:
        out.append(_pass(SMP_SIGNER_CA, f"signed by {subject} (certificate sha256 {fingerprint})"))
        if SignatureProblem.EXPIRED in tolerated and not validity:
            validity.append("a CA certificate of its path is outside its validity")
    if validity:
        out.append(
            _fail(
                SMP_SIGNER_VALIDITY,
                f"{what} is signed by {subject}, {', '.join(validity)} (checked at"
                f" {at:%Y-%m-%dT%H:%M:%SZ})",
            )
        )
    else:
        out.append(_pass(SMP_SIGNER_VALIDITY))
    out.append(judge_revocation(leaf, revocation, at, what))
    return out


def _xml_answer(
    ex: HttpExchange, what: str, found_requirement: str
) -> tuple[list[Judgement], etree._Element | None]:
    found = judge_found(ex, found_requirement, what)
    if found.outcome is not Outcome.PASS:
        return [found], None
    root, schema = parse_and_validate(ex.body, what)
    return [found, judge_media_type(ex, what), judge_xml_declaration(ex.body, what), schema], root


# -- SMP resources -------------------------------------------------------------------------------


def inspect_metadata(
    reader: SmpReader,
    participant: ParticipantIdentifier,
    service: PublishedService,
    trust: TrustAnchors,
    at: datetime,
    *,
    found_requirement: str = SMP_FOUND,
    revocation: RevocationSource | None = None,
) -> Inspection:
    """GET ``/{participant}/services/{documentType}`` of a published service and judge it."""
    ex = reader.metadata(participant, service.document_type)
    what = f"SignedServiceMetadata of {participant} / {service.document_type}"
    judgements, root = _xml_answer(ex, what, found_requirement)
    if root is not None:
        judgements += judge_signature(root, trust, at, what, revocation)
        judgements.append(judge_content(root, participant, service, what))
    return Inspection((ex,), tuple(judgements))


def judge_content(
    root: etree._Element, participant: ParticipantIdentifier, service: PublishedService, what: str
) -> Judgement:
    """SMP-XML-002 (ServiceInformation) or SMP-RED-001 (Redirect): served as published."""
    from harness.peppol.smp.errors import SmpDocumentError
    from harness.peppol.smp.smp_xml import read_service_metadata

    requirement = SMP_REDIRECT if service.redirect is not None else SMP_CONTENT
    try:
        served = read_service_metadata(root)
    except SmpDocumentError as exc:
        return _fail(requirement, f"{what} cannot be read: {exc}")
    if service.redirect is not None:
        red = served.redirect
        if red is None:
            return _fail(
                SMP_REDIRECT, f"{what} has ServiceInformation, but a Redirect was published"
            )
        diffs = []
        if red.href != service.redirect.href:
            diffs.append(f"href {red.href!r}, published {service.redirect.href!r}")
        if red.certificate_uid != service.redirect.certificate_uid:
            diffs.append(
                f"CertificateUID {red.certificate_uid!r}, published {service.redirect.certificate_uid!r}"
            )
        if diffs:
            return _fail(SMP_REDIRECT, f"{what}: Redirect " + "; ".join(diffs))
        return _pass(SMP_REDIRECT)
    info = served.information
    if info is None:
        return _fail(SMP_CONTENT, f"{what} is a Redirect, but endpoints were published")
    published = service.information
    assert published is not None
    asked = replace(published, participant=participant)
    diffs = information_differences(asked, info)
    if diffs:
        return _fail(SMP_CONTENT, f"{what} differs from what was published: " + "; ".join(diffs))
    return _pass(SMP_CONTENT)


def inspect_service_group(
    reader: SmpReader,
    participant: ParticipantIdentifier,
    published: Sequence[DocumentTypeIdentifier],
    *,
    found_requirement: str = SMP_FOUND,
    follow_references: bool = True,
) -> Inspection:
    """GET ``/{participant}``, judge it, and follow its references (SMP-URL-002)."""
    from harness.peppol.smp.errors import SmpDocumentError
    from harness.peppol.smp.smp_xml import read_service_group

    ex = reader.service_group(participant)
    what = f"ServiceGroup of {participant}"
    judgements, root = _xml_answer(ex, what, found_requirement)
    exchanges = [ex]
    if root is None:
        return Inspection(tuple(exchanges), tuple(judgements))
    try:
        group = read_service_group(root)
    except SmpDocumentError as exc:
        judgements.append(_fail(SMP_CONTENT, f"{what} cannot be read: {exc}"))
        return Inspection(tuple(exchanges), tuple(judgements))
    if group.participant == participant:
        judgements.append(_pass(SMP_CONTENT))
    else:
        judgements.append(
            _fail(SMP_CONTENT, f"{what} names participant {group.participant}, not {participant}")
        )
    if follow_references:
        problems = _reference_problems(reader, participant, published, group.references, exchanges)
        if problems:
            judgements.append(_fail(SMP_REFERENCES, f"{what}: " + "; ".join(problems)))
        else:
            judgements.append(_pass(SMP_REFERENCES))
    return Inspection(tuple(exchanges), tuple(judgements))


def _reference_problems(
    reader: SmpReader,
    participant: ParticipantIdentifier,
    published: Sequence[DocumentTypeIdentifier],
    hrefs: Sequence[str],
    exchanges: list[HttpExchange],
) -> list[str]:
    from harness.peppol.smp.errors import IdentifierError

    problems: list[str] = []
    referenced: list[DocumentTypeIdentifier] = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"reference {href!r} is not an absolute http(s) URL")
            continue
        segments = parts.path.split("/")
        if len(segments) < 4 or segments[-2] != "services":
            problems.append(
                f"reference {href!r} is not .../{{participant}}/services/{{documentType}}"
            )
            continue
        try:
            ref_participant = parse_participant_segment(segments[-3])
            ref_document = parse_document_type_segment(segments[-1])
        except IdentifierError as exc:
            problems.append(f"reference {href!r}: {exc}")
            continue
        if ref_participant != participant:
            problems.append(f"reference {href!r} is about {ref_participant}, not {participant}")
        referenced.append(ref_document)
        ex = reader.get(href)
        exchanges.append(ex)
        if ex.status != 200:
            problems.append(f"reference {href!r} does not lead to the metadata ({ex.summary})")
    for document_type in published:
        if document_type not in referenced:
            problems.append(f"no reference to the metadata of published {document_type}")
    extra = [d for d in referenced if d not in published]
    if extra:
        problems.append(f"references to unpublished document types {[str(d) for d in extra]}")
    if len(referenced) != len(set(referenced)):
        problems.append("a document type is referenced more than once")
    return problems


# -- unpublishing ----------------------------------------------------------------------------------


class UnpublishAnswer(Protocol):
    """What the SMP answered to unpublishParticipant (``harness.drivers.smp.UnpublishResult``)."""

    @property
    def unpublished(self) -> bool: ...
    @property
    def unreachable(self) -> bool: ...
    @property
    def error(self) -> str | None: ...
    @property
    def api_problem(self) -> str | None: ...
    @property
    def exchange(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class UnpublishInspection:
    """The reads before and after (evidence), the unpublishParticipant answer (None when it was not
    asked: the participant was not served to begin with) and the SMP-API-002 judgements."""

    exchanges: tuple[HttpExchange, ...]
    answer: UnpublishAnswer | None
    judgements: tuple[Judgement, ...]


def inspect_unpublish(
    reader: SmpReader,
    publication: Publication,
    unpublish: Callable[[ParticipantIdentifier], UnpublishAnswer],
) -> UnpublishInspection:
    """SMP-API-002 for a published ``publication``: its ServiceGroup and every SignedServiceMetadata
    are served (200; otherwise removing it proves nothing: an error, see SMP-URL-001), then
    ``unpublish`` (unpublishParticipant) answers as the contract says, then each of them is 404."""
    participant = publication.participant

    def reads() -> list[tuple[str, HttpExchange]]:
        out = [(f"ServiceGroup of {participant}", reader.service_group(participant))]
        out += [
            (
                f"SignedServiceMetadata of {participant} / {s.document_type}",
                reader.metadata(participant, s.document_type),
            )
            for s in publication.services
        ]
        return out

    def no_judgement(answer: UnpublishAnswer | None, message: str) -> UnpublishInspection:
        error = Judgement(SMP_UNPUBLISH, Outcome.ERROR, message)
        return UnpublishInspection(tuple(exchanges), answer, (error,))

    before = reads()
    exchanges = [ex for _, ex in before]
    not_served = [f"{what}: {ex.summary}" for what, ex in before if ex.status != 200]
    if not_served:
        return no_judgement(
            None,
            f"before unpublishing, the SMP did not serve the participant it had just published"
            f" ({'; '.join(not_served)}): removing it cannot be judged (see SMP-URL-001)",
        )
    answer = unpublish(participant)
    if answer.unreachable:
        return no_judgement(
            answer, f"unpublishParticipant {participant}: {answer.error or 'no answer'}"
        )
    problems = [p for p in (answer.api_problem, None if answer.unpublished else answer.error) if p]
    judgements = [
        _fail(SMP_UNPUBLISH, f"unpublishParticipant {participant}: {'; '.join(problems)}")
        if problems
        else _pass(
            SMP_UNPUBLISH, f"unpublishParticipant {participant} answered as the contract says"
        )
    ]
    after = reads()
    exchanges += [ex for _, ex in after]
    judgements += [
        judge_not_found(ex, SMP_UNPUBLISH, f"{what}, after unpublishParticipant")
        for what, ex in after
    ]
    return UnpublishInspection(tuple(exchanges), answer, tuple(judgements))


# -- the AP's traffic -------------------------------------------------------------------------------


def judge_dns_queries(
    queries: Iterable[Mapping[str, Any]], expected_name: str, requirement: str = "LOOKUP-DNS-001"
) -> Judgement:
    """The AP asked the SML for the NAPTR of ``expected_name`` (and not for other names of the
    participant, such as the retired CNAME form)."""
    asked = [
        (str(q.get("qname", "")).rstrip(".").lower(), str(q.get("qtype", ""))) for q in queries
    ]
    wanted = expected_name.rstrip(".").lower()
    if (wanted, "NAPTR") in asked:
        return _pass(requirement)
    shown = ", ".join(f"{t} {n}" for n, t in asked) or "nothing"
    return _fail(
        requirement,
        f"the AP did not ask the SML for NAPTR {wanted}; it asked {shown}",
    )


def judge_smp_requests(
    requests: Iterable[Mapping[str, Any]], expected_path: str, requirement: str = "LOOKUP-URL-001"
) -> Judgement:
    """The AP asked the SMP for ``expected_path`` (identifiers percent-encoded once). Not
    applicable when it never reached the SMP (a DNS fault is judged by LOOKUP-DNS-001)."""
    paths = [str(r.get("raw_path", "")) for r in requests if r.get("method") in ("GET", "HEAD")]
    if not paths:
        return Judgement(requirement, Outcome.NOT_APPLICABLE, "the AP sent no request to the SMP")
    if any(p.lower() == expected_path.lower() for p in paths):
        return _pass(requirement)
    return _fail(
        requirement,
        f"the AP asked the SMP for {', '.join(paths)}; expected {expected_path} (scheme::value"
        " percent-encoded once)",
    )


@dataclass(frozen=True)
class ExpectedEndpoint:
    endpoint_url: str
    certificate: bytes
    transport_profile: str


def judge_found_endpoint(
    outcome: str | None,
    endpoint_url: str | None,
    certificate_der: bytes | None,
    transport_profile: str | None,
    expected: ExpectedEndpoint,
    requirement: str,
    what: str,
    detail: str = "",
) -> Judgement:
    """The AP answered exactly the expected endpoint (address, certificate, transport profile)."""
    if outcome != "endpoint":
        because = f": {detail}" if detail else ""
        return _fail(requirement, f"{what}: the AP answered {outcome or 'nothing usable'}{because}")
    diffs = []
    if endpoint_url != expected.endpoint_url:
        diffs.append(f"endpoint_url {endpoint_url!r}, expected {expected.endpoint_url!r}")
    if transport_profile != expected.transport_profile:
        diffs.append(
            f"transport_profile {transport_profile!r}, expected {expected.transport_profile!r}"
        )
    if certificate_der != expected.certificate:
        diffs.append("certificate is not the one in the metadata")
    if diffs:
        return _fail(requirement, f"{what}: " + "; ".join(diffs))
    return _pass(requirement)
