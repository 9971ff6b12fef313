"""The peppol-smp reference network as real local processes (``conformance serve sml``, ``smp``,
``peppol-smp-participant``): publish -> SML DNS -> SMP (HTTPS) -> verify -> endpoint, identifiers
with awkward characters round-tripping, independent DNS clients, the SML publishing only https
SMP URLs, and every known-bad variant showing its fault through the network."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.peppol.smp.client import LookupRequest, SmpClient
from harness.peppol.smp.identifiers import (
    BIS_BILLING_INVOICE,
    BIS_BILLING_PROCESS,
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
    service_group_path,
    service_metadata_path,
)
from harness.peppol.smp.signing import TrustAnchors
from harness.peppol.smp.sml import participant_dns_name, query, resolve_smp_url
from harness.peppol.smp.smp_xml import TRANSPORT_AS2_V2, TRANSPORT_AS4_V2, parse_service_group
from harness.pki import init_pki
from harness.reference.smp import PublishedEndpoint, ReferenceNetwork
from harness.reference.smp_network import SmpNetwork
from harness.reference.smp_variants import LOOKUP_VARIANTS, SMP_VARIANTS
from harness.runtime.base import EndpointStartError, RunningEndpoint
from harness.runtime.local import LocalRuntime

P = ParticipantIdentifier.peppol("0195:T08GB0001A")
D = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
PROC = ProcessIdentifier.cenbii(BIS_BILLING_PROCESS)
API = "/conformance/v1/peppol-smp"
LOOKUP = f"{API}/lookup"


@dataclass
class Network:
    runtime: LocalRuntime
    pki_dir: Path
    sml: RunningEndpoint
    smp: RunningEndpoint
    ap: RunningEndpoint
    admin: ReferenceNetwork
    zone: str
    dns: str
    smp_ca: str
    reference: SmpNetwork
    #: trusts the TLS certificates of the reference SMPs (the test root)
    http: httpx.Client

    @property
    def tls_anchor_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        (root,) = self.reference.smp_tls_trust_anchors()
        return root.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def admin_of(self, smp: RunningEndpoint) -> ReferenceNetwork:
        return ReferenceNetwork(smp.base_url, self.sml.base_url, verify=self.reference.tls_verify())

    def request(
        self,
        receiver: ParticipantIdentifier = P,
        document_type: DocumentTypeIdentifier = D,
        **extra: Any,
    ) -> dict[str, Any]:
        body = {
            "receiver": receiver.uri,
            "document_type": document_type.uri,
            "sml_zone": self.zone,
            "dns_resolver": self.dns,
            "smp_trust_anchors": [self.smp_ca],
            "smp_tls_trust_anchors": [self.tls_anchor_pem],
            "transport_profiles": [TRANSPORT_AS4_V2],
        }
        body.update(extra)
        return body

    def lookup_request(
        self, receiver: ParticipantIdentifier = P, document_type: DocumentTypeIdentifier = D
    ) -> LookupRequest:
        return LookupRequest(
            receiver,
            document_type,
            self.zone,
            self.dns,
            TrustAnchors.from_pem(self.smp_ca),
            (TRANSPORT_AS4_V2,),
            smp_tls_trust_anchors=self.reference.smp_tls_trust_anchors(),
        )


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    pki_dir = tmp_path_factory.mktemp("pki")
    init_pki(pki_dir)
    with LocalRuntime(tmp_path_factory.mktemp("logs")) as runtime:
        reference = SmpNetwork.start(runtime, pki_dir)  # the SMP over HTTPS
        ap = runtime.start("peppol-smp-participant")
        try:
            with httpx.Client(verify=reference.tls_verify(), timeout=30) as http:
                yield Network(
                    runtime, pki_dir, reference.sml, reference.smp, ap, reference.admin,
                    reference.zone, reference.dns, reference.smp_ca_pem, reference, http,
                )  # fmt: skip
        finally:
            reference.close()


@pytest.fixture
def net(network: Network) -> Network:
    network.admin.reset()
    return network


def test_sml_reports_its_dns_listener(network: Network) -> None:
    host, port = network.sml.extras["dns"].rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0 and network.dns == network.sml.extras["dns"]


def test_end_to_end_lookup_through_the_reference_participant(net: Network) -> None:
    net.admin.publish(P, D, PROC, [PublishedEndpoint("https://ap.example.test/as4")])
    answer = httpx.post(net.ap.url(LOOKUP), json=net.request(), timeout=30).json()
    assert answer["outcome"] == "endpoint", answer
    assert answer["endpoint_url"] == "https://ap.example.test/as4"
    assert answer["transport_profile"] == TRANSPORT_AS4_V2 and answer["process"] == PROC.uri
    assert answer["smp_url"] == net.smp.base_url and net.smp.base_url.startswith("https://")
    assert answer["certificate"] == net.admin.trust()["ap_certificate"]
    # the traffic the AP caused, as the reference SML and SMP saw it
    assert net.admin.dns_queries()[-1]["qname"] == participant_dns_name(P, net.zone)
    assert net.admin.smp_requests()[-1] == {
        "method": "GET",
        "raw_path": service_metadata_path(P, D),
        "status": 200,
    }


def test_unregistered_receiver_is_refused(net: Network) -> None:
    answer = httpx.post(net.ap.url(LOOKUP), json=net.request(), timeout=30).json()
    assert answer["outcome"] == "refused" and answer["reason"] == "not-registered"
    bad = httpx.post(net.ap.url(LOOKUP), json={"receiver": "x"}, timeout=30)
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"


DIG = shutil.which("dig")


@pytest.mark.skipif(DIG is None, reason="dig not installed (Debian: apt-get install dnsutils)")
def test_dig_reads_the_served_zone(net: Network) -> None:
    net.admin.publish(P, D, PROC, [PublishedEndpoint("https://ap.example.test/as4")])
    host, port = net.dns.rsplit(":", 1)
    assert DIG is not None
    for transport in ("+notcp", "+tcp"):
        out = subprocess.run(
            [DIG, transport, "+short", "+time=2", "+tries=1", f"@{host}", "-p", port, "NAPTR", participant_dns_name(P, net.zone)],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout.strip()  # fmt: skip
        assert out == f'100 10 "U" "Meta:SMP" "!^.*$!{net.smp.base_url}!" .'


def receivers() -> st.SearchStrategy[ParticipantIdentifier]:
    """Valid participants of the common schemes (PFUOI 4.4.0 POLICY 1 characters, mixed case)."""
    from harness.peppol.smp.strategies import participant_identifiers

    return participant_identifiers()


def doc_types() -> st.SearchStrategy[DocumentTypeIdentifier]:
    """Valid document types with URL-reserved characters in the customization id."""
    from harness.peppol.smp.strategies import document_type_identifiers

    return document_type_identifiers()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(receiver=receivers(), document_type=doc_types(), upper=st.booleans())
def test_awkward_identifiers_round_trip_through_publish_dns_and_fetch(
    network: Network,
    receiver: ParticipantIdentifier,
    document_type: DocumentTypeIdentifier,
    upper: bool,
) -> None:
    """Property: whatever the scheme and the characters, a published receiver is found through the
    SML and its SMP, in either letter case, with the exact document type."""
    network.admin.publish(
        receiver, document_type, PROC, [PublishedEndpoint("https://ap.example.test/x")]
    )
    asked = ParticipantIdentifier(
        receiver.scheme, receiver.value.upper() if upper else receiver.value
    )
    with SmpClient() as client:
        result = client.lookup(network.lookup_request(asked, document_type))
        group = client.service_group(
            result.smp_url,
            asked,
            smp_tls_trust_anchors=network.reference.smp_tls_trust_anchors(),
        )
    assert result.endpoint_url == "https://ap.example.test/x"
    assert group.participant == receiver and group.references == (
        network.smp.base_url + service_metadata_path(receiver, document_type),
    )


def test_lookups_per_second_are_measured_not_asserted(net: Network) -> None:
    """A smoke run of the hot path (DNS + HTTP + verify); the figure goes to the report, not here."""
    net.admin.publish(P, D, PROC, [PublishedEndpoint("https://ap.example.test/as4")])
    with SmpClient() as client:
        request = net.lookup_request()
        results = {client.lookup(request).endpoint_url for _ in range(20)}
    assert results == {"https://ap.example.test/as4"}


def test_explicit_extra_port_is_used(network: Network) -> None:
    for _ in range(10):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            sml = network.runtime.start("sml", extra_port=f"dns={port}")
        except EndpointStartError:  # the port was taken in between; try another
            continue
        try:
            assert sml.extras["dns"] == f"127.0.0.1:{port}"
        finally:
            network.runtime.stop(sml)
        return
    pytest.fail("could not start the SML on an explicit free port")


# -- known-bad variants through the network ----------------------------------------------------


def _ap_answer(net: Network, ap: RunningEndpoint, **extra: Any) -> dict[str, Any]:
    return dict(httpx.post(ap.url(LOOKUP), json=net.request(**extra), timeout=30).json())


def _new_lookup_fault_shows(name: str, net: Network, ap: RunningEndpoint) -> bool:
    """The lookup variants added with the peppol-smp suites."""
    if name == "refusal-without-reason":
        answer = _ap_answer(net, ap)  # nobody is registered
        return answer["outcome"] == "refused" and "reason" not in answer
    if name == "ignores-activation-dates":
        old = PublishedEndpoint(
            "https://ap.example.test/old", service_expiration_date=datetime(2001, 1, 1, tzinfo=UTC)
        )
        net.admin.publish(P, D, PROC, [old])
        return _ap_answer(net, ap).get("endpoint_url") == old.endpoint_url
    if name == "any-document-type":
        net.admin.publish(P, D, PROC, [PublishedEndpoint("https://ap.example.test/as4")])
        other = DocumentTypeIdentifier.busdox("urn:x:other-document::1.0")
        return _ap_answer(net, ap, document_type=other)["outcome"] == "endpoint"
    assert name in ("ignores-redirect-certificate", "ignores-redirects")
    # a Redirect to a second SMP: naming another certificate than the one that SMP signs with
    # (a client SHOULD refuse it), or the right one (a client MUST follow it)
    wrong = name == "ignores-redirect-certificate"
    uid = "CN=someone else" if wrong else net.reference.smp_certificate_uid
    second, second_admin = net.reference.start_smp()
    try:
        with second_admin:
            second_admin.publish(
                P, D, PROC, [PublishedEndpoint("https://ap.example.test/as4")], register=False
            )
        href = second.base_url + service_metadata_path(P, D)
        net.admin.publish_raw(
            {
                "participant": P.uri,
                "services": [
                    {"document_type": D.uri, "redirect": {"href": href, "certificate_uid": uid}}
                ],
            }
        )
        answer = _ap_answer(net, ap)
        if wrong:
            return answer["outcome"] == "endpoint"
        return answer["outcome"] == "refused" and answer.get("reason") == "redirect-refused"
    finally:
        net.runtime.stop(second)


NEW_LOOKUP_VARIANTS = frozenset(
    {
        "refusal-without-reason",
        "ignores-activation-dates",
        "any-document-type",
        "ignores-redirect-certificate",
        "ignores-redirects",
    }
)


def _smp_crls(net: Network) -> list[str]:
    """The SMP CA's CRL now (the SMP issues its revoked certificate on first use), as PEM."""
    from harness.peppol.smp.control import crl_pem
    from harness.pki import load_pki

    return [crl_pem(load_pki(net.pki_dir).crl("smp-ca"))]


