"""Participant as SMP: what the harness publishes through the control API, the SMP serves back on
its Peppol SMP 1.x read interface -- at the right URLs (identifiers percent-encoded once,
participant ids matched case-insensitively, document types exactly), as schema-valid XML labelled
as XML, signed by a certificate of the configured SMP CA that is valid now and not revoked, 404
for what it does not know, redirects as published, over HTTPS where the participant file says so;
and unpublishParticipant removes a participant. Every test participant the harness published is
unpublished at the end of the session (fixture ``smp_publisher``).

Each assertion is one check (see harness.peppol.smp.judge); the HTTP exchanges are the evidence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from harness.peppol.smp import judge
from harness.report.model import Outcome

pytestmark = [pytest.mark.profile("peppol-smp"), pytest.mark.role("smp")]

#: Hypothesis phases of the campaign: no "explain" phase, which would replay hundreds of
#: variations of a failing example through the network only to annotate the report.
CAMPAIGN_PHASES = ("explicit", "reuse", "generate", "target", "shrink")
#: examples of the property-based campaign in a certification run (fixed: part of the suite digest)
CAMPAIGN_BUDGET = 12


def _record(checks: Any, judgements: Any, refs: list[str], scenario: str) -> None:
    for j in judgements:
        checks.record(j.requirement, j.outcome, j.message, evidence=refs if j.outcome is not Outcome.NOT_APPLICABLE else [],
                      scenario=scenario, location=j.location)  # fmt: skip


def _unpublished(
    checks: Any,
    smp_published: Any,
    names: tuple[str, ...],
    requirements: tuple[str, ...],
    scenario: str,
) -> bool:
    """Record an error (no judgement possible) when the test participants are not there."""
    reason = smp_published.failure(*names)
    if reason is not None:
        checks.errored(requirements, reason, scenario=scenario)
    return reason is not None


@pytest.mark.requirement("SMP-API-001")
def test_test_participants_are_published(
    smp_published: Any, smp_evidence: Any, checks: Any
) -> None:
    """publishParticipant answers as the control API says and publishes what it is given."""
    for name, result in smp_published.results.items():
        refs = smp_evidence.records(result.exchange)
        if result.unreachable:
            checks.errored(
                "SMP-API-001",
                result.error or "the participant did not answer",
                evidence=refs,
                scenario=name,
            )
        elif result.api_problem:
            checks.failed("SMP-API-001", result.api_problem, evidence=refs, scenario=name)
        else:
            checks.check(result.published, "SMP-API-001",
                         f"the SMP refused to publish a valid test participant: {result.error}",
                         evidence=refs, scenario=name)  # fmt: skip
    checks.verify()


@pytest.mark.requirement("SMP-API-002")
def test_unpublished_participant_is_no_longer_served(
    smp_published: Any, smp_publisher: Any, smp_reader: Any, smp_evidence: Any, checks: Any
) -> None:
    """unpublishParticipant removes a participant: afterwards its ServiceGroup and every
    SignedServiceMetadata answer 404. The participant is this test's own (published here, read by
    no other check), so its removal races with nothing under pytest-xdist."""
    publication = smp_published.participants.to_unpublish
    result = smp_publisher.publish(publication)
    refs = smp_evidence.records(result.exchange)
    if not result.published:
        checks.errored("SMP-API-002",
                       f"the harness could not publish the test participant it unpublishes"
                       f" ({publication.participant}): {result.error or result.api_problem}",
                       evidence=refs, scenario="unpublish")  # fmt: skip
        checks.verify()
        return
    inspection = judge.inspect_unpublish(smp_reader, publication, smp_publisher.unpublish)
    if inspection.answer is not None:
        refs += smp_evidence.records(inspection.answer.exchange)
    refs += smp_evidence.http(inspection.exchanges)
    _record(checks, inspection.judgements, refs, "unpublish")
    checks.verify()


@pytest.mark.requirement("SMP-URL-001", "SMP-URL-002", "SMP-HTTP-002", "SMP-XML-001", "SMP-XML-002",
                         "SMP-XML-003")  # fmt: skip
@pytest.mark.parametrize("name", ["main", "awkward"])
def test_service_group(
    name: str, smp_published: Any, smp_reader: Any, smp_evidence: Any, checks: Any
) -> None:
    """``GET /{participant}``: found, XML, schema-valid, about the participant, and its references
    lead to the metadata of every published document type (``awkward``: a value with every
    character PFUOI 4.4.0 POLICY 1 allows besides letters and digits, ``- . _ ~``, mixed case)."""
    publication = getattr(smp_published.participants, name)
    scenario = f"service-group-{name}"
    if not _unpublished(checks, smp_published, (name,), ("SMP-URL-001",), scenario):
        inspection = judge.inspect_service_group(
            smp_reader, publication.participant, [s.document_type for s in publication.services]
        )
        _record(checks, inspection.judgements, smp_evidence.http(inspection.exchanges), scenario)
    checks.verify()


@pytest.mark.requirement("SMP-URL-001", "SMP-HTTP-002", "SMP-XML-001", "SMP-XML-002",
                         "SMP-XML-003", "SMP-SIG-001", "SMP-SIG-002", "SMP-SIG-003",
                         "SMP-SIG-004")  # fmt: skip
@pytest.mark.parametrize("document", ["invoice", "credit-note", "awkward"])
def test_signed_service_metadata(
    document: str,
    smp_published: Any,
    smp_reader: Any,
    smp_trust: Any,
    smp_revocation: Any,
    smp_evidence: Any,
    checks: Any,
) -> None:
    """``GET /{participant}/services/{documentType}``: found, XML, schema-valid, signed by a valid,
    unrevoked certificate of the SMP CA, and the endpoints published (``credit-note`` carries
    activation and expiration dates; the ``awkward`` document type holds ``# / % ? & = + ; @``)."""
    from harness.peppol.smp.scenarios import AWKWARD_DOCUMENT, CREDIT_NOTE, INVOICE

    name = "awkward" if document == "awkward" else "main"
    publication = getattr(smp_published.participants, name)
    scenario = f"metadata-{document}"
    if not _unpublished(checks, smp_published, (name,), ("SMP-URL-001",), scenario):
        doc = {"invoice": INVOICE, "credit-note": CREDIT_NOTE, "awkward": AWKWARD_DOCUMENT}[
            document
        ]
        inspection = judge.inspect_metadata(
            smp_reader,
            publication.participant,
            publication.service(doc),
            smp_trust,
            datetime.now(UTC),
            revocation=smp_revocation,
        )
        _record(checks, inspection.judgements, smp_evidence.http(inspection.exchanges), scenario)
    checks.verify()


@pytest.mark.requirement("SMP-RED-001", "SMP-URL-001", "SMP-HTTP-002", "SMP-XML-001",
                         "SMP-XML-003", "SMP-SIG-001", "SMP-SIG-002", "SMP-SIG-003",
                         "SMP-SIG-004")  # fmt: skip
def test_redirect_is_served_as_published(
    smp_published: Any, smp_reader: Any, smp_trust: Any, smp_revocation: Any, smp_evidence: Any,
    checks: Any,
) -> None:  # fmt: skip
    """A published Redirect is a signed SignedServiceMetadata naming the other SMP's metadata URL
    and the certificate that SMP signs with."""
    redirect = smp_published.participants.redirect
    if not _unpublished(checks, smp_published, ("redirect",), ("SMP-RED-001",), "redirect"):
        inspection = judge.inspect_metadata(
            smp_reader, redirect.participant, redirect.services[0], smp_trust, datetime.now(UTC),
            found_requirement="SMP-RED-001",  # an HTTP 3xx instead of the metadata breaks this
            revocation=smp_revocation,
        )  # fmt: skip
        _record(checks, inspection.judgements, smp_evidence.http(inspection.exchanges), "redirect")
    checks.verify()


@pytest.mark.requirement("SMP-ID-001")
@pytest.mark.parametrize("case", ["swapped", "lower", "upper"])
def test_participant_identifiers_match_case_insensitively(
    case: str, smp_published: Any, smp_reader: Any, smp_evidence: Any, checks: Any
) -> None:
    """The same participant asked in another letter case is the same participant (PFUOI POLICY 2)."""
    from harness.peppol.smp.identifiers import ParticipantIdentifier
    from harness.peppol.smp.scenarios import INVOICE

    main = smp_published.participants.main
    scenario = f"participant-case-{case}"
    if _unpublished(checks, smp_published, ("main",), ("SMP-ID-001",), scenario):
        checks.verify()
        return
    value = main.participant.value
    value = {"swapped": value.swapcase(), "lower": value.lower(), "upper": value.upper()}[case]
    asked = ParticipantIdentifier(main.participant.scheme, value)
    group = judge.inspect_service_group(
        smp_reader, asked, [], found_requirement="SMP-ID-001", follow_references=False
    )
    refs = smp_evidence.http(group.exchanges)
    for j in group.judgements:
        if j.requirement in ("SMP-ID-001", "SMP-XML-002"):
            checks.record("SMP-ID-001", j.outcome, j.message, evidence=refs, scenario=scenario)
    metadata = smp_reader.metadata(asked, INVOICE)
    found = judge.judge_found(
        metadata, "SMP-ID-001", f"SignedServiceMetadata of {asked} / {INVOICE}"
    )
    checks.record(
        "SMP-ID-001",
        found.outcome,
        found.message,
        evidence=smp_evidence.http([metadata]),
        scenario=scenario,
    )
    checks.verify()


@pytest.mark.requirement("SMP-ID-002")
def test_document_type_identifiers_match_case_sensitively(
    smp_published: Any, smp_reader: Any, smp_evidence: Any, checks: Any
) -> None:
    """A document type in another letter case is another (unpublished) document type."""
    from harness.peppol.smp.identifiers import DocumentTypeIdentifier
    from harness.peppol.smp.scenarios import INVOICE

    main = smp_published.participants.main
    if not _unpublished(checks, smp_published, ("main",), ("SMP-ID-002",), "document-type-case"):
        other_case = DocumentTypeIdentifier(INVOICE.scheme, INVOICE.value.swapcase())
        ex = smp_reader.metadata(main.participant, other_case)
        j = judge.judge_not_found(
            ex, "SMP-ID-002", f"document type {INVOICE} asked as {other_case.value!r}"
        )
        checks.record(
            j.requirement,
            j.outcome,
            j.message,
            evidence=smp_evidence.http([ex]),
            scenario="document-type-case",
        )
    checks.verify()


@pytest.mark.requirement("SMP-HTTP-001")
@pytest.mark.parametrize(
    "case", ["unknown-participant", "unknown-participant-metadata", "unpublished-document-type"]
)
def test_unknown_resources_are_not_found(
    case: str, smp_published: Any, smp_reader: Any, smp_evidence: Any, checks: Any
) -> None:
    participants = smp_published.participants
    if _unpublished(checks, smp_published, ("main",), ("SMP-HTTP-001",), case):
        checks.verify()
        return
    from harness.peppol.smp.scenarios import INVOICE

    if case == "unknown-participant":
        ex, what = (
            smp_reader.service_group(participants.unknown),
            f"ServiceGroup of unknown {participants.unknown}",
        )
    elif case == "unknown-participant-metadata":
        ex, what = (
            smp_reader.metadata(participants.unknown, INVOICE),
            f"metadata of unknown {participants.unknown}",
        )
    else:
        doc = participants.unpublished_document
        ex, what = (
            smp_reader.metadata(participants.main.participant, doc),
            f"unpublished document type {doc}",
        )
    j = judge.judge_not_found(ex, "SMP-HTTP-001", what)
    checks.record(
        j.requirement, j.outcome, j.message, evidence=smp_evidence.http([ex]), scenario=case
    )
    checks.verify()


@pytest.mark.requirement("SMP-TLS-001")
def test_https_where_required(
    smp_claim: Any, smp_published: Any, smp_reader: Any, smp_evidence: Any, checks: Any
) -> None:
    """Where the participant file requires HTTPS: TLS 1.2 or later, references over HTTPS, and the
    resources are not served over plain HTTP."""
    from harness.peppol.smp.tls import judge_https

    if not smp_claim.require_https:
        checks.record("SMP-TLS-001", Outcome.NOT_APPLICABLE,
                      "the participant file does not require HTTPS ([profiles.peppol-smp] require_https)")  # fmt: skip
        checks.verify()
        return
    if _unpublished(checks, smp_published, ("main",), ("SMP-TLS-001",), "https"):
        checks.verify()
        return
    inspection = judge_https(smp_reader, smp_published.participants.main.participant)
    _record(checks, inspection.judgements, smp_evidence.http(inspection.exchanges), "https")
    checks.verify()


@pytest.mark.requirement("SMP-URL-001", "SMP-ID-001", "SMP-XML-002")
def test_awkward_identifiers_round_trip(
    smp_publisher: Any, smp_network: Any, smp_reader: Any, smp_claim: Any, smp_token: str,
    smp_evidence: Any, checks: Any, run_seed: int, conformance_run: Any,
) -> None:  # fmt: skip
    """Property: a participant of scheme 0088, 0192, 0195, 0208 or 9925 with any characters the
    identifier policy allows, and a document type with awkward characters, round-trip: published
    through the control API, registered in the harness's SML, found by DNS, and served by the SMP
    (in either letter case of the participant) as published. Recorded seed, fixed budget. The
    participants are unpublished at the end of the session (``smp_publisher``)."""
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st

    from harness.peppol.smp.roundtrip import round_trip
    from harness.peppol.smp.strategies import document_type_identifiers, participant_identifiers
    from harness.reproducible import deterministic_generation

    budget = conformance_run.campaign_budget or CAMPAIGN_BUDGET
    failures: list[Any] = []

    @seed(run_seed)
    @settings(max_examples=budget, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=False,
              phases=[Phase[p] for p in CAMPAIGN_PHASES])  # fmt: skip
    @given(
        participant=participant_identifiers(suffix=f"-{smp_token}-smp"),
        document_type=document_type_identifiers(),
        swap=st.booleans(),
    )
    def campaign(participant: Any, document_type: Any, swap: bool) -> None:
        outcome = round_trip(
            smp_publisher, smp_network, smp_reader, participant, document_type,
            ap_certificate=smp_network.ap_certificate_der(),
            transport_profile=smp_claim.transport_profiles[0], swap_case=swap,
        )  # fmt: skip
        if outcome.failure is not None:
            failures.append(outcome)
            raise AssertionError(outcome.failure.message)

    try:
        with deterministic_generation():
            campaign()
    except AssertionError:
        shrunk = failures[-1]  # the last failure is hypothesis' shrunk example
        refs = smp_evidence.http(shrunk.exchanges) + smp_evidence.records(shrunk.records)
        f = shrunk.failure
        checks.record(f.requirement, f.outcome,
                      f"{f.message} (minimal failing example: participant {shrunk.participant},"
                      f" document type {shrunk.document_type}; seed {run_seed})", evidence=refs)  # fmt: skip
    else:
        checks.passed(("SMP-URL-001", "SMP-ID-001", "SMP-XML-002"),
                      f"{budget} awkward identifiers round-tripped (seed {run_seed})")  # fmt: skip
    checks.verify()
