"""The reference SMP app in-process: read interface, publish API, signing choices, and that every
known-bad SMP variant exhibits its one fault."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

with warnings.catch_warnings():  # starlette 1.x prefers httpx2 for its TestClient; httpx works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from harness.errors import ConfigError
from harness.peppol.smp.errors import SignatureError
from harness.peppol.smp.identifiers import (
    BIS_BILLING_INVOICE,
    BIS_BILLING_PROCESS,
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
    double_encode,
    service_group_path,
    service_metadata_path,
)
from harness.peppol.smp.signing import SignatureProblem, TrustAnchors, verify_enveloped
from harness.peppol.smp.smp_xml import (
    TRANSPORT_AS4_V2,
    parse_document,
    read_service_group,
    read_service_metadata,
    validate,
)
from harness.pki import TestPki, init_pki, load_pki, pki_crl_checker
from harness.reference.smp import create_app
from harness.reference.smp_variants import SMP_VARIANTS

P = ParticipantIdentifier.peppol("0195:T08GB0001A")
D = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
PROC = ProcessIdentifier.cenbii(BIS_BILLING_PROCESS)
API = "/conformance/v1/peppol-smp"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return init_pki(tmp_path_factory.mktemp("pki"))


def client_for(pki: TestPki, variant: str | None = None, token: str | None = None) -> TestClient:
    return TestClient(
        create_app(variant=variant, token=token, pki_dir=pki.directory), base_url="http://smp.test"
    )


@pytest.fixture
def smp(pki: TestPki) -> Iterator[TestClient]:
    with client_for(pki) as c:
        yield c


def publish(
    c: TestClient,
    participant: ParticipantIdentifier = P,
    *,
    signing: str = "smp",
    document: DocumentTypeIdentifier = D,
    **endpoint: str,
) -> None:
    ep = {
        "transport_profile": TRANSPORT_AS4_V2,
        "endpoint_url": "https://ap.example.test/as4",
        **endpoint,
    }
    r = c.post(
        f"{API}/participants",
        json={
            "participant": participant.uri,
            "services": [
                {
                    "document_type": document.uri,
                    "signing": signing,
                    "processes": [{"process": PROC.uri, "endpoints": [ep]}],
                }
            ],
        },
    )
    assert r.status_code == 201, r.text


def smp_trust(pki: TestPki) -> TrustAnchors:
    return TrustAnchors((pki.authority("smp-ca").certificate,))


def test_published_metadata_is_served_signed_valid_and_referenced(
    smp: TestClient, pki: TestPki
) -> None:
    publish(smp)
    group = smp.get(service_group_path(P))
    assert group.status_code == 200 and group.headers["content-type"].startswith("text/xml")
    root = parse_document(group.content, name="sg")
    assert validate(root) == ()
    sg = read_service_group(root)
    assert sg.participant == P
    assert sg.references == ("http://smp.test" + service_metadata_path(P, D),)

    md = smp.get(service_metadata_path(P, D))
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/xml")
    root = parse_document(md.content, name="ssm")
    assert validate(root) == ()
    verified = verify_enveloped(root, smp_trust(pki))
    assert verified.certificate == pki["smp"].certificate
    info = read_service_metadata(verified.signed_root).information
    assert info is not None and info.participant == P and info.document_type == D
    (endpoint,) = info.processes[0].endpoints
    assert endpoint.endpoint_uri == "https://ap.example.test/as4"
    assert endpoint.certificate == pki["ap"].certificate.public_bytes(Encoding.DER)


def test_case_rules_404s_and_double_encoding(smp: TestClient) -> None:
    publish(smp)
    lower = ParticipantIdentifier.peppol("0195:t08gb0001a")
    assert smp.get(service_group_path(lower)).status_code == 200
    assert smp.get(service_metadata_path(lower, D)).status_code == 200
    other_case_doc = DocumentTypeIdentifier.busdox(
        BIS_BILLING_INVOICE.replace("Invoice-2::Invoice", "INVOICE-2::Invoice")
    )
    assert smp.get(service_metadata_path(P, other_case_doc)).status_code == 404
    assert (
        smp.get(service_group_path(ParticipantIdentifier.peppol("0195:UNKNOWN"))).status_code == 404
    )
    assert smp.get("/" + double_encode(P)).status_code == 404
    assert smp.get(f"/{double_encode(P)}/services/{double_encode(D)}").status_code == 404
    assert smp.get("/not-an-identifier").status_code == 400
    assert smp.post(service_group_path(P)).status_code == 405
    log = smp.get(f"{API}/requests").json()["requests"]
    assert [e["status"] for e in log][-3:] == [404, 400, 405]


def test_awkward_values_keep_their_characters(smp: TestClient) -> None:
    """Every character PFUOI 4.4.0 POLICY 1 allows in a participant value, and a document type
    with ``/ # % ? & = + ; @`` in its customization id, come back exactly."""
    from harness.peppol.smp.scenarios import AWKWARD_DOCUMENT

    awkward = ParticipantIdentifier.peppol("0088:A.b~c_d-E")
    publish(smp, awkward, document=AWKWARD_DOCUMENT)
    r = smp.get(service_metadata_path(awkward, AWKWARD_DOCUMENT))
    assert r.status_code == 200
    info = read_service_metadata(parse_document(r.content, name="x")).information
    assert info is not None and info.participant.value == "0088:A.b~c_d-E"
    assert info.document_type == AWKWARD_DOCUMENT


