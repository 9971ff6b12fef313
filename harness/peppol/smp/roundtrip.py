"""One round trip of an identifier pair through an SMP under test (pytest-free): publish it through
the participant's control API, register it in the harness's SML, find the SMP by DNS, fetch the
metadata there (optionally asking in the other letter case) and compare it with what was published.

Used by the property-based campaign of the peppol-smp suite. The first thing that goes wrong is
the :attr:`RoundTrip.failure` (a judgement naming the requirement); the harness's own side going
wrong (its SML not answering) is an error, never the participant's failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.peppol.judge import Judgement
from harness.peppol.smp.control import Publication, information_differences
from harness.peppol.smp.identifiers import (
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    service_metadata_path,
)
from harness.peppol.smp.reader import HttpExchange, SmpReader
from harness.report.model import Outcome


@dataclass(frozen=True)
class EvidenceRecord:
    """A non-HTTP artefact of the round trip (a DNS answer), ready to be stored as evidence."""

    label: str
    data: bytes = field(repr=False)
    media_type: str


class Publisher(Protocol):
    def publish(self, publication: Publication) -> Any: ...


class Registry(Protocol):
    zone: str
    dns: str

    def register(
        self, participant: ParticipantIdentifier, smp_url: str, *, allow_http: bool = False
    ) -> Any: ...


@dataclass(frozen=True)
class RoundTrip:
    participant: ParticipantIdentifier
    document_type: DocumentTypeIdentifier
    exchanges: tuple[HttpExchange, ...] = ()
    records: tuple[Any, ...] = ()
    failure: Judgement | None = None


def round_trip(
    driver: Publisher,
    network: Registry,
    reader: SmpReader,
    participant: ParticipantIdentifier,
    document_type: DocumentTypeIdentifier,
    *,
    ap_certificate: bytes,
    transport_profile: str,
    swap_case: bool = False,
) -> RoundTrip:
    from harness.peppol.smp.errors import SmlLookupError, SmpDocumentError
    from harness.peppol.smp.scenarios import BILLING, endpoint
    from harness.peppol.smp.sml import resolve_smp_url
    from harness.peppol.smp.smp_xml import parse_document, read_service_metadata

    def done(requirement: str, outcome: Outcome, message: str, **kw: Any) -> RoundTrip:
        return RoundTrip(
            participant, document_type, failure=Judgement(requirement, outcome, message), **kw
        )

    ep = endpoint("https://ap.example.test/round-trip", ap_certificate, transport_profile)
    publication = Publication.one_service(participant, document_type, BILLING, [ep])
    result = driver.publish(publication)
    records: tuple[Any, ...] = tuple(result.exchange)
    if not result.published:
        outcome = Outcome.ERROR if result.unreachable else Outcome.FAIL
        return done("SMP-URL-001", outcome,
                    f"the SMP did not publish {participant} / {document_type}:"
                    f" {result.error or result.api_problem}", records=records)  # fmt: skip
    try:
        # the SMP under test at the URL the participant file gives: plain HTTP is SMP-TLS-001's
        # to judge, so the SML is told to publish it anyway (Peppol SML 1.3.0 2.1.1 wants https)
        network.register(participant, reader.base_url, allow_http=True)
        location = resolve_smp_url(participant, network.zone, network.dns)
    except (SmlLookupError, OSError) as exc:
        return done(
            "SMP-URL-001", Outcome.ERROR, f"the harness's SML failed: {exc}", records=records
        )
    records += (
        EvidenceRecord(
            f"NAPTR answer for {location.dns_name}", location.answer.wire, "application/dns-message"
        ),
    )
    if location.smp_url != reader.base_url:
        return done("SMP-URL-001", Outcome.ERROR,
                    f"the harness's SML named {location.smp_url}, not {reader.base_url}", records=records)  # fmt: skip
    value = participant.value.swapcase() if swap_case else participant.value
    asked = ParticipantIdentifier(participant.scheme, value)
    requirement = "SMP-ID-001" if value != participant.value else "SMP-URL-001"
    ex = reader.get(location.smp_url + service_metadata_path(asked, document_type))
    exchanges = (ex,)
    what = f"SignedServiceMetadata of {asked} / {document_type}"
    if ex.status is None:
        return done(
            requirement,
            Outcome.ERROR,
            f"{what}: no answer ({ex.error})",
            exchanges=exchanges,
            records=records,
        )
    if ex.status != 200:
        return done(requirement, Outcome.FAIL, f"{what}: {ex.summary}, expected 200 for a published resource",
                    exchanges=exchanges, records=records)  # fmt: skip
    try:
        served = read_service_metadata(parse_document(ex.body, name=what))
    except SmpDocumentError as exc:
        return done(
            "SMP-XML-002",
            Outcome.FAIL,
            f"{what} cannot be read: {exc}",
            exchanges=exchanges,
            records=records,
        )
    info = served.information
    published = publication.services[0].information
    assert published is not None
    diffs = ["it is a Redirect"] if info is None else information_differences(published, info)
    if diffs:
        return done("SMP-XML-002", Outcome.FAIL, f"{what} differs from what was published: {'; '.join(diffs)}",
                    exchanges=exchanges, records=records)  # fmt: skip
    return RoundTrip(participant, document_type, exchanges, records)
