"""SMP documents: builders are schema-valid, signatures verify (here and with xmlsec1), faults fail
the way they are named, parsers refuse what the SMP specification does not allow."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from harness.peppol.smp.errors import SignatureError, SmpDocumentError
from harness.peppol.smp.identifiers import (
    BIS_BILLING_INVOICE,
    BIS_BILLING_PROCESS,
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
)
from harness.peppol.smp.signing import (
    C14N_10,
    C14N_11,
    EXC_C14N,
    SignatureProblem,
    SigningCredential,
    TrustAnchors,
    profile_deviations,
    verify_enveloped,
)
from harness.peppol.smp.smp_xml import (
    SMP_NS,
    TRANSPORT_AS4_V2,
    Endpoint,
    MetadataFault,
    Process,
    Redirect,
    ServiceGroup,
    ServiceInformation,
    ServiceMetadata,
    build_service_group,
    build_signed_service_metadata,
    parse_document,
    parse_service_group,
    parse_signed_service_metadata,
    read_service_metadata,
    validate,
)
from harness.pki import TestPki, init_pki, load_pki, load_private_key

PARTICIPANT = ParticipantIdentifier.peppol("0195:T08GB0001A")
DOCUMENT = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
PROCESS = ProcessIdentifier.cenbii(BIS_BILLING_PROCESS)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    pki = init_pki(tmp_path_factory.mktemp("pki"))
    pki.issue("smp", "smp-expired", expired=True)
    pki.issue("smp", "smp-wrong-ca", wrong_ca=True)
    return load_pki(pki.directory)  # a TestPki is a snapshot: load again to see the new leaves


def credential(pki: TestPki, name: str) -> SigningCredential:
    cert = pki[name]
    return SigningCredential(load_private_key(cert), cert.certificate, cert.chain[:-1])


def smp_trust(pki: TestPki) -> TrustAnchors:
    return TrustAnchors((pki.authority("smp-ca").certificate,))


def metadata(pki: TestPki) -> ServiceMetadata:
    ap = pki["ap"].certificate.public_bytes(serialization.Encoding.DER)
    endpoint = Endpoint(
        TRANSPORT_AS4_V2,
        "https://ap.example.test/as4",
        ap,
        service_activation_date=datetime(2026, 1, 1, tzinfo=UTC),
        service_expiration_date=datetime(2036, 1, 1, tzinfo=UTC),
        technical_information_url="https://ap.example.test/info",
    )
    return ServiceMetadata(
        ServiceInformation(PARTICIPANT, DOCUMENT, (Process(PROCESS, (endpoint,)),))
    )


def test_service_group_is_schema_valid_and_round_trips() -> None:
    group = ServiceGroup(
        PARTICIPANT, ("http://smp.test/a/services/b", "http://smp.test/a/services/c")
    )
    data = build_service_group(group)
    assert validate(parse_document(data, name="sg")) == ()
    assert parse_service_group(data) == group


@pytest.mark.parametrize("c14n", [EXC_C14N, C14N_10, C14N_11])
def test_signed_metadata_is_schema_valid_verifies_and_round_trips(pki: TestPki, c14n: str) -> None:
    md = metadata(pki)
    data = build_signed_service_metadata(md, credential(pki, "smp"), c14n=c14n)
    root = parse_document(data, name="ssm")
    assert validate(root) == ()
    verified = verify_enveloped(root, smp_trust(pki))
    assert verified.certificate == pki["smp"].certificate
    assert verified.c14n == c14n and verified.tolerated == ()
    assert verified.chain[-1] == pki.authority("smp-ca").certificate
    assert read_service_metadata(verified.signed_root) == md


def test_default_signature_follows_the_smp_1_4_profile_exactly(pki: TestPki) -> None:
    """SMP 1.4.0 5.5.1: inclusive C14N, exactly one transform (enveloped), RSA-SHA256, SHA-256."""
    root = parse_document(
        build_signed_service_metadata(metadata(pki), credential(pki, "smp")), name="ssm"
    )
    assert profile_deviations(root) == []
    sig = root[-1]
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    assert sig.xpath("ds:SignedInfo/ds:CanonicalizationMethod/@Algorithm", namespaces=ns) == [C14N_10]
    assert sig.xpath("ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform/@Algorithm", namespaces=ns) == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    ]
    assert verify_enveloped(root, smp_trust(pki)).c14n == C14N_10


@pytest.mark.parametrize("c14n", [EXC_C14N, C14N_11])
def test_other_canonicalizations_verify_but_deviate_from_the_profile(pki: TestPki, c14n: str) -> None:
    root = parse_document(
        build_signed_service_metadata(metadata(pki), credential(pki, "smp"), c14n=c14n), name="ssm"
    )
    verify_enveloped(root, smp_trust(pki))  # a relying party may accept it ...
    problems = profile_deviations(root)  # ... but an SMP that signs so breaks SMP 1.4.0 5.5.1
    assert any("CanonicalizationMethod" in p and c14n in p for p in problems), problems
    assert any("exactly one" in p for p in problems), problems


def test_profile_deviations_of_an_unsigned_document(pki: TestPki) -> None:
    root = parse_document(
        build_signed_service_metadata(metadata(pki), None, fault=MetadataFault.UNSIGNED), name="u"
    )
    assert profile_deviations(root) == ["0 ds:Signature elements; the profile has exactly one (enveloped)"]


def test_redirect_is_schema_valid(pki: TestPki) -> None:
    md = ServiceMetadata(Redirect("https://other-smp.test/x/services/y", "CN=PSG000009"))
    data = build_signed_service_metadata(md, credential(pki, "smp"))
    root = parse_document(data, name="redirect")
    assert validate(root) == ()
    assert read_service_metadata(verify_enveloped(root, smp_trust(pki)).signed_root) == md


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        (MetadataFault.UNSIGNED, SignatureProblem.MISSING),
        (MetadataFault.TAMPERED_AFTER_SIGNING, SignatureProblem.INVALID),
        (MetadataFault.CORRUPT_SIGNATURE_VALUE, SignatureProblem.INVALID),
    ],
)
def test_each_fault_fails_verification_for_its_reason(
    pki: TestPki, fault: MetadataFault, problem: SignatureProblem
) -> None:
    data = build_signed_service_metadata(metadata(pki), credential(pki, "smp"), fault=fault)
    with pytest.raises(SignatureError) as info:
        verify_enveloped(parse_document(data, name="ssm"), smp_trust(pki))
    assert info.value.reason == problem


@pytest.mark.parametrize(
    ("signer", "problem"),
    [
        ("smp-expired", SignatureProblem.EXPIRED),
        ("smp-wrong-ca", SignatureProblem.UNTRUSTED),
        ("ap", SignatureProblem.UNTRUSTED),
    ],
)
def test_signer_must_be_valid_and_chain_to_the_smp_ca(
    pki: TestPki, signer: str, problem: SignatureProblem
) -> None:
    data = build_signed_service_metadata(metadata(pki), credential(pki, signer))
    root = parse_document(data, name="ssm")
    with pytest.raises(SignatureError) as info:
        verify_enveloped(root, smp_trust(pki))
    assert info.value.reason == problem
    # the lenient knobs tolerate exactly that problem, and record it
    lenient = verify_enveloped(
        root,
        smp_trust(pki),
        check_validity_period=problem is not SignatureProblem.EXPIRED,
        check_trust=problem is not SignatureProblem.UNTRUSTED,
    )
    assert lenient.tolerated == (problem,)


def test_expired_is_judged_at_the_given_time(pki: TestPki) -> None:
    data = build_signed_service_metadata(metadata(pki), credential(pki, "smp-expired"))
    cert = pki["smp-expired"].certificate
    inside = cert.not_valid_before_utc + timedelta(days=1)
    verified = verify_enveloped(parse_document(data, name="ssm"), smp_trust(pki), at=inside)
    assert verified.certificate == cert


def test_signature_wrapping_cannot_smuggle_an_endpoint(pki: TestPki) -> None:
    """A second ServiceMetadata appended after signing: the verifier reads only signed content."""
    from lxml import etree

    data = build_signed_service_metadata(metadata(pki), credential(pki, "smp"))
    root = etree.fromstring(data)
    evil = etree.SubElement(root, f"{{{SMP_NS}}}ServiceMetadata")
    root.insert(0, evil)
    with pytest.raises(SignatureError):
        verify_enveloped(root, smp_trust(pki))


def test_unofficial_extension_elements_are_refused_as_documents() -> None:
    doc = f'<CompleteServiceGroup xmlns="{SMP_NS}"/>'.encode()
    errors = validate(parse_document(doc, name="x"))
    assert errors and "not an official" in errors[0]


def test_parsers_refuse_doctype_and_wrong_documents(pki: TestPki) -> None:
    with pytest.raises(SmpDocumentError, match="DOCTYPE"):
        parse_service_group(b'<!DOCTYPE x [<!ENTITY e "x">]><ServiceGroup/>')
    data = build_service_group(ServiceGroup(PARTICIPANT))
    with pytest.raises(SmpDocumentError, match="SignedServiceMetadata"):
        parse_signed_service_metadata(data)


def test_schema_catches_wrong_element_order(pki: TestPki) -> None:
    from lxml import etree

    root = etree.fromstring(
        build_signed_service_metadata(metadata(pki), None, fault=MetadataFault.UNSIGNED)
    )
    endpoint = root.find(f".//{{{SMP_NS}}}Endpoint")
    assert endpoint is not None
    cert = endpoint.find(f"{{{SMP_NS}}}Certificate")
    desc = endpoint.find(f"{{{SMP_NS}}}ServiceDescription")
    assert cert is not None and desc is not None
    cert.addprevious(desc)  # ServiceDescription before Certificate
    errors = validate(root)
    assert errors and "ServiceDescription" in " ".join(errors)


XMLSEC1 = shutil.which("xmlsec1")


@pytest.mark.skipif(
    XMLSEC1 is None, reason="xmlsec1 not installed (Debian: apt-get install xmlsec1)"
)
@pytest.mark.parametrize("c14n", [None, EXC_C14N])
def test_xmlsec1_verifies_our_signature_against_the_smp_ca(
    pki: TestPki, tmp_path: Path, c14n: str
) -> None:
    """An independent verifier (xmlsec1/libxmlsec, OpenSSL) accepts the signature and the chain."""
    doc = tmp_path / "ssm.xml"
    doc.write_bytes(build_signed_service_metadata(metadata(pki), credential(pki, "smp"), c14n=c14n))
    ca = tmp_path / "smp-ca.pem"
    ca.write_bytes(pki.authority("smp-ca").certificate.public_bytes(serialization.Encoding.PEM))
    ok = _xmlsec1(doc, ca, root=pki.root.certificate_path)
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout + ok.stderr

    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(
        build_signed_service_metadata(
            metadata(pki),
            credential(pki, "smp"),
            c14n=c14n,
            fault=MetadataFault.TAMPERED_AFTER_SIGNING,
        )
    )
    bad = _xmlsec1(tampered, ca, root=pki.root.certificate_path)
    assert bad.returncode != 0 and "FAIL" in bad.stdout + bad.stderr


@pytest.mark.skipif(
    XMLSEC1 is None, reason="xmlsec1 not installed (Debian: apt-get install xmlsec1)"
)
def test_xmlsec1_refuses_a_wrong_ca_signer(pki: TestPki, tmp_path: Path) -> None:
    doc = tmp_path / "ssm.xml"
    doc.write_bytes(build_signed_service_metadata(metadata(pki), credential(pki, "smp-wrong-ca")))
    ca = tmp_path / "smp-ca.pem"
    ca.write_bytes(pki.authority("smp-ca").certificate.public_bytes(serialization.Encoding.PEM))
    refused = _xmlsec1(doc, ca, root=pki.root.certificate_path)
    assert refused.returncode != 0 and "certificate verification failed" in refused.stderr


def _xmlsec1(doc: Path, smp_ca: Path, *, root: Path) -> subprocess.CompletedProcess[str]:
    """``xmlsec1 --verify``: the test root trusted, the SMP CA given as an untrusted intermediate
    (OpenSSL builds the path to a self-signed anchor)."""
    assert XMLSEC1 is not None
    return subprocess.run(
        [
            XMLSEC1,
            "--verify",
            "--enabled-reference-uris",
            "empty",
            "--trusted-pem",
            str(root),
            "--untrusted-pem",
            str(smp_ca),
            str(doc),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