def test_delete_and_reset(smp: TestClient) -> None:
    publish(smp)
    assert smp.delete(f"{API}/participants/{service_group_path(P)[1:]}").status_code == 204
    assert smp.get(service_group_path(P)).status_code == 404
    assert smp.delete(f"{API}/participants/{service_group_path(P)[1:]}").status_code == 404
    publish(smp)
    assert smp.post(f"{API}/reset").status_code == 204
    assert smp.get(service_group_path(P)).status_code == 404


def test_unpublish_answers_follow_the_control_api(pki: TestPki) -> None:
    """204, then 404 for the removed participant (ServiceGroup and metadata too), 401 without the
    token; an identifier with ``: . ~ _ -`` is one percent-encoded segment."""
    from harness.drivers import control_api
    from harness.drivers.smp import SMP_UNPUBLISH

    awkward = ParticipantIdentifier.peppol("0088:A.b~c_d-E")
    auth = {"Authorization": "Bearer s3cret"}
    with client_for(pki, token="s3cret") as c:
        c.headers.update(auth)
        for participant in (P, awkward):
            publish(c, participant)
            path = SMP_UNPUBLISH.replace("{participant}", service_group_path(participant)[1:])
            denied = c.delete(path, headers={"Authorization": "Bearer wrong"})
            gone = c.delete(path)
            again = c.delete(path)
            for r, status in ((denied, 401), (gone, 204), (again, 404)):
                assert r.status_code == status, r.text
                ctype = r.headers.get("content-type")
                assert (
                    control_api.response_problem("DELETE", SMP_UNPUBLISH, status, ctype, r.content)
                    is None
                )
            assert c.get(service_group_path(participant)).status_code == 404
            assert c.get(service_metadata_path(participant, D)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"participant": "nope"},
        {"participant": P.uri, "services": [{"document_type": D.uri}]},
        {
            "participant": P.uri,
            "services": [{"document_type": D.uri, "signing": "weird", "processes": []}],
        },
        {
            "participant": P.uri,
            "services": [
                {
                    "document_type": D.uri,
                    "processes": [{"process": PROC.uri, "endpoints": [{"transport_profile": "x"}]}],
                }
            ],
        },
        {
            "participant": P.uri,
            "services": [
                {
                    "document_type": D.uri,
                    "processes": [
                        {
                            "process": PROC.uri,
                            "endpoints": [
                                {
                                    "transport_profile": "x",
                                    "endpoint_url": "u",
                                    "certificate": "not a cert",
                                }
                            ],
                        }
                    ],
                }
            ],
        },
    ],
)
def test_malformed_publications_are_400_problems(smp: TestClient, body: object) -> None:
    r = smp.post(f"{API}/participants", json=body)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("signing", "problem"),
    [
        ("unsigned", SignatureProblem.MISSING),
        ("corrupt-signature", SignatureProblem.INVALID),
        ("tampered", SignatureProblem.INVALID),
        ("expired-certificate", SignatureProblem.EXPIRED),
        ("wrong-ca", SignatureProblem.UNTRUSTED),
        ("ap-certificate", SignatureProblem.UNTRUSTED),
    ],
)
def test_signing_choices_give_the_named_wrong_metadata(
    smp: TestClient, pki: TestPki, signing: str, problem: SignatureProblem
) -> None:
    publish(smp, signing=signing)
    r = smp.get(service_metadata_path(P, D))
    with pytest.raises(SignatureError) as info:
        verify_enveloped(parse_document(r.content, name="x"), smp_trust(pki))
    assert info.value.reason == problem


