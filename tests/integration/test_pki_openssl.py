"""The test PKI checked by an independent client: OpenSSL reads its CRLs, validates its chains and
queries the reference OCSP endpoint (started with `conformance serve ocsp` by the local runtime)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.pki import (
    ChainFailure,
    OcspError,
    TestPki,
    init_pki,
    issue,
    load_pki,
    ocsp_checker,
    pki_crl_checker,
    query_ocsp,
    revoke,
    verify_chain,
)
from harness.runtime.base import RunningEndpoint
from harness.runtime.local import LocalRuntime

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command-line tool")

#: OpenSSL's verify error for each fault, and verify_chain's reason for it.
FAULTS = {
    "expired": ({"expired": True}, "certificate has expired", ChainFailure.EXPIRED),
    "not-yet-valid": (
        {"not_yet_valid": True},
        "certificate is not yet valid",
        ChainFailure.NOT_YET_VALID,
    ),
    "wrong-ca": (
        {"wrong_ca": True},
        "unable to get local issuer certificate",
        ChainFailure.UNKNOWN_CA,
    ),
    "revoked": ({"revoked": True}, "certificate revoked", ChainFailure.REVOKED),
}


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run(
        [OPENSSL, *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    directory = tmp_path_factory.mktemp("pki")
    init_pki(directory)
    for kind in ("ap", "smp"):
        for fault, (options, _, _) in FAULTS.items():
            issue(directory, kind, f"{kind}-{fault}", **options)  # type: ignore[arg-type]
    return load_pki(directory)


@pytest.fixture(scope="module")
def all_crls(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    bundle = tmp_path_factory.mktemp("crls") / "crls.pem"
    bundle.write_bytes(
        b"".join(pki.crl_path(ca).read_bytes() for ca in ("root", "ap-ca", "smp-ca"))
    )
    return bundle


@pytest.fixture(scope="module")
def endpoint(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEndpoint]:
    with LocalRuntime(log_dir=tmp_path_factory.mktemp("ocsp-logs")) as runtime:
        yield runtime.start("ocsp", pki_dir=str(pki.directory))


def serials_listed(crl_text: str) -> set[int]:
    return {int(s, 16) for s in re.findall(r"Serial Number: ([0-9A-F]+)", crl_text)}


# -- CRLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ca", ["ap-ca", "smp-ca"])
def test_openssl_reads_the_crl_and_finds_the_revoked_serial(pki: TestPki, ca: str) -> None:
    kind = ca.removesuffix("-ca")
    text = openssl("crl", "-in", pki.crl_path(ca), "-noout", "-text")
    assert text.returncode == 0, text.stderr
    assert serials_listed(text.stdout) == {pki[f"{kind}-revoked"].serial_number}
    assert "Key Compromise" in text.stdout
    issuer = openssl("crl", "-in", pki.crl_path(ca), "-noout", "-issuer", "-nameopt", "RFC2253")
    assert (
        issuer.stdout.strip() == f"issuer={pki.authority(ca).certificate.subject.rfc4514_string()}"
    )
    signed = openssl(
        "crl", "-in", pki.crl_path(ca), "-noout", "-CAfile", pki.authority(ca).certificate_path
    )
    assert signed.returncode == 0 and "verify OK" in signed.stdout + signed.stderr, signed.stderr


def test_openssl_verify_with_crl_check_passes_good_and_fails_revoked(
    pki: TestPki, all_crls: Path
) -> None:
    base: list[str | Path] = ["verify", "-x509_strict", "-crl_check_all", "-CRLfile", all_crls, "-CAfile", pki.trust_anchors_path,
            "-untrusted", pki.intermediates_path]  # fmt: skip
    # -x509_strict: OpenSSL's RFC 5280 profile checks (AKI/SKI, CA keyUsage, ...) hold too
    responders = [r.certificate_path for r in pki.responders.values()]
    for name in ("ap", "smp", "participant-ap", "participant-smp"):
        good = openssl(*base, pki[name].certificate_path)
        assert good.returncode == 0 and good.stdout.strip().endswith(": OK"), (
            name,
            good.stdout,
            good.stderr,
        )
    delegated = openssl(*base, *responders)
    assert delegated.returncode == 0 and delegated.stdout.count(": OK") == 2, (
        delegated.stdout + delegated.stderr
    )
    for name in ("ap-revoked", "smp-revoked"):
        bad = openssl(*base, pki[name].certificate_path)
        assert bad.returncode != 0
        assert "certificate revoked" in bad.stdout + bad.stderr, bad.stdout + bad.stderr


def test_revoking_later_is_seen_by_openssl(pki: TestPki) -> None:
    issue(pki, "smp", "smp-late")
    crl_before = openssl(
        "verify",
        "-crl_check",
        "-CRLfile",
        pki.crl_path("smp-ca"),
        "-CAfile",
        pki.trust_anchors_path,
        "-untrusted",
        pki.intermediates_path,
        pki["smp"].certificate_path,
    )
    assert crl_before.returncode == 0
    late = revoke(pki, "smp-late")
    after = openssl(
        "verify",
        "-crl_check",
        "-CRLfile",
        pki.crl_path("smp-ca"),
        "-CAfile",
        pki.trust_anchors_path,
        "-untrusted",
        pki.intermediates_path,
        late.certificate_path,
    )
    assert after.returncode != 0 and "certificate revoked" in after.stdout + after.stderr


@pytest.mark.parametrize("kind", ["ap", "smp"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_openssl_and_verify_chain_agree_on_every_fault(
    pki: TestPki, all_crls: Path, kind: str, fault: str
) -> None:
    _, openssl_error, reason = FAULTS[fault]
    entry = pki[f"{kind}-{fault}"]
    untrusted = entry.chain_path  # leaf + its issuing CA (the untrusted one for wrong-ca)
    checked = openssl(
        "verify",
        "-crl_check",
        "-CRLfile",
        all_crls,
        "-CAfile",
        pki.trust_anchors_path,
        "-untrusted",
        untrusted,
        entry.certificate_path,
    )
    assert checked.returncode != 0
    assert openssl_error in checked.stdout + checked.stderr, checked.stdout + checked.stderr
    ours = verify_chain(
        entry.certificate,
        pki.trust_anchors,
        intermediates=list(entry.chain[:-1]),
        check_revocation=pki_crl_checker(load_pki(pki.directory)),
    )
    assert ours.reason is reason, ours.detail


# -- OCSP ---------------------------------------------------------------------------------------


def ocsp_query(
    pki: TestPki, endpoint: RunningEndpoint, name: str, ca: str
) -> subprocess.CompletedProcess[str]:
    return openssl(
        "ocsp",
        "-issuer",
        pki.authority(ca).certificate_path,
        "-cert",
        pki[name].certificate_path,
        "-url",
        endpoint.base_url,
        "-resp_text",
        "-CAfile",
        pki.trust_anchors_path,
    )


@pytest.mark.parametrize(
    ("name", "ca", "status"),
    [
        ("ap", "ap-ca", "good"),
        ("smp", "smp-ca", "good"),
        ("participant-ap", "ap-ca", "good"),
        ("ap-revoked", "ap-ca", "revoked"),
        ("smp-revoked", "smp-ca", "revoked"),
        ("ap-expired", "ap-ca", "good"),  # expiry is not revocation: OCSP says good
    ],
)
def test_openssl_ocsp_gets_the_status_from_the_reference_endpoint(
    pki: TestPki, endpoint: RunningEndpoint, name: str, ca: str, status: str
) -> None:
    proc = ocsp_query(pki, endpoint, name, ca)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{pki[name].certificate_path}: {status}" in proc.stdout, proc.stdout
    assert "Response verify OK" in proc.stderr, proc.stderr
    assert f"Cert Status: {status}" in proc.stdout
    responder = pki.responders[ca].certificate.subject.rfc4514_string()
    assert "OCSP Responder" in responder and "Responder Id:" in proc.stdout
    if status == "revoked":
        assert "Revocation Reason: keyCompromise" in proc.stdout


def test_openssl_ocsp_sees_a_revocation_made_while_the_endpoint_runs(
    pki: TestPki, endpoint: RunningEndpoint
) -> None:
    issue(pki, "ap", "ap-live")
    fresh = load_pki(pki.directory)
    assert (
        f"{fresh['ap-live'].certificate_path}: good"
        in ocsp_query(fresh, endpoint, "ap-live", "ap-ca").stdout
    )
    revoke(pki, "ap-live", reason="cessationOfOperation")
    after = ocsp_query(fresh, endpoint, "ap-live", "ap-ca")
    assert f"{fresh['ap-live'].certificate_path}: revoked" in after.stdout, after.stdout
    assert "Revocation Reason: cessationOfOperation" in after.stdout


def test_openssl_ocsp_unknown_serial(pki: TestPki, endpoint: RunningEndpoint) -> None:
    proc = openssl(
        "ocsp",
        "-issuer",
        pki.authority("ap-ca").certificate_path,
        "-serial",
        "0x1234567890",
        "-url",
        endpoint.base_url,
        "-CAfile",
        pki.trust_anchors_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "0x1234567890: unknown" in proc.stdout, proc.stdout


def test_crl_over_http_is_the_file_and_openssl_reads_it(
    pki: TestPki, endpoint: RunningEndpoint, tmp_path: Path
) -> None:
    response = httpx.get(endpoint.url("/crl/ap-ca.crl"), timeout=10, trust_env=False)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-crl"
    (tmp_path / "ap-ca.crl").write_bytes(response.content)
    text = openssl("crl", "-inform", "DER", "-in", tmp_path / "ap-ca.crl", "-noout", "-text")
    assert text.returncode == 0, text.stderr
    assert pki["ap-revoked"].serial_number in serials_listed(text.stdout)


def test_our_ocsp_client_and_verify_chain_against_the_endpoint(
    pki: TestPki, endpoint: RunningEndpoint
) -> None:
    check = ocsp_checker(endpoint.base_url)
    good = verify_chain(
        pki["smp"].certificate,
        pki.trust_anchors,
        intermediates=pki.intermediates,
        check_revocation=check,
    )
    assert good.ok, good.detail
    revoked = verify_chain(
        pki["smp-revoked"].certificate,
        pki.trust_anchors,
        intermediates=pki.intermediates,
        check_revocation=check,
    )
    assert revoked.reason is ChainFailure.REVOKED
    answer = query_ocsp(
        pki["ap-revoked"].certificate, pki.authority("ap-ca").certificate, endpoint.base_url
    )
    assert answer.cert_status == "revoked" and answer.revocation_reason == "keyCompromise"
    # an answer about another issuer's certificate is refused, not believed
    with pytest.raises(OcspError, match="answered unauthorized"):
        stranger = pki["ap-wrong-ca"]
        query_ocsp(stranger.certificate, pki.authority("ap-ca").certificate, endpoint.base_url)
    nobody = verify_chain(
        pki["ap"].certificate,
        pki.trust_anchors,
        intermediates=pki.intermediates,
        check_revocation=ocsp_checker("http://127.0.0.1:9/"),
    )
    assert nobody.reason is ChainFailure.REVOCATION_UNKNOWN


def test_endpoint_log_holds_no_private_key(pki: TestPki, endpoint: RunningEndpoint) -> None:
    assert endpoint.log_path is not None
    log = endpoint.log_path.read_text()
    assert "ocsp: serial" in log
    assert "PRIVATE KEY" not in log
    for path in pki.directory.rglob("key.pem"):
        body = [line for line in path.read_text().splitlines() if not line.startswith("-----")]
        assert not any(line in log for line in body), path


# -- the reference SMP's revoked signer (SMP-SIG-004, LOOKUP-SIG-004) ----------------------------


def test_openssl_says_the_reference_smp_revoked_signer_is_revoked(tmp_path: Path) -> None:
    """The certificate the reference SMP signs ``revoked-certificate`` metadata with (taken from
    the signature itself), checked by OpenSSL against the SMP CA's CRL as the harness hands it to
    an AP (``smp_crls``): revoked; the SMP's own certificate, same command: OK."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from harness.peppol.smp.control import crl_pem
    from harness.peppol.smp.identifiers import (
        BIS_BILLING_INVOICE,
        BIS_BILLING_PROCESS,
        DocumentTypeIdentifier,
        ParticipantIdentifier,
        ProcessIdentifier,
        service_metadata_path,
    )
    from harness.peppol.smp.signing import signer_certificate
    from harness.peppol.smp.smp_xml import TRANSPORT_AS4_V2, parse_document
    from harness.reference.smp import ReferenceCredentials, ReferenceSmp
    from harness.reference.smp_network import make_test_pki
    from harness.reference.smp_variants import GOOD_SMP

    directory = make_test_pki(tmp_path / "pki")  # what a certification run's network uses
    participant = ParticipantIdentifier.peppol("0195:T08GB0001A")
    document = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
    smp = ReferenceSmp(GOOD_SMP, ReferenceCredentials(directory))
    signers: dict[str, Path] = {}
    for signing in ("smp", "revoked-certificate"):
        endpoint = {"transport_profile": TRANSPORT_AS4_V2, "endpoint_url": "https://ap.test/as4"}
        process = {
            "process": ProcessIdentifier.cenbii(BIS_BILLING_PROCESS).uri,
            "endpoints": [endpoint],
        }
        smp.publish({"participant": participant.uri, "services": [
            {"document_type": document.uri, "signing": signing, "processes": [process]}]})  # fmt: skip
        status, _, body = smp.read(service_metadata_path(participant, document), "http://smp.test")
        assert status == 200
        found = signer_certificate(parse_document(body, name=signing))
        assert found is not None
        signers[signing] = tmp_path / f"{signing}.pem"
        signers[signing].write_bytes(found[0].public_bytes(Encoding.PEM))
    pki = load_pki(directory)
    crls = tmp_path / "smp-crls.pem"  # exactly the PEM text a LookupRequest carries
    crls.write_text(crl_pem(pki.crl("smp-ca")))
    base: list[str | Path] = ["verify", "-crl_check", "-CRLfile", crls, "-CAfile",
                              pki.trust_anchors_path, "-untrusted", pki.intermediates_path]  # fmt: skip
    revoked = openssl(*base, signers["revoked-certificate"])
    assert revoked.returncode != 0
    assert "certificate revoked" in revoked.stdout + revoked.stderr, revoked.stdout + revoked.stderr
    good = openssl(*base, signers["smp"])
    assert good.returncode == 0 and good.stdout.strip().endswith(": OK"), good.stdout + good.stderr
