"""The AP lookup client against an in-process SML (real DNS sockets) and SMP (the reference SMP's
behaviour behind an httpx mock transport): every refusal, and every lookup variant's fault."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509

from harness.peppol.smp.client import LookupRefused, LookupRequest, Refusal, SmpClient
from harness.peppol.smp.identifiers import (
    BIS_BILLING_INVOICE,
    BIS_BILLING_PROCESS,
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
    service_metadata_path,
)
from harness.peppol.smp.signing import TrustAnchors
from harness.peppol.smp.smp_xml import TRANSPORT_AS2_V2, TRANSPORT_AS4_V2
from harness.pki import TestPki, init_pki, load_pki
from harness.pki.tls import TlsServerFiles, issue_tls_server
from harness.reference import ExtraListener
from harness.reference.sml import DnsServer, SmlZone
from harness.reference.smp import ReferenceCredentials, ReferenceSmp, lookup_faults
from harness.reference.smp_variants import GOOD_SMP, LOOKUP_VARIANTS, get_lookup_variant

ZONE = "sml.conformance.test"
SMP_BASE = "http://smp.test"
OTHER_SMP = "http://other-smp.test"
API = "/conformance/v1/peppol-smp"
P = ParticipantIdentifier.peppol("0195:T08GB0001A")
D = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
PROC = ProcessIdentifier.cenbii(BIS_BILLING_PROCESS)


@dataclass
class Net:
    zone: SmlZone
    resolver: str
    smps: dict[str, ReferenceSmp]
    pki: TestPki

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            base = f"{request.url.scheme}://{request.url.host}"
            smp = self.smps.get(base)
            if smp is None:
                raise httpx.ConnectError(f"no SMP at {base}", request=request)
            raw = request.url.raw_path.decode("ascii").split("?")[0]
            status, media_type, body = smp.read(raw, base)
            smp.record(request.method, raw, status)
            return httpx.Response(status, headers={"content-type": media_type}, content=body)

        return httpx.MockTransport(handle)

    def publish(
        self,
        participant: ParticipantIdentifier = P,
        *,
        smp: str = SMP_BASE,
        signing: str = "smp",
        **extra: object,
    ) -> None:
        endpoints = extra.pop(
            "endpoints",
            [
                {
                    "transport_profile": TRANSPORT_AS4_V2,
                    "endpoint_url": "https://ap.example.test/as4",
                }
            ],
        )
        service: dict[str, object] = {"document_type": D.uri, "signing": signing}
        if "redirect" in extra:
            service["redirect"] = extra.pop("redirect")
        else:
            service["processes"] = [{"process": PROC.uri, "endpoints": endpoints}]
        self.smps[smp].publish({"participant": participant.uri, "services": [service]})
        self.zone.register(participant, smp)

    def request(self, **changes: object) -> LookupRequest:
        base = LookupRequest(
            receiver=P,
            document_type=D,
            sml_zone=ZONE,
            dns_resolver=self.resolver,
            trust=TrustAnchors((self.pki.authority("smp-ca").certificate,)),
            transport_profiles=(TRANSPORT_AS4_V2,),
        )
        return replace(base, **changes)  # type: ignore[arg-type]

    def crls(self) -> tuple[x509.CertificateRevocationList, ...]:
        """The SMP CA's CRL as it is now (issuing the revoked signer re-signs it)."""
        return (load_pki(self.pki.directory).crl("smp-ca"),)

    def client(self, variant: str = "good") -> SmpClient:
        http = httpx.Client(transport=self.transport())
        return SmpClient(http, faults=lookup_faults(get_lookup_variant(variant)))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return init_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def net(pki: TestPki) -> Iterator[Net]:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    listener = ExtraListener("dns", "127.0.0.1", udp.getsockname()[1], (udp,))
    zone = SmlZone(ZONE)
    server = DnsServer(zone, listener)
    server.start()
    creds = ReferenceCredentials(pki.directory)
    smps = {SMP_BASE: ReferenceSmp(GOOD_SMP, creds), OTHER_SMP: ReferenceSmp(GOOD_SMP, creds)}
    try:
        yield Net(zone, listener.address, smps, pki)
    finally:
        server.stop()


