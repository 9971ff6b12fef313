"""The peppol-smp judges against the reference SMP in process (an httpx mock transport over
ReferenceSmp.read): a good SMP passes every judgement, each known-bad SMP fails exactly its
requirement, and the control API bodies match the OpenAPI contract."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.drivers import control_api
from harness.peppol.smp import judge
from harness.peppol.smp.client import LookupRequest
from harness.peppol.smp.control import (
    certificate_der,
    certificate_pem,
    lookup_request_json,
)
from harness.peppol.smp.identifiers import ParticipantIdentifier, service_metadata_path
from harness.peppol.smp.reader import SmpReader
from harness.peppol.smp.scenarios import (
    AWKWARD_DOCUMENT,
    CREDIT_NOTE,
    INVOICE,
    SmpTestParticipants,
    lookup_cases,
    smp_test_participants,
)
from harness.peppol.smp.signing import TrustAnchors
from harness.peppol.smp.smp_xml import TRANSPORT_AS4_V2
from harness.pki import TestPki, init_pki, load_pki
from harness.reference.smp import ReferenceCredentials, ReferenceSmp, prepare_pki
from harness.reference.smp_variants import GOOD_SMP, SMP_VARIANTS, get_smp_variant
from harness.report.model import Outcome

BASE = "http://smp.test"
UID = "CN=PSG000001"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    directory = tmp_path_factory.mktemp("pki")
    pki = init_pki(directory)
    prepare_pki(directory)
    return pki


def ap_der(pki: TestPki) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return pki["ap"].certificate.public_bytes(Encoding.DER)


def participants(pki: TestPki) -> SmpTestParticipants:
    return smp_test_participants(
        "t0k3n", ap_der(pki), TRANSPORT_AS4_V2, redirect_smp_url="http://other.test",
        redirect_certificate_uid=UID,
    )  # fmt: skip


def reader_for(smp: ReferenceSmp) -> SmpReader:
    def handle(request: httpx.Request) -> httpx.Response:
        raw = request.url.raw_path.decode("ascii").split("?")[0]
        status, media_type, body = smp.read(raw, f"{request.url.scheme}://{request.url.host}")
        headers = {"content-type": media_type}
        if status == 301:
            headers["location"] = body.decode()
        return httpx.Response(status, headers=headers, content=body)

    return SmpReader(BASE, transport=httpx.MockTransport(handle))


@pytest.fixture
def published(pki: TestPki) -> Iterator[tuple[SmpTestParticipants, dict[str, SmpReader]]]:
    """The test participants published on a good SMP and on each known-bad one."""
    creds = ReferenceCredentials(pki.directory)
    test = participants(pki)
    readers: dict[str, SmpReader] = {}
    names = ("good", "unsigned-metadata", "corrupt-signature", "wrong-signing-certificate",
             "expired-signing-certificate", "double-encoded-references", "wrong-content-type",
             "schema-order", "drops-service-dates", "http-redirect", "decodes-path-twice",
             "revoked-signing-certificate", "no-xml-declaration")  # fmt: skip
    for name in names:
        smp = ReferenceSmp(get_smp_variant(name), creds)
        for pub in test.publications:
            smp.publish(pub.to_json())
        readers[name] = reader_for(smp)
    yield test, readers
    for r in readers.values():
        r.close()


def failed(inspection: judge.Inspection) -> set[str]:
    return {j.requirement for j in inspection.judgements if j.outcome is Outcome.FAIL}


def inspect_all(
    test: SmpTestParticipants,
    reader: SmpReader,
    trust: TrustAnchors,
    revocation: judge.RevocationSource,
) -> set[str]:
    now = datetime.now(UTC)
    out: set[str] = set()
    for pub in (test.main, test.awkward):
        out |= failed(
            judge.inspect_service_group(
                reader, pub.participant, [s.document_type for s in pub.services]
            )
        )
        for service in pub.services:
            out |= failed(judge.inspect_metadata(reader, pub.participant, service, trust, now,
                                                 revocation=revocation))  # fmt: skip
    red = test.redirect
    out |= failed(judge.inspect_metadata(reader, red.participant, red.services[0], trust, now,
                                         found_requirement="SMP-RED-001", revocation=revocation))  # fmt: skip
    return out


def trust_of(pki: TestPki) -> TrustAnchors:
    return TrustAnchors((pki.authority("smp-ca").certificate,))


def revocation_of(pki: TestPki) -> judge.RevocationSource:
    """What the suite judges SMP-SIG-004 by: the test SMP CA and root with their CRLs now."""
    now = load_pki(pki.directory)
    names = ("smp-ca", "root")
    return judge.RevocationSource(
        tuple(now.authority(n).certificate for n in names), tuple(now.crl(n) for n in names)
    )


@pytest.mark.parametrize(
    "name",
    ["good", "unsigned-metadata", "corrupt-signature", "wrong-signing-certificate",
     "expired-signing-certificate", "double-encoded-references", "wrong-content-type",
     "schema-order", "drops-service-dates", "http-redirect", "decodes-path-twice",
     "revoked-signing-certificate", "no-xml-declaration"],
)  # fmt: skip
def test_each_smp_fault_fails_exactly_its_requirement(
    name: str,
    published: tuple[SmpTestParticipants, dict[str, SmpReader]],
    pki: TestPki,
) -> None:
    """What the judge finds is what the variant catalogue declares (the same declarations the
    self-certification runs and the coverage report use)."""
    test, readers = published
    expected = set(get_smp_variant(name).declared)
    assert inspect_all(test, readers[name], trust_of(pki), revocation_of(pki)) == expected


def test_unsigned_metadata_leaves_the_certificate_not_applicable(
    published: tuple[SmpTestParticipants, dict[str, SmpReader]], pki: TestPki
) -> None:
    test, readers = published
    inspection = judge.inspect_metadata(
        readers["unsigned-metadata"], test.main.participant, test.main.service(INVOICE),
        trust_of(pki), datetime.now(UTC),
    )  # fmt: skip
    outcomes = {j.requirement: j.outcome for j in inspection.judgements}
    assert outcomes["SMP-SIG-002"] is outcomes["SMP-SIG-003"] is Outcome.NOT_APPLICABLE
    assert outcomes["SMP-SIG-004"] is Outcome.NOT_APPLICABLE
    assert inspection.exchanges[0].request_message.startswith(
        b"GET /iso6523-actorid-upis%3A%3A9915%3A"
    )


def test_awkward_identifiers_are_asked_encoded_once(
    published: tuple[SmpTestParticipants, dict[str, SmpReader]],
) -> None:
    test, readers = published
    ex = readers["good"].metadata(test.awkward.participant, AWKWARD_DOCUMENT)
    assert ex.status == 200
    assert ex.request_message.split(b" ")[1].decode() == service_metadata_path(
        test.awkward.participant, AWKWARD_DOCUMENT
    )
    assert "Awk.Ward~_-X" in ex.url  # unreserved characters stay as they are (RFC 3986 2.3)
    assert "%23conformance-harness%2F100%2525%3Fa%3Db%26c%2Bd%3Be%40f%3A%3A2.1" in ex.url


def test_not_found_and_transport_errors(
    published: tuple[SmpTestParticipants, dict[str, SmpReader]],
) -> None:
    test, readers = published
    ex = readers["good"].metadata(test.main.participant, test.unpublished_document)
    assert judge.judge_not_found(ex, "SMP-HTTP-001", "x").outcome is Outcome.PASS
    assert judge.judge_found(ex, "SMP-URL-001", "x").outcome is Outcome.FAIL
    with SmpReader("http://127.0.0.1:9", timeout=2) as nowhere:
        down = nowhere.service_group(test.main.participant)
    assert down.status is None and down.error
    assert judge.judge_found(down, "SMP-URL-001", "x").outcome is Outcome.ERROR


def test_publication_and_lookup_bodies_follow_the_control_api(pki: TestPki) -> None:
    test = participants(pki)
    publish_schema = control_api.operation("POST", control_api.SMP_PUBLISH)["requestBody"]
    schema = publish_schema["content"]["application/json"]["schema"]
    for pub in (*test.publications, test.redirect_target, test.to_unpublish):
        assert control_api.json_problem(schema, pub.to_json()) is None
        assert "signing" not in str(pub.to_json())
    assert pub.to_json(with_signing=True)["services"][0]["signing"] == "smp"
    request = LookupRequest(
        test.main.participant, CREDIT_NOTE, "sml.conformance.test", "127.0.0.1:53",
        trust_of(pki), (TRANSPORT_AS4_V2,),
    )  # fmt: skip
    lookup_schema = control_api.operation("POST", control_api.SMP_LOOKUP)["requestBody"]
    body = lookup_request_json(request)
    assert (
        control_api.json_problem(lookup_schema["content"]["application/json"]["schema"], body)
        is None
    )
    assert body["smp_trust_anchors"][0].startswith("-----BEGIN CERTIFICATE-----")
    assert "smp_crls" not in body  # optional: absent when the harness hands no CRLs
    with_crls = lookup_request_json(replace(request, smp_crls=revocation_of(pki).crls))
    assert (
        control_api.json_problem(lookup_schema["content"]["application/json"]["schema"], with_crls)
        is None
    )
    assert [c.split("\n")[0] for c in with_crls["smp_crls"]] == ["-----BEGIN X509 CRL-----"] * 2
    assert control_api.json_problem(
        lookup_schema["content"]["application/json"]["schema"], {**with_crls, "smp_crls": []}
    )
    der = ap_der(pki)
    assert certificate_der(certificate_pem(der)) == der and certificate_der("nonsense") is None


def test_lookup_answers_are_judged_by_the_contract() -> None:
    path = control_api.SMP_LOOKUP
    ok = b'{"outcome": "refused", "reason": "bad-signature", "message": "x"}'
    assert control_api.response_problem("POST", path, 200, "application/json", ok) is None
    no_reason = b'{"outcome": "refused", "message": "x"}'
    assert control_api.response_problem("POST", path, 200, "application/json", no_reason)
    no_cert = b'{"outcome": "endpoint", "endpoint_url": "https://x", "transport_profile": "p"}'
    assert control_api.response_problem("POST", path, 200, "application/json", no_cert)


def test_traffic_judges() -> None:
    name = "abc.iso6523-actorid-upis.sml.conformance.test"
    assert (
        judge.judge_dns_queries([{"qname": name + ".", "qtype": "NAPTR"}], name).outcome
        is Outcome.PASS
    )
    wrong = judge.judge_dns_queries([{"qname": "b-1.x", "qtype": "CNAME"}], name)
    assert wrong.outcome is Outcome.FAIL and "CNAME b-1.x" in wrong.message
    assert judge.judge_smp_requests([], "/a").outcome is Outcome.NOT_APPLICABLE
    double = judge.judge_smp_requests([{"method": "GET", "raw_path": "/a%253A"}], "/a%3A")
    assert double.outcome is Outcome.FAIL


def test_every_lookup_case_names_a_requirement_and_a_unique_receiver(pki: TestPki) -> None:
    cases = lookup_cases("t0k3n", ap_der(pki), (TRANSPORT_AS4_V2,), second_smp_url="http://b.test",
                         smp_certificate_uid=UID)  # fmt: skip
    assert len({c.receiver for c in cases}) == len(cases)
    assert {c.requirement for c in cases} == {
        "LOOKUP-RES-001", "LOOKUP-RES-002", "LOOKUP-SIG-001", "LOOKUP-SIG-002", "LOOKUP-SIG-003",
        "LOOKUP-SIG-004", "LOOKUP-TP-001", "LOOKUP-ACT-001", "LOOKUP-RED-001", "LOOKUP-RED-002",
    }  # fmt: skip
    assert all((c.expect == "endpoint") == (c.expected is not None) for c in cases)


def test_metadata_inspection_judges_each_requirement_once(pki: TestPki) -> None:
    """One metadata GET on a good SMP yields exactly one passing judgement per requirement."""
    smp = ReferenceSmp(GOOD_SMP, ReferenceCredentials(pki.directory))
    test = participants(pki)
    smp.publish(test.main.to_json())
    with reader_for(smp) as reader:
        inspection = judge.inspect_metadata(
            reader,
            test.main.participant,
            test.main.service(INVOICE),
            trust_of(pki),
            datetime.now(UTC),
            revocation=revocation_of(pki),
        )
    assert [j.outcome for j in inspection.judgements] == [Outcome.PASS] * 9
    assert {j.requirement for j in inspection.judgements} == {
        "SMP-URL-001", "SMP-HTTP-002", "SMP-XML-001", "SMP-SIG-001", "SMP-SIG-002", "SMP-SIG-003",
        "SMP-SIG-004", "SMP-XML-002", "SMP-XML-003",
    }  # fmt: skip
    (sig4,) = [j for j in inspection.judgements if j.requirement == "SMP-SIG-004"]
    assert "Harness Test SMP CA" in sig4.message and "Harness Test Root CA" in sig4.message


def _metadata_signed_by(pki_dir: Path, signing: str = "smp") -> Any:
    """The document element of a SignedServiceMetadata the reference SMP signed from ``pki_dir``."""
    from harness.peppol.smp.smp_xml import parse_document

    smp = ReferenceSmp(GOOD_SMP, ReferenceCredentials(pki_dir))
    test = participants(load_pki(pki_dir))
    smp.publish({**test.main.to_json(), "services": [
        {**test.main.to_json()["services"][0], "signing": signing}]})  # fmt: skip
    status, _, body = smp.read(service_metadata_path(test.main.participant, INVOICE), BASE)
    assert status == 200
    return parse_document(body, name="ssm")


def _sig4(root: Any, pki_dir: Path, revocation: judge.RevocationSource | None) -> Any:
    trust = trust_of(load_pki(pki_dir))
    (j,) = [
        j
        for j in judge.judge_signature(root, trust, datetime.now(UTC), "the metadata", revocation)
        if j.requirement == "SMP-SIG-004"
    ]
    return j


def test_revocation_of_a_certificate_of_another_smp_ca_is_not_applicable_with_the_reason(
    pki: TestPki, tmp_path: Path
) -> None:
    """A participant's own SMP CA (here: another PKI whose CA has the same name) is not the
    harness's: its revocation status cannot be had offline, so SMP-SIG-004 is not judged."""
    other = init_pki(tmp_path / "participant-pki")
    j = _sig4(_metadata_signed_by(other.directory), other.directory, revocation_of(pki))
    assert j.outcome is Outcome.NOT_APPLICABLE
    assert "cannot be obtained offline" in j.message and "not a CA of the harness" in j.message