def test_revoked_certificate_signing_is_caught_only_by_a_revocation_check(
    smp: TestClient, pki: TestPki
) -> None:
    """``revoked-certificate``: a valid signature by a valid SMP certificate of the SMP CA ...
    that the SMP CA's CRL lists."""
    publish(smp, signing="revoked-certificate")
    root = parse_document(smp.get(service_metadata_path(P, D)).content, name="x")
    verified = verify_enveloped(root, smp_trust(pki))  # no revocation check: accepted
    entry = load_pki(pki.directory)["reference-smp-revoked"]
    assert verified.certificate == entry.certificate and entry.revoked
    with pytest.raises(SignatureError) as info:
        verify_enveloped(
            root, smp_trust(pki), check_revocation=pki_crl_checker(load_pki(pki.directory))
        )
    assert info.value.reason == SignatureProblem.REVOKED


def test_prepared_pki_is_never_written_by_the_smp(tmp_path: Path) -> None:
    """prepare_pki issues every faulty certificate (the revoked one too): signing with each of
    them leaves the PKI directory as it was (a container mounts it read-only)."""
    from harness.pki.store import manifest_digest
    from harness.reference.smp import FAULTY_SMP_CERTIFICATES, prepare_pki

    init_pki(tmp_path)
    prepare_pki(tmp_path)
    before = manifest_digest(tmp_path)
    crl_before = load_pki(tmp_path).crl_path("smp-ca").read_bytes()
    with client_for(load_pki(tmp_path)) as c:
        for choice in FAULTY_SMP_CERTIFICATES:
            publish(c, signing=choice)
            assert c.get(service_metadata_path(P, D)).status_code == 200
    assert manifest_digest(tmp_path) == before
    assert load_pki(tmp_path).crl_path("smp-ca").read_bytes() == crl_before
    revoked = (
        load_pki(tmp_path)
        .crl("smp-ca")
        .get_revoked_certificate_by_serial_number(
            load_pki(tmp_path)[FAULTY_SMP_CERTIFICATES["revoked-certificate"].name].serial_number
        )
    )
    assert revoked is not None


def test_trust_and_token(pki: TestPki) -> None:
    with client_for(pki, token="s3cret") as c:
        assert c.get("/conformance/v1/health").status_code == 200
        assert c.get(f"{API}/trust").status_code == 401
        trust = c.get(f"{API}/trust", headers={"Authorization": "Bearer s3cret"}).json()
        assert "BEGIN CERTIFICATE" in trust["smp_ca"]
        assert trust["certificate_uid"] == pki["smp"].certificate.subject.rfc4514_string()
        assert c.get(service_group_path(P)).status_code == 404  # reads stay anonymous


def test_unknown_variant_is_a_config_error(pki: TestPki) -> None:
    with pytest.raises(ConfigError, match="unknown variant"):
        create_app(variant="nope", pki_dir=pki.directory)


def _publish_raw(
    c: TestClient, participant: ParticipantIdentifier, service: dict[str, object]
) -> int:
    body = {"participant": participant.uri, "services": [{"document_type": D.uri, **service}]}
    return c.post(f"{API}/participants", json=body).status_code