def _lookup_fault_shows(name: str, net: Network, ap: RunningEndpoint) -> bool:
    net.admin.reset()
    if name in NEW_LOOKUP_VARIANTS:
        return _new_lookup_fault_shows(name, net, ap)
    if name == "ignores-revocation":
        net.admin.publish(
            P, D, PROC, [PublishedEndpoint("https://ap.example.test/as4")],
            signing="revoked-certificate",
        )  # fmt: skip
        return _ap_answer(net, ap, smp_crls=_smp_crls(net))["outcome"] == "endpoint"
    if name in ("dns-hashes-scheme-and-value", "dns-legacy-md5-cname", "double-encodes-ids"):
        net.admin.publish(P, D, PROC, [PublishedEndpoint("https://ap.example.test/as4")])
        return _ap_answer(net, ap)["outcome"] == "refused"
    if name == "ignores-transport-profile":
        net.admin.publish(
            P, D, PROC, [PublishedEndpoint("https://ap.example.test/as2", TRANSPORT_AS2_V2)]
        )
        answer = _ap_answer(net, ap)
        return answer["outcome"] == "endpoint" and answer["transport_profile"] == TRANSPORT_AS2_V2
    signing = {
        "accepts-bad-signature": "corrupt-signature",
        "accepts-wrong-ca": "wrong-ca",
        "accepts-expired-certificate": "expired-certificate",
    }[name]
    net.admin.publish(
        P, D, PROC, [PublishedEndpoint("https://ap.example.test/as4")], signing=signing
    )
    return _ap_answer(net, ap)["outcome"] == "endpoint"


