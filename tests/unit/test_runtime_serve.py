"""`conformance serve NAME`: the one launch path of every reference endpoint."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def wait_ready(ready: Path, proc: subprocess.Popen[str], seconds: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready.exists():
            return json.loads(ready.read_text())  # type: ignore[no-any-return]
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.02)
    raise AssertionError("no ready file")


def get(url: str, token: str | None = None, data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_reports_its_port_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    proc = serve("peppol-participant", "--port", "0", "--ready-file", str(ready), "--variant", "rejects-valid-inbound")
    try:
        info = wait_ready(ready, proc)
        assert info["host"] == "127.0.0.1" and isinstance(info["port"], int) and info["port"] > 0
        assert info["pid"] == proc.pid and info["variant"] == "rejects-valid-inbound"
        status, body = get(f"{info['base_url']}/conformance/v1/health")
        assert status == 200 and json.loads(body)["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    # uvicorn shuts down gracefully, then re-raises the signal (the conventional exit status)
    assert proc.returncode in (0, -signal.SIGTERM), err
    assert "Finished server process" in err


def test_serve_binds_loopback_by_default(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    proc = serve("peppol-participant", "--port", "0", "--ready-file", str(ready))
    try:
        info = wait_ready(ready, proc)
        assert info["host"] == "127.0.0.1"
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def test_serve_token_from_the_environment(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    proc = serve("peppol-participant", "--port", "0", "--ready-file", str(ready),
                 env={"CONFORMANCE_SERVE_TOKEN": "t0k3n-abc"})
    try:
        info = wait_ready(ready, proc)
        url = f"{info['base_url']}/conformance/v1/peppol-bis/inbound"
        assert get(url, data=b"<x/>")[0] == 401
        assert get(url, token="t0k3n-abc", data=b"<x/>")[0] == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert "t0k3n-abc" not in err


def test_serve_port_in_use_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", "peppol-participant", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err


def test_serve_unknown_endpoint_and_variant_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown reference endpoint 'nope'; known: " in err
    assert "peppol-participant" in err.split("known: ", 1)[1]
    assert main(["serve", "peppol-participant", "--variant", "nope", "--port", "0"]) == 2
    assert "unknown variant 'nope'" in capsys.readouterr().err
    assert main(["serve"]) == 2


def test_serve_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--list"]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith("peppol-participant: ") for line in out.splitlines())
    assert "variants: good, accepts-invalid-inbound," in out


def test_serve_exits_when_its_parent_is_gone(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    proc = serve("peppol-participant", "--port", "0", "--ready-file", str(ready), "--watch-pid", str(sleeper.pid))
    try:
        wait_ready(ready, proc)
        sleeper.kill()
        sleeper.wait()
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate(timeout=15)
    assert f"process {sleeper.pid} that started this endpoint is gone" in err
