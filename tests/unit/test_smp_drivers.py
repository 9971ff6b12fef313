"""The peppol-smp http driver against a running reference SMP (``conformance serve smp`` with a
bearer token): publishParticipant and unpublishParticipant as results, never exceptions, with the
exchange recorded and the answer judged by the control API contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.drivers.smp import SMP_UNPUBLISH, HttpSmpDriver, UnpublishResult
from harness.peppol.smp.control import Publication
from harness.peppol.smp.identifiers import (
    BIS_BILLING_INVOICE,
    BIS_BILLING_PROCESS,
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
    path_segment,
    service_group_path,
    service_metadata_path,
)
from harness.peppol.smp.scenarios import endpoint
from harness.peppol.smp.smp_xml import TRANSPORT_AS4_V2
from harness.pki import init_pki
from harness.runtime.base import RunningEndpoint
from harness.runtime.local import LocalRuntime

TOKEN = "s3cret-smp-token"
D = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
PROC = ProcessIdentifier.cenbii(BIS_BILLING_PROCESS)


@pytest.fixture(scope="module")
def smp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEndpoint]:
    pki_dir = tmp_path_factory.mktemp("pki")
    init_pki(pki_dir)
    with LocalRuntime(tmp_path_factory.mktemp("logs")) as runtime:
        yield runtime.start("smp", pki_dir=pki_dir, token=TOKEN)


def driver_for(smp: RunningEndpoint, token: str = TOKEN) -> HttpSmpDriver:
    return HttpSmpDriver(smp.base_url, smp_url=smp.base_url, smp_ca=None, token=token, timeout=10)


def publication(participant: ParticipantIdentifier, ap_certificate: bytes) -> Publication:
    ep = endpoint("https://ap.example.test/as4", ap_certificate, TRANSPORT_AS4_V2)
    return Publication.one_service(participant, D, PROC, [ep])


def ap_certificate(smp: RunningEndpoint) -> bytes:
    from harness.peppol.smp.control import certificate_der

    pem = httpx.get(
        smp.url("/conformance/v1/peppol-smp/trust"),
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    ).json()["ap_certificate"]
    der = certificate_der(pem)
    assert der is not None
    return der


@pytest.mark.parametrize("value", ["0195:T08GB0001A", "0088:A.b~c_d-E"])
def test_unpublish_removes_the_participant_and_answers_404_the_second_time(
    smp: RunningEndpoint, value: str
) -> None:
    participant = ParticipantIdentifier.peppol(value)
    with driver_for(smp) as driver:
        assert driver.publish(publication(participant, ap_certificate(smp))).published
        assert httpx.get(smp.url(service_group_path(participant)), timeout=10).status_code == 200
        gone = driver.unpublish(participant)
        again = driver.unpublish(participant)
    assert (gone.unpublished, gone.status, gone.api_problem) == (True, 204, None)
    assert f"DELETE {SMP_UNPUBLISH.replace('{participant}', path_segment(participant))}" in (
        gone.exchange[0].label
    )
    assert [r.label.rsplit(": ", 1)[-1] for r in gone.exchange] == ["request", "response HTTP 204"]
    for path in (service_group_path(participant), service_metadata_path(participant, D)):
        assert httpx.get(smp.url(path), timeout=10).status_code == 404
    assert (again.unpublished, again.status, again.api_problem) == (False, 404, None)
    assert again.error is not None and "HTTP 404" in again.error


def test_unpublish_with_a_wrong_token_is_no_judgement_and_keeps_the_participant(
    smp: RunningEndpoint,
) -> None:
    participant = ParticipantIdentifier.peppol("0195:KEPT")
    with driver_for(smp) as driver:
        assert driver.publish(publication(participant, ap_certificate(smp))).published
    with driver_for(smp, token="wrong") as intruder:
        denied = intruder.unpublish(participant)
    # like publishParticipant: refused credentials are the harness's configuration, not a verdict
    assert (denied.unpublished, denied.unreachable, denied.status) == (False, True, 401)
    assert denied.error is not None and "check driver.token" in denied.error
    assert TOKEN not in str(denied.exchange) and "wrong" not in b"".join(
        r.data for r in denied.exchange
    ).decode("latin-1")  # the token is redacted from the evidence
    assert httpx.get(smp.url(service_group_path(participant)), timeout=10).status_code == 200


def test_unpublish_of_an_unreachable_participant_is_a_result(tmp_path: Path) -> None:
    with HttpSmpDriver("http://127.0.0.1:9", smp_url=None, smp_ca=None, timeout=2) as driver:
        result = driver.unpublish(ParticipantIdentifier.peppol("0195:X"))
    assert isinstance(result, UnpublishResult)
    assert result.unreachable and not result.unpublished and result.error


def test_lookup_hands_the_smp_tls_trust_anchors_to_the_ap(tmp_path: Path) -> None:
    """``lookupReceiver`` through the http driver carries ``smp_tls_trust_anchors`` (PEM) to the
    AP, here the reference lookup participant, which reads them (no 400) and answers a refusal:
    the DNS server it is sent to does not exist."""
    from harness.peppol.smp.client import LookupRequest
    from harness.peppol.smp.signing import TrustAnchors
    from harness.pki import init_pki

    pki = init_pki(tmp_path / "pki")
    request = LookupRequest(
        ParticipantIdentifier.peppol("0195:T08GB0001A"), D, "sml.conformance.test",
        "127.0.0.1:9", TrustAnchors((pki.authority("smp-ca").certificate,)), (TRANSPORT_AS4_V2,),
        smp_tls_trust_anchors=(pki.root.certificate,),
    )  # fmt: skip
    with LocalRuntime(tmp_path / "logs") as runtime:
        ap = runtime.start("peppol-smp-participant")
        with HttpSmpDriver(ap.base_url, smp_url=None, smp_ca=None, timeout=30) as driver:
            answer = driver.lookup(request)
    assert (answer.outcome, answer.reason, answer.api_problem) == (
        "refused", "sml-unavailable", None,
    )  # fmt: skip
    sent = answer.exchange[0].data
    assert b'"smp_tls_trust_anchors": ["-----BEGIN CERTIFICATE-----' in sent