@pytest.mark.parametrize("name", sorted(LOOKUP_VARIANTS))
def test_every_lookup_variant_shows_its_fault_through_the_network(
    network: Network, name: str
) -> None:
    ap = network.runtime.start("peppol-smp-participant", variant=name)
    try:
        assert _lookup_fault_shows(name, network, ap), f"variant {name} did not show its fault"
    finally:
        network.runtime.stop(ap)
    assert not _lookup_fault_shows(name, network, network.ap), (
        f"the good AP shows the fault of {name}"
    )


def _smp_fault_shows(name: str, net: Network, smp: RunningEndpoint) -> bool:
    """Observed the way a suite would: through the good AP's lookup, or the SMP's own answers."""
    net.admin.reset()
    if name == "plain-http-references":
        return _references_are_plain_http(net, smp)
    if name == "publish-answers-text":
        body = {
            "participant": P.uri,
            "services": [
                {
                    "document_type": D.uri,
                    "processes": [
                        {
                            "process": PROC.uri,
                            "endpoints": [
                                {
                                    "transport_profile": TRANSPORT_AS4_V2,
                                    "endpoint_url": "https://ap.example.test/as4",
                                }
                            ],
                        }
                    ],
                }
            ],
        }
        r = net.http.post(smp.url("/conformance/v1/peppol-smp/participants"), json=body)
        return r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    with net.admin_of(smp) as admin:
        admin.publish(P, D, PROC, [PublishedEndpoint("https://ap.example.test/as4")])
    if name == "unpublish-keeps-serving":  # unpublishParticipant says 204 ... and nothing changes
        gone = net.http.delete(smp.url(f"{API}/participants/{service_group_path(P)[1:]}"))
        served = net.http.get(smp.url(service_group_path(P))).status_code
        return gone.status_code == 204 and served == 200
    if name == "revoked-signing-certificate":  # seen by the good AP given the SMP CA's CRL
        return (
            _ap_answer(net, net.ap, smp_crls=_smp_crls(net)).get("reason") == "revoked-certificate"
        )
    expected_refusal = {
        "unsigned-metadata": "bad-signature",
        "corrupt-signature": "bad-signature",
        "wrong-signing-certificate": "untrusted-certificate",
        "expired-signing-certificate": "expired-certificate",
        "schema-order": "invalid-metadata",
    }
    if name in expected_refusal:
        answer = _ap_answer(net, net.ap)
        return answer.get("reason") == expected_refusal[name]
    if name == "case-insensitive-document-types":
        other = DocumentTypeIdentifier(D.scheme, D.value.swapcase())
        return net.http.get(smp.url(service_metadata_path(P, other))).status_code == 200
    if name == "drops-service-dates":
        return _smp_drops_dates(net, smp)
    if name == "http-redirect":
        href = "http://other-smp.test" + service_metadata_path(P, D)
        with net.admin_of(smp) as admin:
            admin.publish_raw(
                {
                    "participant": P.uri,
                    "services": [
                        {
                            "document_type": D.uri,
                            "redirect": {"href": href, "certificate_uid": "CN=x"},
                        }
                    ],
                }
            )
        r = net.http.get(smp.url(service_metadata_path(P, D)))
        return r.status_code == 301 and r.headers.get("location") == href
    if name == "decodes-path-twice":
        from harness.peppol.smp.scenarios import AWKWARD_DOCUMENT  # its customization has "%25"

        with net.admin_of(smp) as admin:
            admin.publish(
                P, AWKWARD_DOCUMENT, PROC, [PublishedEndpoint("https://ap.example.test/as4")]
            )
        url = smp.url(service_metadata_path(P, AWKWARD_DOCUMENT))
        return net.http.get(url).status_code == 404
    if name == "case-sensitive-participants":
        lower = ParticipantIdentifier.peppol(P.value.lower())
        return net.http.get(smp.url(service_group_path(lower))).status_code == 404
    if name == "double-encoded-references":
        group = parse_service_group(net.http.get(smp.url(service_group_path(P))).content)
        return all(net.http.get(href).status_code != 200 for href in group.references)
    if name == "wrong-content-type":
        ctype = net.http.get(smp.url(service_metadata_path(P, D))).headers["content-type"]
        return not ctype.startswith(("text/xml", "application/xml"))
    if name == "no-xml-declaration":
        body = net.http.get(smp.url(service_metadata_path(P, D))).content
        return body.lstrip().startswith(b"<") and not body.startswith(b"<?xml")
    assert name == "no-404-for-unknown-participant"
    nobody = ParticipantIdentifier.peppol("0195:NOBODY")
    return net.http.get(smp.url(service_group_path(nobody))).status_code == 200


