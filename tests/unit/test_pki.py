"""The test PKI: Peppol-shaped hierarchy, files, idempotence, faulty certificates, verify_chain."""

from __future__ import annotations

import json
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from harness.pki import (
    CertificateKind,
    ChainFailure,
    Fault,
    PkiError,
    RevocationReason,
    RevocationStatus,
    TestPki,
    crl_checker,
    init_pki,
    issue,
    load_pki,
    load_private_key,
    pki_crl_checker,
    refresh_crls,
    revoke,
    verify_chain,
)

SEAT_ID = re.compile(r"^P[A-Z]{2}[0-9]{6}$")
NEGATIVE = {
    "expired": ({"expired": True}, ChainFailure.EXPIRED),
    "not-yet-valid": ({"not_yet_valid": True}, ChainFailure.NOT_YET_VALID),
    "revoked": ({"revoked": True}, ChainFailure.REVOKED),
    "wrong-ca": ({"wrong_ca": True}, ChainFailure.UNKNOWN_CA),
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """One PKI for the read-only tests of this module, with every negative kind issued."""
    directory = tmp_path_factory.mktemp("pki")
    init_pki(directory)
    for kind in ("ap", "smp"):
        for fault, (options, _) in NEGATIVE.items():
            issue(directory, kind, f"{kind}-{fault}", **options)  # type: ignore[arg-type]
    return load_pki(directory)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PKI the issuing/revoking tests change (each under its own certificate names)."""
    directory = tmp_path_factory.mktemp("scratch")
    init_pki(directory)
    return directory


def attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    assert len(values) == 1, f"{name.rfc4514_string()} has {len(values)} {oid._name}"
    return str(values[0].value)


def key_usage(cert: x509.Certificate) -> set[str]:
    ext = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ext.critical
    ku = ext.value
    bits = {
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    }
    return {bit for bit in bits if getattr(ku, bit)}


def basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints:
    ext = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert ext.critical
    return ext.value


# -- shape ----------------------------------------------------------------------------------


def test_hierarchy_is_root_with_ap_and_smp_issuing_cas(pki: TestPki) -> None:
    root, ap_ca, smp_ca = (pki.authority(n).certificate for n in ("root", "ap-ca", "smp-ca"))
    assert attr(root.subject, NameOID.COMMON_NAME) == "Harness Test Root CA"
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    for ca, cn in ((ap_ca, "Harness Test AP CA"), (smp_ca, "Harness Test SMP CA")):
        assert attr(ca.subject, NameOID.COMMON_NAME) == cn
        assert ca.issuer == root.subject
        ca.verify_directly_issued_by(root)
        assert attr(ca.subject, NameOID.ORGANIZATIONAL_UNIT_NAME) == "FOR TEST ONLY"
    assert basic_constraints(root).ca and basic_constraints(root).path_length == 1
    for ca in (ap_ca, smp_ca):
        assert basic_constraints(ca).ca and basic_constraints(ca).path_length == 0
    for ca in (root, ap_ca, smp_ca):
        assert key_usage(ca) == {"key_cert_sign", "crl_sign"}
    assert pki.trust_anchors == (root,)
    assert set(pki.intermediates) == {ap_ca, smp_ca}
    assert set(pki.certificates) == {"ap", "smp", "participant-ap", "participant-smp"} | {
        f"{k}-{f}" for k in ("ap", "smp") for f in NEGATIVE
    }


@pytest.mark.parametrize(
    ("name", "issuer", "unit", "usages", "seat"),
    [
        ("ap", "ap-ca", "HARNESS TEST AP", {"digital_signature", "key_encipherment"}, "PSG000001"),
        ("smp", "smp-ca", "HARNESS TEST SMP", {"digital_signature"}, "PSG000001"),
        (
            "participant-ap",
            "ap-ca",
            "HARNESS TEST AP",
            {"digital_signature", "key_encipherment"},
            "PSG000002",
        ),
        ("participant-smp", "smp-ca", "HARNESS TEST SMP", {"digital_signature"}, "PSG000002"),
    ],
)
def test_leaf_has_peppol_subject_key_usage_and_issuer(
    pki: TestPki, name: str, issuer: str, unit: str, usages: set[str], seat: str
) -> None:
    entry = pki[name]
    cert = entry.certificate
    assert attr(cert.subject, NameOID.COMMON_NAME) == seat == entry.common_name
    assert SEAT_ID.match(seat)
    assert attr(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME) == unit
    assert attr(cert.subject, NameOID.COUNTRY_NAME) == "SG"
    assert attr(cert.subject, NameOID.ORGANIZATION_NAME)
    assert key_usage(cert) == usages
    assert basic_constraints(cert).ca is False
    assert entry.issuer == issuer and cert.issuer == pki.authority(issuer).certificate.subject
    cert.verify_directly_issued_by(pki.authority(issuer).certificate)
    assert entry.chain == (pki.authority(issuer).certificate, pki.root.certificate)
    public_key = cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 2048
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    now = datetime.now(UTC)
    assert entry.not_before <= now < entry.not_after
    assert timedelta(days=729) < entry.not_after - entry.not_before <= timedelta(days=731)
    # AKI of the leaf is the SKI of its issuer
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = (
        pki.authority(issuer)
        .certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        .value
    )
    assert aki.key_identifier == ski.digest


def test_ocsp_responders_are_delegated_by_their_ca(pki: TestPki) -> None:
    assert set(pki.responders) == {"ap-ca", "smp-ca"}
    for ca, responder in pki.responders.items():
        cert = responder.certificate
        cert.verify_directly_issued_by(pki.authority(ca).certificate)
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.OCSP_SIGNING]
        cert.extensions.get_extension_for_class(x509.OCSPNoCheck)
        assert key_usage(cert) == {"digital_signature"}


def test_without_base_url_certificates_carry_no_revocation_urls(pki: TestPki) -> None:
    assert pki.revocation_base_url is None
    with pytest.raises(x509.ExtensionNotFound):
        pki["ap"].certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)


# -- files ------------------------------------------------------------------------------------


def test_files_keys_are_0600_and_manifest_records_fingerprints(pki: TestPki) -> None:
    manifest = json.loads(pki.manifest_path.read_text())
    entries = {**manifest["authorities"], **manifest["certificates"]}
    everything = {**pki.authorities, **pki.certificates}
    assert set(entries) == set(everything)
    for name, entry in everything.items():
        assert stat.S_IMODE(entry.private_key_path.stat().st_mode) == 0o600, name
        assert entries[name]["sha256"] == entry.fingerprint_sha256
        assert entries[name]["serial"] == f"{entry.serial_number:x}"
        assert entries[name]["not_after"] == f"{entry.not_after:%Y-%m-%dT%H:%M:%SZ}"
        key = load_private_key(entry)
        assert key.public_key().public_numbers() == entry.certificate.public_key().public_numbers()  # type: ignore[union-attr]
    for responder in pki.responders.values():
        assert stat.S_IMODE(responder.private_key_path.stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in pki.manifest_path.read_text()


def test_chain_file_is_leaf_then_its_intermediate(pki: TestPki) -> None:
    chain = x509.load_pem_x509_certificates(pki["smp"].chain_path.read_bytes())
    assert chain == [pki["smp"].certificate, pki.authority("smp-ca").certificate]
    assert x509.load_pem_x509_certificates(pki.trust_anchors_path.read_bytes()) == [
        pki.root.certificate
    ]
    assert set(x509.load_pem_x509_certificates(pki.intermediates_path.read_bytes())) == set(
        pki.intermediates
    )


def test_init_again_loads_the_same_pki_and_changes_no_file(pki: TestPki) -> None:
    before = {p: p.read_bytes() for p in pki.directory.rglob("*") if p.is_file()}
    again = init_pki(pki.directory)
    after = {p: p.read_bytes() for p in pki.directory.rglob("*") if p.is_file()}
    assert after == before
    assert {n: e.fingerprint_sha256 for n, e in again.certificates.items()} == {
        n: e.fingerprint_sha256 for n, e in pki.certificates.items()
    }
    assert load_pki(pki.directory) == again


def test_replaced_file_is_reported_and_force_replaces_the_pki(tmp_path: Path) -> None:
    first = init_pki(tmp_path)
    (tmp_path / "notes.txt").write_text("not the PKI's")
    first["participant-ap"].certificate_path.write_bytes(first["ap"].certificate_path.read_bytes())
    with pytest.raises(PkiError, match="participant-ap.*not the certificate the manifest recorded"):
        load_pki(tmp_path)
    with pytest.raises(PkiError, match="participant-ap.*not the certificate the manifest recorded"):
        init_pki(tmp_path)
    second = init_pki(tmp_path, force=True)
    assert first.root.fingerprint_sha256 != second.root.fingerprint_sha256
    assert load_pki(tmp_path) == second
    assert (tmp_path / "notes.txt").read_text() == "not the PKI's"


def test_missing_pki_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="conformance pki init"):
        load_pki(tmp_path)
    with pytest.raises(PkiError, match="conformance pki init"):
        issue(tmp_path / "nowhere", "ap", "x")


# -- faulty certificates and verify_chain -------------------------------------------------------


@pytest.mark.parametrize("name", ["ap", "smp", "participant-ap", "participant-smp"])
def test_good_leaf_passes_with_revocation_checked(pki: TestPki, name: str) -> None:
    entry = pki[name]
    result = verify_chain(
        entry.certificate,
        pki.trust_anchors,
        intermediates=pki.intermediates,
        check_revocation=pki_crl_checker(pki),
    )
    assert result.ok and result.reason is None, result.detail
    assert result.chain == (entry.certificate, *entry.chain)


@pytest.mark.parametrize("kind", ["ap", "smp"])
@pytest.mark.parametrize("fault", sorted(NEGATIVE))
def test_every_negative_kind_is_rejected_with_its_reason(
    pki: TestPki, kind: str, fault: str
) -> None:
    entry = pki[f"{kind}-{fault}"]
    expected = NEGATIVE[fault][1]
    assert entry.faults == {Fault(fault)}
    result = verify_chain(
        entry.certificate,
        pki.trust_anchors,
        intermediates=list(entry.chain[:-1]),
        check_revocation=pki_crl_checker(pki),
    )
    assert not result.ok
    assert result.reason is expected, result.detail
    assert result.subject == entry.certificate
    assert entry.common_name in result.detail


def test_faulty_certificates_have_the_promised_validity_and_issuer(pki: TestPki) -> None:
    now = datetime.now(UTC)
    assert pki["ap-expired"].not_after < now
    assert pki["ap-not-yet-valid"].not_before > now
    assert pki["ap-revoked"].revocation is not None
    assert pki["ap-revoked"].revocation.reason is RevocationReason.KEY_COMPROMISE
    wrong = pki["ap-wrong-ca"]
    assert not wrong.trusted and wrong.issuer == "untrusted-ca"
    assert wrong.chain[-1] == pki.authority("untrusted-root").certificate
    assert wrong.chain[-1] not in pki.trust_anchors
    # issued seats are Peppol-shaped and distinct
    seats = [pki[f"ap-{f}"].common_name for f in NEGATIVE]
    assert all(SEAT_ID.match(s) for s in seats) and len(set(seats)) == len(seats)


def test_revoked_certificate_is_in_its_cas_crl_only(pki: TestPki) -> None:
    revoked = pki["ap-revoked"]
    ap_crl, smp_crl = pki.crl("ap-ca"), pki.crl("smp-ca")
    assert ap_crl.is_signature_valid(pki.authority("ap-ca").certificate.public_key())  # type: ignore[arg-type]
    entry = ap_crl.get_revoked_certificate_by_serial_number(revoked.serial_number)
    assert entry is not None
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        is x509.ReasonFlags.key_compromise
    )
    assert smp_crl.get_revoked_certificate_by_serial_number(revoked.serial_number) is None
    assert {r.serial_number for r in smp_crl} == {pki["smp-revoked"].serial_number}


def test_wrong_ca_chain_is_valid_under_its_own_root(pki: TestPki) -> None:
    """The wrong-CA certificate is well-formed: only the trust anchor makes it fail."""
    wrong = pki["smp-wrong-ca"]
    result = verify_chain(wrong.certificate, [wrong.chain[-1]], intermediates=[wrong.chain[0]])
    assert result.ok, result.detail


def test_good_leaf_checked_outside_its_validity_fails_for_that_reason(pki: TestPki) -> None:
    ap = pki["ap"]
    later = verify_chain(
        ap.certificate,
        pki.trust_anchors,
        intermediates=pki.intermediates,
        at=ap.not_after + timedelta(seconds=1),
    )
    assert later.reason is ChainFailure.EXPIRED
    earlier = verify_chain(
        ap.certificate,
        pki.trust_anchors,
        intermediates=pki.intermediates,
        at=ap.not_before - timedelta(seconds=1),
    )
    assert earlier.reason is ChainFailure.NOT_YET_VALID
    at_start = verify_chain(
        ap.certificate, pki.trust_anchors, intermediates=pki.intermediates, at=ap.not_before
    )
    assert at_start.ok, at_start.detail


def test_smp_ca_as_only_anchor_accepts_smp_certificates_only(pki: TestPki) -> None:
    anchor = [pki.authority("smp-ca").certificate]
    assert verify_chain(pki["smp"].certificate, anchor).ok
    refused = verify_chain(pki["ap"].certificate, anchor)
    assert refused.reason is ChainFailure.UNKNOWN_CA
    assert "Harness Test AP CA" in refused.detail


def test_missing_intermediate_is_unknown_ca(pki: TestPki) -> None:
    result = verify_chain(pki["ap"].certificate, pki.trust_anchors)
    assert result.reason is ChainFailure.UNKNOWN_CA


def test_required_key_usage_is_enforced(pki: TestPki) -> None:
    ok = verify_chain(
        pki["ap"].certificate,
        pki.trust_anchors,
        intermediates=pki.intermediates,
        key_usage=("digital_signature", "key_encipherment"),
    )
    assert ok.ok, ok.detail
    refused = verify_chain(
        pki["smp"].certificate,
        pki.trust_anchors,
        intermediates=pki.intermediates,
        key_usage=("digital_signature", "key_encipherment"),
    )
    assert refused.reason is ChainFailure.INVALID
    assert "key_encipherment" in refused.detail
    with pytest.raises(ValueError, match="unknown keyUsage"):
        verify_chain(pki["ap"].certificate, pki.trust_anchors, key_usage=("signing",))


def test_ca_certificate_is_not_accepted_as_a_leaf(pki: TestPki) -> None:
    result = verify_chain(pki.authority("ap-ca").certificate, pki.trust_anchors)
    assert result.reason is ChainFailure.INVALID
    assert "cA" in result.detail


def test_revocation_unknown_without_the_issuers_crl(pki: TestPki) -> None:
    only_smp = crl_checker([pki.crl("smp-ca"), pki.crl("root")])
    result = verify_chain(
        pki["ap"].certificate,
        pki.trust_anchors,
        intermediates=pki.intermediates,
        check_revocation=only_smp,
    )
    assert result.reason is ChainFailure.REVOCATION_UNKNOWN
    assert result.subject == pki["ap"].certificate


def test_expired_crl_proves_nothing(pki: TestPki) -> None:
    crl = pki.crl("ap-ca")
    assert crl.next_update_utc is not None
    check = crl_checker([crl], at=crl.next_update_utc + timedelta(seconds=1))
    assert (
        check(pki["ap"].certificate, pki.authority("ap-ca").certificate) is RevocationStatus.UNKNOWN
    )
    fresh = crl_checker([crl])
    assert fresh(pki["ap"].certificate, pki.authority("ap-ca").certificate) is RevocationStatus.GOOD
    assert (
        fresh(pki["ap-revoked"].certificate, pki.authority("ap-ca").certificate)
        is RevocationStatus.REVOKED
    )


def test_no_trust_anchor_is_unknown_ca(pki: TestPki) -> None:
    assert verify_chain(pki["ap"].certificate, []).reason is ChainFailure.UNKNOWN_CA


# -- issuing and revoking later -----------------------------------------------------------------


def test_revoke_later_resigns_the_crl_and_is_idempotent(scratch: Path) -> None:
    tmp_path = scratch
    issue(scratch, "smp", "to-revoke")
    number_before = (
        load_pki(scratch)
        .crl("smp-ca")
        .extensions.get_extension_for_class(x509.CRLNumber)
        .value.crl_number
    )
    revoked = revoke(tmp_path, "to-revoke", reason="superseded")
    assert (
        revoked.revocation is not None and revoked.revocation.reason is RevocationReason.SUPERSEDED
    )
    now = load_pki(tmp_path)
    crl = now.crl("smp-ca")
    assert (
        crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == number_before + 1
    )
    assert crl.get_revoked_certificate_by_serial_number(revoked.serial_number) is not None
    assert crl.is_signature_valid(now.authority("smp-ca").certificate.public_key())  # type: ignore[arg-type]
    result = verify_chain(
        revoked.certificate,
        now.trust_anchors,
        intermediates=now.intermediates,
        check_revocation=pki_crl_checker(now),
    )
    assert result.reason is ChainFailure.REVOKED
    manifest = now.manifest_path.read_bytes()
    again = revoke(tmp_path, "to-revoke")
    assert again.revocation == revoked.revocation
    assert now.manifest_path.read_bytes() == manifest
    with pytest.raises(PkiError, match="no leaf or issuing CA 'nope'"):
        revoke(tmp_path, "nope")
    with pytest.raises(PkiError, match="unknown revocation reason"):
        revoke(tmp_path, "ap", reason="because")


def test_revoked_intermediate_fails_its_leaves(tmp_path: Path) -> None:
    made = init_pki(tmp_path)
    revoke(made, "ap-ca", reason="cACompromise")
    now = load_pki(tmp_path)
    assert now.crl("root").get_revoked_certificate_by_serial_number(
        now.authority("ap-ca").serial_number
    )
    result = verify_chain(
        now["ap"].certificate,
        now.trust_anchors,
        intermediates=now.intermediates,
        check_revocation=pki_crl_checker(now),
    )
    assert result.reason is ChainFailure.REVOKED
    assert result.subject == now.authority("ap-ca").certificate


def test_issue_is_idempotent_and_refuses_a_different_request(pki: TestPki) -> None:
    again = issue(pki, "ap", "ap-expired", expired=True)
    assert again.fingerprint_sha256 == pki["ap-expired"].fingerprint_sha256
    with pytest.raises(PkiError, match="already exists"):
        issue(pki, "ap", "ap-expired", revoked=True)
    with pytest.raises(PkiError, match="already exists"):
        issue(pki, "smp", "ap-expired", expired=True)


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (("ap", "x"), {"expired": True, "not_yet_valid": True}, "both expired and not yet valid"),
        (("ap", "Bad Name"), {}, "must be 1-64 characters"),
        (("ap", "../escape"), {}, "must be 1-64 characters"),
        (("root-ca", "x"), {}, "cannot issue a 'root-ca'"),
        (("tls", "x"), {}, "cannot issue a 'tls'"),
        (("ap", "x"), {"seat_id": "SG1"}, "not Peppol-shaped"),
    ],
)
def test_issue_refuses_requests_it_cannot_meet(
    pki: TestPki, args: tuple[str, str], options: dict[str, object], message: str
) -> None:
    with pytest.raises(PkiError, match=message):
        issue(pki, *args, **options)  # type: ignore[arg-type]


def test_issue_with_seat_id_and_combined_faults(scratch: Path) -> None:
    tmp_path = scratch
    made = issue(
        tmp_path,
        CertificateKind.SMP,
        "old-bad",
        expired=True,
        wrong_ca=True,
        revoked=True,
        seat_id="PSG000777",
        organization="Example Pte Ltd",
    )
    assert made.common_name == "PSG000777"
    assert attr(made.certificate.subject, NameOID.ORGANIZATION_NAME) == "Example Pte Ltd"
    assert made.faults == {Fault.EXPIRED, Fault.WRONG_CA, Fault.REVOKED}
    pki = load_pki(tmp_path)
    assert (
        pki.crl("untrusted-ca").get_revoked_certificate_by_serial_number(made.serial_number)
        is not None
    )
    # the untrusted root does not leak into the trusted bundles
    assert pki.authority("untrusted-root").certificate not in pki.trust_anchors
    assert pki.authority("untrusted-ca").certificate not in pki.intermediates
    assert x509.load_pem_x509_certificates(pki.trust_anchors_path.read_bytes()) == [
        pki.root.certificate
    ]


def test_concurrent_issuers_all_land_in_the_manifest(scratch: Path) -> None:
    tmp_path = scratch
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [
            pool.submit(issue, tmp_path, "ap", f"parallel-{i}", revoked=bool(i % 2))
            for i in range(4)
        ]
        made = [f.result() for f in futures]  # re-raises what a worker raised
    assert [m.name for m in made] == [f"parallel-{i}" for i in range(4)]
    pki = load_pki(tmp_path)
    assert {f"parallel-{i}" for i in range(4)} <= set(pki.certificates)
    revoked = {r.serial_number for r in pki.crl("ap-ca")}
    assert {pki[f"parallel-{i}"].serial_number for i in range(4)} & revoked == {
        pki["parallel-1"].serial_number,
        pki["parallel-3"].serial_number,
    }
    seats = {pki[f"parallel-{i}"].common_name for i in range(4)}
    assert len(seats) == 4


# -- revocation URLs and CRL freshness ---------------------------------------------------------


def test_revocation_urls_point_at_the_reference_endpoint(tmp_path: Path) -> None:
    made = init_pki(tmp_path, revocation_base_url="http://ocsp.test:8080/")
    assert made.revocation_base_url == "http://ocsp.test:8080"
    ap = made["ap"].certificate
    dp = ap.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for n in dp[0].full_name] == ["http://ocsp.test:8080/crl/ap-ca.crl"]
    aia = ap.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert {(a.access_method, a.access_location.value) for a in aia} == {
        (AuthorityInformationAccessOID.OCSP, "http://ocsp.test:8080/"),
        (AuthorityInformationAccessOID.CA_ISSUERS, "http://ocsp.test:8080/ca/ap-ca.cer"),
    }
    ca_dp = made.authority("smp-ca").certificate.extensions.get_extension_for_class(
        x509.CRLDistributionPoints
    )
    assert ca_dp.value[0].full_name[0].value == "http://ocsp.test:8080/crl/root.crl"
    later = issue(tmp_path, "smp", "later", revoked=True)
    assert (
        later.certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)
        .value[0]
        .full_name[0]
        .value
        == "http://ocsp.test:8080/crl/smp-ca.crl"
    )
    assert init_pki(tmp_path, revocation_base_url="http://ocsp.test:8080") == load_pki(tmp_path)
    with pytest.raises(PkiError, match="was made with revocation base URL"):
        init_pki(tmp_path, revocation_base_url="http://elsewhere:1")
    with pytest.raises(PkiError, match="must be an http"):
        init_pki(tmp_path / "other", revocation_base_url="ldap://x")


def test_init_resigns_crls_about_to_expire_and_refuses_an_expired_hierarchy(tmp_path: Path) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    init_pki(tmp_path, now=start)
    manifest = tmp_path / "manifest.json"
    unchanged = manifest.read_bytes()
    init_pki(tmp_path, now=start + timedelta(days=10))
    assert manifest.read_bytes() == unchanged
    init_pki(tmp_path, now=start + timedelta(days=29, hours=12))
    pki = load_pki(tmp_path)
    crl = pki.crl("ap-ca")
    assert crl.last_update_utc == start + timedelta(days=29, hours=12)
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    assert refresh_crls(tmp_path, now=start + timedelta(days=30)) == ("root", "ap-ca", "smp-ca")
    with pytest.raises(PkiError, match="expired.*--force"):
        init_pki(tmp_path, now=start + timedelta(days=16 * 365))