def test_revocation_without_a_source_or_without_the_crl(pki: TestPki) -> None:
    root = _metadata_signed_by(pki.directory, "revoked-certificate")
    none = _sig4(root, pki.directory, None)
    assert none.outcome is Outcome.NOT_APPLICABLE and "no CRLs" in none.message
    source = revocation_of(pki)
    revoked = _sig4(root, pki.directory, source)
    assert revoked.outcome is Outcome.FAIL and "is revoked" in revoked.message
    missing = _sig4(root, pki.directory, judge.RevocationSource(source.authorities, ()))
    assert missing.outcome is Outcome.ERROR and "no current CRL" in missing.message


# -- SMP-API-002: unpublishParticipant ------------------------------------------------------------


def in_process_unpublish(smp: ReferenceSmp) -> Any:
    """unpublishParticipant answered by ``smp`` as its management API would (204 / 404)."""
    from harness.drivers.smp import UnpublishResult

    def unpublish(participant: ParticipantIdentifier) -> UnpublishResult:
        if smp.unpublish(participant):
            return UnpublishResult(True, status=204)
        return UnpublishResult(False, status=404, error=f"HTTP 404 to unpublishing {participant}")

    return unpublish


@pytest.mark.parametrize(
    "name", ["good", *sorted(n for n, v in SMP_VARIANTS.items() if not v.https_only)]
)
def test_unpublish_inspection_fails_exactly_where_a_variant_declares_smp_api_002(
    pki: TestPki, name: str
) -> None:
    variant = get_smp_variant(name)
    smp = ReferenceSmp(variant, ReferenceCredentials(pki.directory))
    publication = participants(pki).to_unpublish
    smp.publish(publication.to_json())
    with reader_for(smp) as reader:
        inspection = judge.inspect_unpublish(reader, publication, in_process_unpublish(smp))
    assert {j.requirement for j in inspection.judgements} == {"SMP-API-002"}
    assert Outcome.ERROR not in {j.outcome for j in inspection.judgements}
    assert bool(failed_judgements(inspection.judgements)) == ("SMP-API-002" in variant.declared)
    # the ServiceGroup and both metadata, read before and after: the evidence
    assert len(inspection.exchanges) == 6 and inspection.answer is not None