def _references_are_plain_http(net: Network, smp: RunningEndpoint) -> bool:
    client = net.http
    if True:  # the SMP is served over HTTPS (every SMP of this network is)
        body = {
            "participant": P.uri,
            "services": [
                {
                    "document_type": D.uri,
                    "processes": [
                        {
                            "process": PROC.uri,
                            "endpoints": [
                                {
                                    "transport_profile": TRANSPORT_AS4_V2,
                                    "endpoint_url": "https://ap.example.test/as4",
                                }
                            ],
                        }
                    ],
                }
            ],
        }
        client.post(
            smp.url("/conformance/v1/peppol-smp/participants"), json=body
        ).raise_for_status()
        group = parse_service_group(client.get(smp.url(service_group_path(P))).content)
    return all(href.startswith("http://") for href in group.references)


def _smp_drops_dates(net: Network, smp: RunningEndpoint) -> bool:
    from harness.peppol.smp.smp_xml import parse_signed_service_metadata

    until = datetime(2999, 1, 1, tzinfo=UTC)
    with net.admin_of(smp) as admin:
        admin.publish(
            P,
            D,
            PROC,
            [PublishedEndpoint("https://ap.example.test/as4", service_expiration_date=until)],
        )
    md = parse_signed_service_metadata(net.http.get(smp.url(service_metadata_path(P, D))).content)
    assert md.information is not None
    return md.information.processes[0].endpoints[0].service_expiration_date is None