def test_lookup_finds_the_published_endpoint(net: Net) -> None:
    net.publish()
    result = net.client().lookup(net.request())
    assert result.endpoint_url == "https://ap.example.test/as4"
    assert result.transport_profile == TRANSPORT_AS4_V2 and result.process == PROC
    assert result.smp_url == SMP_BASE and result.smp_certificate == net.pki["smp"].certificate
    assert [e.kind for e in result.exchanges] == ["dns", "http"]
    assert net.smps[SMP_BASE].requests()[-1]["raw_path"] == service_metadata_path(P, D)


def test_preference_order_of_transport_profiles(net: Net) -> None:
    net.publish(
        endpoints=[
            {"transport_profile": TRANSPORT_AS2_V2, "endpoint_url": "https://ap.example.test/as2"},
            {"transport_profile": TRANSPORT_AS4_V2, "endpoint_url": "https://ap.example.test/as4"},
        ]
    )
    client = net.client()
    assert client.lookup(net.request()).endpoint_url.endswith("/as4")
    both = net.request(transport_profiles=(TRANSPORT_AS2_V2, TRANSPORT_AS4_V2))
    assert client.lookup(both).endpoint_url.endswith("/as2")


@pytest.mark.parametrize(
    ("setup", "changes", "refusal"),
    [
        ("nothing", {}, Refusal.NOT_REGISTERED),
        (
            "published",
            {"document_type": DocumentTypeIdentifier.busdox("urn:other::X##y::2.1")},
            Refusal.NO_SERVICE,
        ),
        (
            "published",
            {"process": ProcessIdentifier.cenbii("urn:other-process")},
            Refusal.NO_PROCESS,
        ),
        ("published", {"transport_profiles": (TRANSPORT_AS2_V2,)}, Refusal.UNSUPPORTED_TRANSPORT),
        ("not-yet-active", {}, Refusal.ENDPOINT_NOT_ACTIVE),
        ("unsigned", {}, Refusal.BAD_SIGNATURE),
        ("corrupt-signature", {}, Refusal.BAD_SIGNATURE),
        ("tampered", {}, Refusal.BAD_SIGNATURE),
        ("expired-certificate", {}, Refusal.EXPIRED_CERTIFICATE),
        ("wrong-ca", {}, Refusal.UNTRUSTED_CERTIFICATE),
        ("ap-certificate", {}, Refusal.UNTRUSTED_CERTIFICATE),
        ("unregistered-smp", {}, Refusal.SMP_UNAVAILABLE),
    ],
)
def test_refusals(net: Net, setup: str, changes: dict[str, object], refusal: Refusal) -> None:
    if setup == "published":
        net.publish(endpoints=[{
            "transport_profile": TRANSPORT_AS4_V2, "endpoint_url": "https://ap.example.test/as4",
            "service_activation_date": "2026-01-01T00:00:00+00:00",
        }])  # fmt: skip
    elif setup == "not-yet-active":
        net.publish(endpoints=[{
            "transport_profile": TRANSPORT_AS4_V2, "endpoint_url": "https://ap.example.test/as4",
            "service_activation_date": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        }])  # fmt: skip
    elif setup == "unregistered-smp":
        net.zone.register(P, "http://nowhere.test")
    elif setup != "nothing":
        net.publish(signing=setup)
    with pytest.raises(LookupRefused) as info:
        net.client().lookup(net.request(**changes))
    assert info.value.refusal == refusal, str(info.value)