def _new_fault_observed(name: str, c: TestClient) -> bool:
    """The variants added with the peppol-smp suites (one fault each)."""
    ep = {"transport_profile": TRANSPORT_AS4_V2, "endpoint_url": "https://ap.example.test/as4"}
    if name == "publish-answers-text":
        r = c.post(
            f"{API}/participants",
            json={
                "participant": P.uri,
                "services": [
                    {
                        "document_type": D.uri,
                        "processes": [{"process": PROC.uri, "endpoints": [ep]}],
                    }
                ],
            },
        )
        return r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    if name == "case-insensitive-document-types":
        publish(c)
        other = DocumentTypeIdentifier(D.scheme, D.value.swapcase())
        return c.get(service_metadata_path(P, other)).status_code == 200
    if name == "drops-service-dates":
        publish(c, service_expiration_date="2999-01-01T00:00:00Z")
        md = read_service_metadata(
            parse_document(c.get(service_metadata_path(P, D)).content, name="x")
        )
        assert md.information is not None
        return md.information.processes[0].endpoints[0].service_expiration_date is None
    if name == "http-redirect":
        href = "http://other-smp.test" + service_metadata_path(P, D)
        assert _publish_raw(c, P, {"redirect": {"href": href, "certificate_uid": "CN=x"}}) == 201
        r = c.get(service_metadata_path(P, D), follow_redirects=False)
        return r.status_code == 301 and r.headers.get("location") == href
    if name == "plain-http-references":  # asked over HTTPS, the references must be https too
        publish(c)
        group = c.get("https://smp.test" + service_group_path(P))
        (href,) = read_service_group(parse_document(group.content, name="sg")).references
        return href.startswith("http://")
    if name == "unpublish-keeps-serving":
        publish(c)
        gone = c.delete(f"{API}/participants/{service_group_path(P)[1:]}")
        return gone.status_code == 204 and c.get(service_metadata_path(P, D)).status_code == 200
    assert name == "decodes-path-twice"
    from harness.peppol.smp.scenarios import AWKWARD_DOCUMENT  # its customization holds "%25"

    publish(c, document=AWKWARD_DOCUMENT)
    return c.get(service_metadata_path(P, AWKWARD_DOCUMENT)).status_code == 404


NEW_SMP_VARIANTS = frozenset(
    {"publish-answers-text", "case-insensitive-document-types", "drops-service-dates",
     "http-redirect", "decodes-path-twice", "plain-http-references", "unpublish-keeps-serving"}
)  # fmt: skip


def _fault_observed(name: str, c: TestClient, pki: TestPki) -> bool:
    """Whether variant ``name`` shows its own fault (a check per variant, written from its spec)."""
    if name in NEW_SMP_VARIANTS:
        return _new_fault_observed(name, c)
    publish(c)
    group = c.get(service_group_path(P))
    md = c.get(service_metadata_path(P, D))
    if name == "case-sensitive-participants":
        return (
            c.get(service_group_path(ParticipantIdentifier.peppol("0195:t08gb0001a"))).status_code
            == 404
        )
    if name == "double-encoded-references":
        (href,) = read_service_group(parse_document(group.content, name="sg")).references
        return "%253A" in href and c.get(href.removeprefix("http://smp.test")).status_code == 404
    if name == "wrong-content-type":
        return not md.headers["content-type"].startswith(("text/xml", "application/xml"))
    if name == "no-xml-declaration":  # the body has no declaration; the signature still holds
        verify_enveloped(parse_document(md.content, name="x"), smp_trust(pki))
        return md.status_code == 200 and md.content.lstrip().startswith(b"<") and not (
            md.content.startswith(b"<?xml")
        )
    if name == "no-404-for-unknown-participant":
        return (
            c.get(service_group_path(ParticipantIdentifier.peppol("0195:NOBODY"))).status_code
            == 200
        )
    if name == "schema-order":
        root = parse_document(md.content, name="x")
        verify_enveloped(root, smp_trust(pki))  # the signature is fine ...
        return validate(root) != ()  # ... the schema is not
    if name == "revoked-signing-certificate":
        root = parse_document(md.content, name="x")
        verify_enveloped(root, smp_trust(pki))  # signature, chain and validity are fine ...
        try:  # ... the SMP CA's CRL lists the signer
            verify_enveloped(
                root, smp_trust(pki), check_revocation=pki_crl_checker(load_pki(pki.directory))
            )
        except SignatureError as exc:
            return exc.reason == SignatureProblem.REVOKED
        return False
    problem = {
        "unsigned-metadata": SignatureProblem.MISSING,
        "corrupt-signature": SignatureProblem.INVALID,
        "wrong-signing-certificate": SignatureProblem.UNTRUSTED,
        "expired-signing-certificate": SignatureProblem.EXPIRED,
    }[name]
    try:
        verify_enveloped(parse_document(md.content, name="x"), smp_trust(pki))
    except SignatureError as exc:
        return exc.reason == problem
    return False


@pytest.mark.parametrize("name", sorted(SMP_VARIANTS))
def test_every_smp_variant_exhibits_its_fault_and_good_does_not(name: str, pki: TestPki) -> None:
    with client_for(pki, variant=name) as bad:
        assert _fault_observed(name, bad, pki), f"variant {name} did not show its fault"
    with client_for(pki) as good:
        assert not _fault_observed(name, good, pki), f"the good SMP shows the fault of {name}"