@pytest.mark.parametrize("name", sorted(SMP_VARIANTS))
def test_every_smp_variant_shows_its_fault_through_the_network(network: Network, name: str) -> None:
    """Every SMP here is served over HTTPS (the https-only variants need it; the others do not
    care), registered in the SML with its https URL."""
    smp, admin = network.reference.start_smp(variant=name)
    try:
        assert _smp_fault_shows(name, network, smp), f"variant {name} did not show its fault"
    finally:
        admin.close()
        network.runtime.stop(smp)
    assert not _smp_fault_shows(name, network, network.smp), (
        f"the good SMP shows the fault of {name}"
    )


# -- the SML publishes https SMP URLs only (Peppol SML 1.3.0 2.1.1) ------------------------------


def _naptr_urls(net: Network, participant: ParticipantIdentifier) -> list[str]:
    """The SMP URLs in the SML's NAPTR answer for ``participant`` (read from the wire)."""
    from harness.peppol.smp.sml import apply_naptr_regexp

    name = participant_dns_name(participant, net.zone)
    records = query(net.dns, name, "NAPTR").naptr
    assert records and all(r.is_smp for r in records)
    urls = [apply_naptr_regexp(r.regexp, name) for r in records]
    return [u for u in urls if u is not None]


def test_lookup_network_publishes_https_smp_urls(net: Network) -> None:
    """What a lookup run registers -- the reference SMP, and the second one a redirect points
    to -- is published by the SML as https URLs, and the AP is handed their TLS anchor."""
    net.admin.publish(P, D, PROC, [PublishedEndpoint("https://ap.example.test/as4")])
    second, second_admin = net.reference.start_smp()
    other = ParticipantIdentifier.peppol("0195:SECONDSMP")
    try:
        with second_admin:
            second_admin.publish(other, D, PROC, [PublishedEndpoint("https://ap.example.test/2")])
        for participant, smp in ((P, net.smp), (other, second)):
            assert _naptr_urls(net, participant) == [smp.base_url]
            assert smp.base_url.startswith("https://127.0.0.1:")
            answer = _ap_answer(net, net.ap, receiver=participant)
            assert answer["outcome"] == "endpoint", answer
    finally:
        net.runtime.stop(second)
    assert all(r["smp_url"].startswith("https://") for r in _sml_registrations(net))