def test_redirect_is_followed_once_and_checked(net: Net) -> None:
    net.publish(smp=OTHER_SMP)
    uid = net.pki["smp"].certificate.subject.rfc4514_string()
    net.publish(redirect={"href": OTHER_SMP + service_metadata_path(P, D), "certificate_uid": uid})
    result = net.client().lookup(net.request())
    assert result.redirected_to == OTHER_SMP + service_metadata_path(P, D)
    assert result.endpoint_url == "https://ap.example.test/as4"

    net.publish(
        redirect={
            "href": OTHER_SMP + service_metadata_path(P, D),
            "certificate_uid": "CN=someone else",
        }
    )
    with pytest.raises(LookupRefused) as info:
        net.client().lookup(net.request())
    assert info.value.refusal == Refusal.REDIRECT_REFUSED

    net.publish(
        smp=OTHER_SMP,
        redirect={"href": SMP_BASE + service_metadata_path(P, D), "certificate_uid": uid},
    )
    net.publish(redirect={"href": OTHER_SMP + service_metadata_path(P, D), "certificate_uid": uid})
    with pytest.raises(LookupRefused, match="second redirect") as info:
        net.client().lookup(net.request())
    assert info.value.refusal == Refusal.REDIRECT_REFUSED


def _app_refusal_has_reason(variant: str, net: Net) -> bool:
    """Through the lookup app (its answer, not the client, carries the fault)."""
    import warnings

    with warnings.catch_warnings():  # starlette 1.x prefers httpx2 for its TestClient; httpx works
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient

    from harness.peppol.smp.control import lookup_request_json
    from harness.reference.smp import create_lookup_app

    with TestClient(create_lookup_app(variant=variant)) as app:
        answer = app.post(API + "/lookup", json=lookup_request_json(net.request())).json()
    assert answer["outcome"] == "refused"  # nobody is registered
    return "reason" in answer


def _fault_shows(name: str, net: Net, *, good: bool = False) -> bool:
    """Whether lookup variant ``name`` shows its fault (``good``: whether the good lookup does)."""
    client = net.client("good" if good else name)
    if name == "refusal-without-reason":
        return not _app_refusal_has_reason("good" if good else name, net)
    if name == "ignores-redirect-certificate":
        net.publish(smp=OTHER_SMP)
        href = OTHER_SMP + service_metadata_path(P, D)
        net.publish(redirect={"href": href, "certificate_uid": "CN=someone else"})
        try:
            return client.lookup(net.request()).endpoint_url == "https://ap.example.test/as4"
        except LookupRefused:
            return False
    if name == "ignores-redirects":  # the fault: a good redirect is refused, not followed
        net.publish(smp=OTHER_SMP)
        href = OTHER_SMP + service_metadata_path(P, D)
        uid = net.pki["smp"].certificate.subject.rfc4514_string()
        net.publish(redirect={"href": href, "certificate_uid": uid})
        try:
            return client.lookup(net.request()).endpoint_url != "https://ap.example.test/as4"
        except LookupRefused as exc:
            return exc.refusal is Refusal.REDIRECT_REFUSED
    if name == "ignores-activation-dates":
        ep = {"transport_profile": TRANSPORT_AS4_V2, "endpoint_url": "https://ap.example.test/old",
              "service_expiration_date": "2001-01-01T00:00:00Z"}  # fmt: skip
        net.publish(endpoints=[ep])
        try:
            return client.lookup(net.request()).endpoint_url.endswith("/old")
        except LookupRefused:
            return False
    if name == "any-document-type":
        net.publish()
        other = DocumentTypeIdentifier.busdox("urn:x:other-document::1.0")
        try:
            return client.lookup(net.request(document_type=other)).endpoint_url.endswith("/as4")
        except LookupRefused:
            return False
    if name in ("dns-hashes-scheme-and-value", "dns-legacy-md5-cname", "double-encodes-ids"):
        net.publish()
        try:
            client.lookup(net.request())
        except LookupRefused:
            return True
        return False
    if name == "ignores-revocation":
        net.publish(signing="revoked-certificate")
        try:
            return client.lookup(net.request(smp_crls=net.crls())).endpoint_url.endswith("/as4")
        except LookupRefused:
            return False
    signing = {
        "accepts-bad-signature": "corrupt-signature",
        "accepts-wrong-ca": "wrong-ca",
        "accepts-expired-certificate": "expired-certificate",
    }.get(name)
    if signing is not None:
        net.publish(signing=signing)
        try:
            client.lookup(net.request())
        except LookupRefused:
            return False
        return True
    assert name == "ignores-transport-profile"
    net.publish(
        endpoints=[
            {"transport_profile": TRANSPORT_AS2_V2, "endpoint_url": "https://ap.example.test/as2"}
        ]
    )
    try:
        return client.lookup(net.request()).transport_profile == TRANSPORT_AS2_V2
    except LookupRefused:
        return False