def failed_judgements(judgements: tuple[Any, ...]) -> list[Any]:
    return [j for j in judgements if j.outcome is Outcome.FAIL]


def test_unpublish_inspection_on_the_good_smp_reads_404_everywhere(pki: TestPki) -> None:
    smp = ReferenceSmp(GOOD_SMP, ReferenceCredentials(pki.directory))
    publication = participants(pki).to_unpublish
    assert [s.document_type for s in publication.services] == [INVOICE, CREDIT_NOTE]
    smp.publish(publication.to_json())
    with reader_for(smp) as reader:
        inspection = judge.inspect_unpublish(reader, publication, in_process_unpublish(smp))
    assert [ex.status for ex in inspection.exchanges] == [200, 200, 200, 404, 404, 404]
    assert [j.outcome for j in inspection.judgements] == [Outcome.PASS] * 4
    assert smp.group(publication.participant) is None


def test_unpublish_inspection_errors_without_a_judgement(pki: TestPki) -> None:
    """Not served before (nothing to remove) or no answer: an error, never a pass or a fail."""
    from harness.drivers.smp import UnpublishResult

    smp = ReferenceSmp(GOOD_SMP, ReferenceCredentials(pki.directory))
    publication = participants(pki).to_unpublish
    asked: list[ParticipantIdentifier] = []

    def never(participant: ParticipantIdentifier) -> UnpublishResult:
        asked.append(participant)
        return UnpublishResult(False, unreachable=True, error="could not reach the participant")

    with reader_for(smp) as reader:
        unseen = judge.inspect_unpublish(reader, publication, never)
        assert unseen.answer is None and asked == []
        (j,) = unseen.judgements
        assert j.outcome is Outcome.ERROR and "did not serve" in j.message
        smp.publish(publication.to_json())
        silent = judge.inspect_unpublish(reader, publication, never)
    (j,) = silent.judgements
    assert j.outcome is Outcome.ERROR and "could not reach" in j.message
    assert asked == [publication.participant]


def test_unpublish_answer_outside_the_contract_fails(pki: TestPki) -> None:
    from harness.drivers.smp import UnpublishResult

    smp = ReferenceSmp(GOOD_SMP, ReferenceCredentials(pki.directory))
    publication = participants(pki).to_unpublish
    smp.publish(publication.to_json())

    def text_answer(participant: ParticipantIdentifier) -> UnpublishResult:
        smp.unpublish(participant)
        return UnpublishResult(True, status=200, api_problem="DELETE answered HTTP 200 text/plain")

    with reader_for(smp) as reader:
        inspection = judge.inspect_unpublish(reader, publication, text_answer)
    (answer, *after) = inspection.judgements
    assert answer.outcome is Outcome.FAIL and "HTTP 200 text/plain" in answer.message
    assert [j.outcome for j in after] == [Outcome.PASS] * 3
