"""Profile peppol-smp with ``--endpoints docker``: the harness's SML and SMP and the embedded
participant (SMP and lookup AP) run in containers of one per-run network; the AP reaches the SML
by its container name and the reference SMPs (HTTPS) by the host name each was started with
(``peer_host``), which their TLS certificates name. Same verdicts as the local backend, and no
labelled container or network left afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.reference.smp_variants import LOOKUP_VARIANTS, SMP_VARIANTS
from harness.runtime.docker import labelled_resources

ROOT = Path(__file__).resolve().parents[2]
PARTICIPANTS = ROOT / "fixtures" / "participants"
SEED = "20261127"


def run_in_docker(
    participant: Path, report_dir: Path, image: str
) -> tuple[int, dict[str, Any], str]:
    env = {**os.environ, "CONFORMANCE_DOCKER_IMAGE": image}
    proc = subprocess.run(
        [
            sys.executable, "-m", "harness.cli", "run", "--participant", str(participant),
            "--profile", "peppol-smp", "--endpoints", "docker", "--seed", SEED,
            "--report-dir", str(report_dir),
        ],
        check=False, capture_output=True, text=True, timeout=900, cwd=ROOT, env=env,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert last.startswith("report: "), output
    report = json.loads((Path(last.removeprefix("report: ")) / "report.json").read_text())
    return proc.returncode, report, output


def statuses(report: dict[str, Any], status: str) -> set[str]:
    return {r["id"] for p in report["profiles"] for r in p["requirements"] if r["status"] == status}


def with_variant(tmp_path: Path, base: str, name: str) -> Path:
    text = (PARTICIPANTS / base).read_text().replace('variant = "good"', f'variant = "{name}"')
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("participant", ["reference-smp.toml", "reference-smp-https.toml"])
def test_reference_smp_participant_is_conformant_in_docker(
    participant: str, docker_image: Any, docker_client: Any, tmp_path: Path
) -> None:
    code, report, output = run_in_docker(PARTICIPANTS / participant, tmp_path, docker_image.tag)
    assert [p["verdict"] for p in report["profiles"]] == ["CONFORMANT"], output
    assert code == 0, output
    (facts,) = report["meta"]["observed"]["peppol-smp driver"]
    assert facts["runtime"] == "docker"
    scheme = "https" if "https" in participant else "http"
    assert facts["endpoints"]["smp"]["base_url"].startswith(f"{scheme}://127.0.0.1:")
    assert statuses(report, "failed") == set() and statuses(report, "inconclusive") == set()
    # the SML published the reference SMP as the AP container reaches it: https, its peer host
    naptr = [
        u for f in report["meta"]["observed"]["peppol-smp lookup NAPTR"] for u in f["smp_urls"]
    ]
    assert naptr and all(u.startswith("https://reference-smp-") for u in naptr), naptr


def test_ap_container_verifies_the_smp_tls_certificate_by_its_peer_host(
    docker_runtime: Any, tmp_path: Path
) -> None:
    """The SMP container answers as ``https://<peer_host>:8080`` on the run network with a
    certificate naming that host; the reference AP container finds the receiver when handed the
    test root as ``smp_tls_trust_anchors`` and refuses (smp-unavailable, TLS) with another CA."""
    import httpx
    from cryptography.hazmat.primitives import serialization

    from harness.peppol.smp.identifiers import (
        BIS_BILLING_INVOICE,
        BIS_BILLING_PROCESS,
        DocumentTypeIdentifier,
        ParticipantIdentifier,
        ProcessIdentifier,
    )  # fmt: skip
    from harness.pki import init_pki
    from harness.reference.smp import PublishedEndpoint
    from harness.reference.smp_network import SmpNetwork, make_test_pki

    def pem(cert: Any) -> str:
        return str(cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))

    network = SmpNetwork.start(docker_runtime, make_test_pki(tmp_path / "pki"))
    try:
        receiver = ParticipantIdentifier.peppol("0195:T08GB0001A")
        document = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
        network.admin.publish(
            receiver, document, ProcessIdentifier.cenbii(BIS_BILLING_PROCESS),
            [PublishedEndpoint("https://ap.example.test/as4")], register=False,
        )  # fmt: skip
        peer = network.for_peer()
        assert peer.smp_url.startswith("https://reference-smp-") and peer.smp_url.endswith(":8080")
        network.register(receiver, peer.smp_url)
        ap = docker_runtime.start("peppol-smp-participant")
        other = init_pki(tmp_path / "other-pki").root.certificate
        body = {
            "receiver": receiver.uri, "document_type": document.uri, "sml_zone": network.zone,
            "dns_resolver": peer.dns, "smp_trust_anchors": [network.smp_ca_pem],
            "transport_profiles": ["peppol-transport-as4-v2_0"],
        }  # fmt: skip
        answers = {}
        for name, anchor in (("right", network.smp_tls_trust_anchors()[0]), ("wrong", other)):
            answers[name] = httpx.post(
                ap.url("/conformance/v1/peppol-smp/lookup"),
                json={**body, "smp_tls_trust_anchors": [pem(anchor)]}, timeout=60,
            ).json()  # fmt: skip
    finally:
        network.close()
    assert answers["right"]["outcome"] == "endpoint", answers
    assert answers["right"]["smp_url"] == peer.smp_url
    assert answers["wrong"]["outcome"] == "refused", answers
    assert answers["wrong"]["reason"] == "smp-unavailable" and "TLS" in answers["wrong"]["message"]


@pytest.mark.parametrize(
    "name", ["accepts-wrong-ca", "dns-hashes-scheme-and-value", "case-sensitive-participants"]
)
def test_known_bad_smp_variants_in_docker(
    name: str, docker_image: Any, docker_client: Any, tmp_path: Path
) -> None:
    variant = {**SMP_VARIANTS, **LOOKUP_VARIANTS}[name]
    participant = with_variant(tmp_path, "reference-smp.toml", name)
    code, report, output = run_in_docker(participant, tmp_path / "reports", docker_image.tag)
    assert [p["verdict"] for p in report["profiles"]] == ["NON_CONFORMANT"], output
    assert code == 12, output
    assert statuses(report, "failed") == set(variant.declared), output
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # other workers may have containers up
        assert labelled_resources(docker_client) == ([], [])