@pytest.mark.parametrize("name", sorted(LOOKUP_VARIANTS))
def test_every_lookup_variant_exhibits_its_fault_and_good_does_not(net: Net, name: str) -> None:
    assert _fault_shows(name, net), f"variant {name} did not show its fault"
    net.smps[SMP_BASE].reset()
    net.zone.reset()
    good = _good_shows(name, net)
    assert not good, f"the good lookup shows the fault of {name}"


def _good_shows(name: str, net: Net) -> bool:
    return _fault_shows(name, net, good=True)


def test_bad_signature_variant_still_judges_the_certificate(net: Net) -> None:
    """accepts-bad-signature has ONE fault: an untrusted or expired signer is still refused."""
    client = net.client("accepts-bad-signature")
    net.publish(signing="wrong-ca")
    with pytest.raises(LookupRefused) as info:
        client.lookup(net.request())
    assert info.value.refusal == Refusal.UNTRUSTED_CERTIFICATE
    net.publish(signing="tampered")
    assert client.lookup(net.request()).endpoint_url.endswith("/tampered")  # accepted: the fault
    net.publish(signing="unsigned")
    with pytest.raises(LookupRefused) as info:
        client.lookup(net.request())
    assert info.value.refusal == Refusal.INVALID_METADATA  # no signature at all: schema-invalid


def test_expired_is_judged_at_the_lookup_time(net: Net) -> None:
    net.publish(signing="expired-certificate")
    signer = net.smps[SMP_BASE].credentials.credential("expired-certificate").certificate
    result = net.client().lookup(net.request(at=signer.not_valid_after_utc - timedelta(days=1)))
    assert result.smp_certificate == signer


# -- revocation of the SMP signing certificate (smp_crls) -----------------------------------------


def test_revoked_signer_is_refused_when_crls_are_handed(net: Net) -> None:
    net.publish(signing="revoked-certificate")
    signer = net.smps[SMP_BASE].credentials.credential("revoked-certificate").certificate
    crls = net.crls()
    assert crls[0].get_revoked_certificate_by_serial_number(signer.serial_number) is not None
    with pytest.raises(LookupRefused) as info:
        net.client().lookup(net.request(smp_crls=crls))
    assert info.value.refusal is Refusal.REVOKED_CERTIFICATE
    assert f"serial {signer.serial_number:x}" in str(info.value) and "revoked" in str(info.value)


def test_unrevoked_signer_passes_the_crl_check(net: Net) -> None:
    net.publish()
    result = net.client().lookup(net.request(smp_crls=net.crls()))
    assert result.endpoint_url == "https://ap.example.test/as4"
    assert result.smp_certificate == net.pki["smp"].certificate


def test_without_crls_no_revocation_check_is_made(net: Net) -> None:
    """smp_crls absent: the request says nothing about revocation, so the signer is accepted."""
    net.publish(signing="revoked-certificate")
    assert net.client().lookup(net.request()).endpoint_url == "https://ap.example.test/as4"


def test_ignore_revocation_knob_accepts_a_revoked_signer(net: Net) -> None:
    net.publish(signing="revoked-certificate")
    client = net.client("ignores-revocation")
    assert client.faults.check_revocation is False
    result = client.lookup(net.request(smp_crls=net.crls()))
    assert result.smp_certificate == (
        net.smps[SMP_BASE].credentials.credential("revoked-certificate").certificate
    )
    # its one fault: an untrusted or expired signer is still refused
    for signing, refusal in (
        ("wrong-ca", Refusal.UNTRUSTED_CERTIFICATE),
        ("expired-certificate", Refusal.EXPIRED_CERTIFICATE),
    ):
        net.publish(signing=signing)
        with pytest.raises(LookupRefused) as info:
            client.lookup(net.request(smp_crls=net.crls()))
        assert info.value.refusal is refusal