def _sml_registrations(net: Network) -> list[dict[str, Any]]:
    r = net.http.get(f"{net.sml.base_url}/conformance/v1/peppol-sml/participants")
    r.raise_for_status()
    return list(r.json()["participants"])


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("http://127.0.0.1:8081", "is not https"),
        ("https://user:secret@smp.example.test", "user name or password"),
        ("https://smp.example.test/?x=1", "query or fragment"),
        ("https://smp.example.test/#top", "query or fragment"),
    ],
)
def test_sml_refuses_smp_urls_a_naptr_record_may_not_carry(
    net: Network, url: str, what: str
) -> None:
    with pytest.raises(httpx.HTTPStatusError) as info:
        net.admin.register(P, url)
    assert info.value.response.status_code == 400
    assert what in info.value.response.json()["detail"]
    assert "2.1.1" in info.value.response.json()["detail"]
    assert _sml_registrations(net) == []


def test_plain_http_smp_url_only_with_the_explicit_knob(net: Network) -> None:
    """``allow_http`` publishes an http URL on purpose (an SMP under test served over plain HTTP);
    it does not let userinfo through."""
    reg = net.admin.register(P, "http://127.0.0.1:8081", allow_http=True)
    assert reg["smp_url"] == "http://127.0.0.1:8081"
    assert resolve_smp_url(P, net.zone, net.dns).smp_url == "http://127.0.0.1:8081"
    with pytest.raises(httpx.HTTPStatusError):
        net.admin.register(P, "http://user@127.0.0.1:8081", allow_http=True)
    bad = net.http.post(
        f"{net.sml.base_url}/conformance/v1/peppol-sml/participants",
        json={"participant": P.uri, "smp_url": "http://127.0.0.1:8081", "allow_http": "yes"},
    )
    assert bad.status_code == 400  # a knob is true or false, nothing that merely looks true


def test_ap_refuses_an_smp_whose_tls_certificate_it_is_not_told_to_trust(
    net: Network, tmp_path: Path
) -> None:
    """The reference AP, handed another CA as ``smp_tls_trust_anchors``, refuses the reference
    SMP as ``smp-unavailable`` naming TLS (and finds it with the right anchor)."""
    from cryptography.hazmat.primitives import serialization

    other = init_pki(tmp_path / "other-pki")
    wrong = other.root.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    net.admin.publish(P, D, PROC, [PublishedEndpoint("https://ap.example.test/as4")])
    answer = _ap_answer(net, net.ap, smp_tls_trust_anchors=[wrong])
    assert answer["outcome"] == "refused" and answer["reason"] == "smp-unavailable", answer
    assert "TLS" in answer["message"]
    assert _ap_answer(net, net.ap)["outcome"] == "endpoint"
