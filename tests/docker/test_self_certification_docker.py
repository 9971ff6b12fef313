"""Self-certification with ``--endpoints docker``: the same verdicts as the local backend.

Each case is a real ``conformance run`` in a subprocess (CLI, plugin, Docker runtime, reference
participant in a container, validator, report), and afterwards no labelled container or network
of the harness may be left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.reference.peppol_variants import VARIANTS
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
            "--profile", "peppol-bis", "--endpoints", "docker", "--campaign-budget", "2",
            "--seed", SEED, "--report-dir", str(report_dir),
        ],
        check=False, capture_output=True, text=True, timeout=900, cwd=ROOT, env=env,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert last.startswith("report: "), output
    report = json.loads((Path(last.removeprefix("report: ")) / "report.json").read_text())
    return proc.returncode, report, output


def failed(report: dict[str, Any]) -> set[str]:
    return {
        r["id"] for p in report["profiles"] for r in p["requirements"] if r["status"] == "failed"
    }


def driver_facts(report: dict[str, Any]) -> dict[str, Any]:
    (facts,) = report["meta"]["observed"]["driver"]
    return facts  # type: ignore[no-any-return]


def test_reference_participant_is_conformant_in_docker(
    docker_image: Any, docker_client: Any, tmp_path: Path
) -> None:
    code, report, output = run_in_docker(
        PARTICIPANTS / "reference.toml", tmp_path, docker_image.tag
    )
    assert [p["verdict"] for p in report["profiles"]] == ["CONFORMANT"], output
    assert code == 0, output
    facts = driver_facts(report)
    assert facts["runtime"] == "docker" and facts["base_url"].startswith("http://127.0.0.1:")
    assert labelled_resources(docker_client) == ([], []) or _only_other_runs(docker_client, report)


def test_known_bad_variant_is_non_conformant_in_docker(
    docker_image: Any, docker_client: Any, tmp_path: Path
) -> None:
    name = "accepts-invalid-inbound"
    code, report, output = run_in_docker(
        PARTICIPANTS / "known-bad" / f"{name}.toml", tmp_path, docker_image.tag
    )
    assert [p["verdict"] for p in report["profiles"]] == ["NON_CONFORMANT"], output
    assert code == 12, output
    assert failed(report) == set(VARIANTS[name].declared), output
    assert driver_facts(report)["runtime"] == "docker"
    assert labelled_resources(docker_client) == ([], []) or _only_other_runs(docker_client, report)


def _only_other_runs(docker_client: Any, report: dict[str, Any]) -> bool:
    """Under pytest-xdist another worker may have containers up right now: then only the run
    that just ended must be gone (its containers are named after its runtime's run id)."""
    url = driver_facts(report)["base_url"]
    port = url.rsplit(":", 1)[1]
    for container in docker_client.containers.list(
        all=True, filters={"label": "org.trade-conformance.run"}
    ):
        ports = container.attrs.get("HostConfig", {}).get("PortBindings") or {}
        if any(b.get("HostPort") == port for spec in ports.values() for b in spec):
            return False
    return True
