"""Bad input to ``conformance run``: a clear error for that item, the run goes on, no traceback,
nothing lost; a broken participant file exits 2 before anything runs."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "participants" / "reference.toml"


def conformance(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "participant.toml"
    path.write_text(text)
    return path


def test_wrong_type_in_participant_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, """
[participant]
name = "x"
profiles = ["peppol-bis"]
[driver]
kind = "http"
base_url = "http://127.0.0.1:9"
timeout = "soon"
[profiles.peppol-bis]
roles = ["sender"]
rulesets = ["peppol-ubl-3.0.19"]
""")
    proc = conformance("run", "--participant", str(path), "--report-dir", str(tmp_path / "r"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "driver.timeout" in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "r").exists(), "nothing may run before the configuration is valid"


def test_unknown_key_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, """
[participant]
name = "x"
profiles = ["peppol-bis"]
colour = "blue"
[driver]
kind = "embedded"
variant = "good"
[profiles.peppol-bis]
roles = ["sender"]
rulesets = ["peppol-ubl-3.0.19"]
""")
    proc = conformance("run", "--participant", str(path))
    assert proc.returncode == 2
    assert "participant.colour" in proc.stderr


def test_missing_participant_file_exits_2(tmp_path: Path) -> None:
    proc = conformance("run", "--participant", str(tmp_path / "nope.toml"))
    assert proc.returncode == 2
    assert "nope.toml" in proc.stderr and "Traceback" not in proc.stderr


def _profile(driver: str, roles: str = '["sender", "receiver"]') -> str:
    return f"""
[participant]
name = "Unreachable platform"
profiles = ["peppol-bis"]
[driver]
{driver}
[profiles.peppol-bis]
roles = {roles}
rulesets = ["peppol-ubl-3.0.19"]
"""


def test_unreachable_participant_is_inconclusive_not_a_crash(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    path = write(tmp_path, _profile(f'kind = "http"\nbase_url = "http://127.0.0.1:{port}"\ntimeout = 2'))
    proc = conformance("run", "--participant", str(path), "--report-dir", str(tmp_path / "r"),
                       "--campaign-budget", "1")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 11, out
    assert "Traceback" not in proc.stderr
    run_dir = Path(proc.stdout.strip().splitlines()[-1].removeprefix("report: "))
    report = json.loads((run_dir / "report.json").read_text())
    assert report["profiles"][0]["verdict"] == "INCONCLUSIVE"
    errors = [c for c in report["checks"] if c["outcome"] == "error"]
    assert errors and all(str(port) in c["message"] or "unreachable" in c["message"].lower()
                          or "connect" in c["message"].lower() for c in errors)
    assert not [c for c in report["checks"] if c["outcome"] == "fail"], "no judgement on a participant we could not reach"


def test_prompt_driver_without_terminal_ends_no_traffic(tmp_path: Path) -> None:
    path = write(tmp_path, _profile('kind = "prompt"\ntimeout = 600', roles='["sender"]'))
    proc = conformance("run", "--participant", str(path), "--report-dir", str(tmp_path / "r"), timeout=300)
    assert proc.returncode == 11, proc.stdout + proc.stderr
    run_dir = Path(proc.stdout.strip().splitlines()[-1].removeprefix("report: "))
    report = json.loads((run_dir / "report.json").read_text())
    profile = report["profiles"][0]
    assert profile["verdict"] == "INCONCLUSIVE"
    assert profile["no_traffic_scenarios"], "NO_TRAFFIC must be reported, never a pass"
    assert not [c for c in report["checks"] if c["outcome"] == "pass" and c["requirements"] == ["BIS-OUT-001"]]


def test_docker_endpoints_without_an_engine_exit_2_before_anything_runs(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path / 'no-such-docker.sock'}"}
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--participant", str(REFERENCE),
         "--report-dir", str(tmp_path / "r"), "--endpoints", "docker"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--endpoints docker" in proc.stderr and "no Docker engine answers" in proc.stderr
    assert "--endpoints local" in proc.stderr, "the error says what to do instead"
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "r").exists(), "nothing may run without the engine asked for"