@pytest.mark.parametrize("which", ["root-crl-only", "crl-of-another-pki", "crl-out-of-date"])
def test_signer_without_a_current_crl_of_its_issuer_is_refused_as_revoked(
    net: Net, which: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Fail closed (the control API's rule): handed CRLs that say nothing current about the
    signer's issuer make its status unknown, which is refused as revoked-certificate."""
    net.publish()
    pki = load_pki(net.pki.directory)
    at: datetime | None = None
    if which == "root-crl-only":
        crls = (pki.crl("root"),)
    elif which == "crl-of-another-pki":  # same issuer name, another key: does not verify
        crls = (init_pki(tmp_path_factory.mktemp("other-pki")).crl("smp-ca"),)
    else:
        crls = (pki.crl("smp-ca"),)
        next_update = crls[0].next_update_utc
        assert next_update is not None
        at = next_update + timedelta(days=1)  # the signer is still valid, the CRL is not current
    with pytest.raises(LookupRefused) as info:
        net.client().lookup(net.request(smp_crls=crls, at=at))
    assert info.value.refusal is Refusal.REVOKED_CERTIFICATE
    assert "revocation status" in str(info.value) and "unknown" in str(info.value)


def test_lookup_app_reads_smp_crls_and_refuses_a_revoked_signer(net: Net) -> None:
    """Through the reference lookup participant's control API (the body carries PEM CRLs)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient

    from harness.peppol.smp.control import lookup_request_json
    from harness.reference.smp import BadRequest, create_lookup_app, lookup_request

    net.publish(signing="revoked-certificate")
    body = lookup_request_json(net.request(smp_crls=net.crls()))
    assert body["smp_crls"][0].startswith("-----BEGIN X509 CRL-----")
    parsed = lookup_request(body)
    assert parsed.smp_crls == net.crls()
    with pytest.raises(BadRequest, match="smp_crls"):
        lookup_request({**body, "smp_crls": ["not a CRL"]})
    with pytest.raises(BadRequest, match="smp_crls"):
        lookup_request({**body, "smp_crls": []})
    with TestClient(create_lookup_app()) as app:
        bad = app.post(API + "/lookup", json={**body, "smp_crls": "x"})
        assert bad.status_code == 400


# -- TLS of the SMP (smp_tls_trust_anchors) --------------------------------------------------------


@contextlib.contextmanager
def https_smp(smp: ReferenceSmp, tls: TlsServerFiles) -> Iterator[str]:
    """Serve ``smp``'s read interface over HTTPS on 127.0.0.1 with ``tls``; yields the base URL."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            raw = self.path.split("?")[0]
            status, media_type, body = smp.read(raw, base)
            smp.record("GET", raw, status)
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.certificate_path, tls.private_key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    base = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """Another test PKI: its root is not a trust anchor of ``pki``."""
    return init_pki(tmp_path_factory.mktemp("other-tls-pki"))


def _publish_at(net: Net, base: str) -> None:
    net.smps[SMP_BASE].publish(
        {"participant": P.uri, "services": [{"document_type": D.uri, "processes": [
            {"process": PROC.uri, "endpoints": [
                {"transport_profile": TRANSPORT_AS4_V2, "endpoint_url": "https://ap.example.test/as4"}
            ]}]}]}
    )  # fmt: skip
    net.zone.register(P, base)


def test_https_smp_trusted_by_the_handed_tls_anchors_is_used(net: Net) -> None:
    tls = issue_tls_server(net.pki.directory, name="client-test-smp")
    with https_smp(net.smps[SMP_BASE], tls) as base, SmpClient() as client:
        _publish_at(net, base)
        anchors = (net.pki.root.certificate,)
        result = client.lookup(net.request(smp_tls_trust_anchors=anchors))
        assert result.endpoint_url == "https://ap.example.test/as4" and result.smp_url == base
        # the connection pool of that anchor set is kept for the next lookup
        assert client.http_for(net.request(smp_tls_trust_anchors=anchors))[1] is False
        assert client.http_for(net.request())[0] is None  # no anchors: the client's own http


def test_smp_whose_tls_certificate_does_not_chain_to_the_anchors_is_refused(
    net: Net, other_pki: TestPki
) -> None:
    """The SMP's TLS certificate is of another PKI's root: no endpoint, ``smp-unavailable`` with
    a message naming TLS -- even though the metadata itself is signed correctly."""
    tls = issue_tls_server(other_pki.directory, name="untrusted-smp")
    with https_smp(net.smps[SMP_BASE], tls) as base, SmpClient() as client:
        _publish_at(net, base)
        with pytest.raises(LookupRefused) as info:
            client.lookup(net.request(smp_tls_trust_anchors=(net.pki.root.certificate,)))
        assert info.value.refusal is Refusal.SMP_UNAVAILABLE
        message = str(info.value)
        assert "TLS" in message and "smp_tls_trust_anchors" in message and base in message
        assert [e.kind for e in info.value.exchanges] == ["dns"]  # no HTTP answer was read
        # the same SMP with its own CA handed as the anchor: found
        found = client.lookup(net.request(smp_tls_trust_anchors=(other_pki.root.certificate,)))
        assert found.endpoint_url == "https://ap.example.test/as4"


def test_smp_whose_tls_certificate_does_not_name_the_host_is_refused(net: Net) -> None:
    tls = issue_tls_server(net.pki.directory, name="localhost-only", hosts=("localhost",))
    with https_smp(net.smps[SMP_BASE], tls) as base, SmpClient() as client:
        _publish_at(net, base)  # https://127.0.0.1:PORT: the certificate names only localhost
        with pytest.raises(LookupRefused) as info:
            client.lookup(net.request(smp_tls_trust_anchors=(net.pki.root.certificate,)))
        assert info.value.refusal is Refusal.SMP_UNAVAILABLE and "TLS" in str(info.value)


def test_without_tls_anchors_the_system_trust_store_decides(net: Net) -> None:
    """No ``smp_tls_trust_anchors``: the client's usual HTTPS verification, which does not know
    the test PKI's root."""
    tls = issue_tls_server(net.pki.directory, name="client-test-smp")
    with https_smp(net.smps[SMP_BASE], tls) as base, SmpClient() as client:
        _publish_at(net, base)
        with pytest.raises(LookupRefused) as info:
            client.lookup(net.request())
        assert info.value.refusal is Refusal.SMP_UNAVAILABLE and "TLS" in str(info.value)


def test_plain_http_smp_is_still_followed_with_tls_anchors(net: Net) -> None:
    """SML 1.3.0 2.1.1 puts the https rule on the record, not on the client: an http URL the
    SML gives is followed (the harness never fails an AP for that)."""
    net.publish()
    result = net.client().lookup(net.request(smp_tls_trust_anchors=(net.pki.root.certificate,)))
    assert result.endpoint_url == "https://ap.example.test/as4"


def test_lookup_app_reads_smp_tls_trust_anchors(net: Net, other_pki: TestPki) -> None:
    """Through the reference lookup participant's control API (the body carries PEM
    certificates), an untrusted TLS certificate is answered as a refusal naming TLS."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient

    from harness.peppol.smp.control import lookup_request_json
    from harness.reference.smp import BadRequest, create_lookup_app, lookup_request

    anchors = (net.pki.root.certificate,)
    body = lookup_request_json(net.request(smp_tls_trust_anchors=anchors))
    assert body["smp_tls_trust_anchors"][0].startswith("-----BEGIN CERTIFICATE-----")
    assert lookup_request(body).smp_tls_trust_anchors == anchors
    assert lookup_request({k: v for k, v in body.items() if k != "smp_tls_trust_anchors"}
                          ).smp_tls_trust_anchors is None  # fmt: skip
    for bad in (["not a certificate"], [], "x"):
        with pytest.raises(BadRequest, match="smp_tls_trust_anchors"):
            lookup_request({**body, "smp_tls_trust_anchors": bad})
    tls = issue_tls_server(other_pki.directory, name="untrusted-smp")
    with https_smp(net.smps[SMP_BASE], tls) as base, TestClient(create_lookup_app()) as app:
        _publish_at(net, base)
        answer = app.post(API + "/lookup", json=body).json()
    assert answer["outcome"] == "refused" and answer["reason"] == "smp-unavailable"
    assert "TLS" in answer["message"]
