"""Profile peppol-smp with driver ``http``: the participant is an SMP and a lookup AP that the
harness did not start (here: the reference endpoints, started by the test with their own PKI,
as an outside participant would be), driven only through the control API and its SMP URL."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.pki import init_pki
from harness.runtime.base import RunningEndpoint
from harness.runtime.local import LocalRuntime


@pytest.fixture(scope="module")
def outside(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningEndpoint, RunningEndpoint, Path]]:
    """An SMP with its own PKI (not the harness's) and a lookup participant."""
    pki_dir = tmp_path_factory.mktemp("participant-pki")
    pki = init_pki(pki_dir)
    with LocalRuntime(tmp_path_factory.mktemp("logs")) as runtime:
        smp = runtime.start("smp", pki_dir=pki_dir, token="s3cret-smp-token")
        ap = runtime.start("peppol-smp-participant")
        yield smp, ap, pki.authority("smp-ca").certificate_path


def run(
    participant: Path, report_dir: Path, env: dict[str, str]
) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--participant", str(participant),
         "--report-dir", str(report_dir), "--seed", "7"],
        check=False, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    last = proc.stdout.strip().splitlines()[-1]
    run_dir = Path(last.removeprefix("report: "))
    return (
        proc.returncode,
        json.loads((run_dir / "report.json").read_text()),
        proc.stdout + proc.stderr,
    )


def test_outside_smp_over_the_control_api(
    outside: tuple[RunningEndpoint, RunningEndpoint, Path], tmp_path: Path
) -> None:
    import os

    smp, _, smp_ca = outside
    (tmp_path / "smp-ca.pem").write_bytes(smp_ca.read_bytes())
    participant = tmp_path / "smp.toml"
    participant.write_text(f"""\
[participant]
name = "An SMP the harness did not start"
profiles = ["peppol-smp"]

[driver]
kind = "http"
base_url = "{smp.base_url}"
token = "${{SMP_TOKEN}}"

[profiles.peppol-smp]
roles = ["smp"]
smp_url = "{smp.base_url}"
smp_ca = "smp-ca.pem"
""")
    code, report, output = run(
        participant, tmp_path / "reports", {**os.environ, "SMP_TOKEN": "s3cret-smp-token"}
    )
    assert code == 0, output
    assert [p["verdict"] for p in report["profiles"]] == ["CONFORMANT"], output
    statuses = {r["id"]: r["status"] for p in report["profiles"] for r in p["requirements"]}
    offline = {"SMP-TLS-001", "SMP-SIG-004"}
    assert all(s == "passed" for rid, s in statuses.items() if rid not in offline), statuses
    assert not any(rid.startswith("LOOKUP-") for rid in statuses)  # role ap not claimed
    assert "s3cret-smp-token" not in json.dumps(report)
    # its SMP CA is its own, not the harness's: revocation is not judged, and the report says why
    assert statuses["SMP-SIG-004"] == "not-applicable"
    sig4 = [c for c in report["checks"] if c["requirements"] == ["SMP-SIG-004"]]
    assert sig4 and all(c["outcome"] == "not-applicable" for c in sig4)
    assert all("cannot be obtained offline" in c["message"] for c in sig4)


def test_outside_smp_with_another_ca_fails_the_signer_requirement(
    outside: tuple[RunningEndpoint, RunningEndpoint, Path], tmp_path: Path
) -> None:
    """The participant file names a CA that did not issue the SMP's certificate: SMP-SIG-002."""
    import os

    smp, _, _ = outside
    other = init_pki(tmp_path / "other-pki")
    (tmp_path / "smp-ca.pem").write_bytes(other.authority("smp-ca").certificate_path.read_bytes())
    participant = tmp_path / "smp.toml"
    participant.write_text(f"""\
[participant]
name = "An SMP signing with a certificate of another CA"
profiles = ["peppol-smp"]
[driver]
kind = "http"
base_url = "{smp.base_url}"
token = "${{SMP_TOKEN}}"
[profiles.peppol-smp]
roles = ["smp"]
smp_url = "{smp.base_url}"
smp_ca = "smp-ca.pem"
""")
    code, report, output = run(
        participant, tmp_path / "reports", {**os.environ, "SMP_TOKEN": "s3cret-smp-token"}
    )
    failed = {
        r["id"] for p in report["profiles"] for r in p["requirements"] if r["status"] == "failed"
    }
    assert code == 12 and failed == {"SMP-SIG-002"}, output


def test_outside_ap_over_the_control_api(
    outside: tuple[RunningEndpoint, RunningEndpoint, Path], tmp_path: Path
) -> None:
    import os

    _, ap, _ = outside
    participant = tmp_path / "ap.toml"
    participant.write_text(f"""\
[participant]
name = "A sending AP the harness did not start"
profiles = ["peppol-smp"]

[driver]
kind = "http"
base_url = "{ap.base_url}/conformance/v1"

[profiles.peppol-smp]
roles = ["ap"]
""")
    code, report, output = run(participant, tmp_path / "reports", dict(os.environ))
    assert code == 0, output
    assert [p["verdict"] for p in report["profiles"]] == ["CONFORMANT"], output
    statuses = {r["id"]: r["status"] for p in report["profiles"] for r in p["requirements"]}
    assert statuses and all(s == "passed" for s in statuses.values()), statuses
    assert all(rid.startswith("LOOKUP-") for rid in statuses)
