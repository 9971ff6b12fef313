"""Local runtime: start, health-check and stop reference endpoints; nothing outlives the harness."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from harness.runtime import HEALTH_PATH, EndpointStartError
from harness.runtime.local import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); it is not running any more
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def health(base_url: str) -> dict[str, object]:
    with urllib.request.urlopen(base_url + HEALTH_PATH, timeout=5) as response:
        assert response.status == 200
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_start_health_stop(tmp_path: Path) -> None:
    with LocalRuntime(log_dir=tmp_path) as runtime:
        endpoint = runtime.start("peppol-participant")
        assert endpoint.base_url.startswith("http://127.0.0.1:")
        assert int(endpoint.base_url.rsplit(":", 1)[1]) > 0
        assert health(endpoint.base_url)["status"] == "ok"
        assert runtime.endpoints == (endpoint,)
        assert endpoint.pid is not None and alive(endpoint.pid)
        assert endpoint.startup_seconds is not None and endpoint.startup_seconds < 10
    assert runtime.endpoints == ()
    assert wait_gone(endpoint.pid)
    log = endpoint.log_path
    assert log is not None and log.parent == tmp_path
    text = log.read_text()
    assert "serve peppol-participant" in text  # the command line
    assert f"GET {HEALTH_PATH}" in text  # the access log is kept as evidence


def test_variant_is_passed_to_the_endpoint(tmp_path: Path) -> None:
    with LocalRuntime(log_dir=tmp_path) as runtime:
        endpoint = runtime.start("peppol-participant", variant="accepts-invalid-inbound")
        assert "accepts-invalid-inbound" in str(health(endpoint.base_url)["name"])
        assert dict(endpoint.options) == {"variant": "accepts-invalid-inbound"}


def test_two_endpoints_get_distinct_ports_and_stop_one(tmp_path: Path) -> None:
    with LocalRuntime(log_dir=tmp_path) as runtime:
        a = runtime.start("peppol-participant")
        b = runtime.start("peppol-participant")
        assert a.base_url != b.base_url and a.log_path != b.log_path
        runtime.stop(a)
        assert wait_gone(a.pid)  # type: ignore[arg-type]
        assert runtime.endpoints == (b,)
        assert health(b.base_url)["status"] == "ok"


def test_no_leftover_process_after_exception_inside_the_block(tmp_path: Path) -> None:
    pids = []
    with pytest.raises(RuntimeError, match="boom"), LocalRuntime(log_dir=tmp_path) as runtime:
        pids.append(runtime.start("peppol-participant").pid)
        raise RuntimeError("boom")
    assert pids and wait_gone(pids[0])


def test_stop_is_idempotent(tmp_path: Path) -> None:
    runtime = LocalRuntime(log_dir=tmp_path)
    endpoint = runtime.start("peppol-participant")
    runtime.stop()
    runtime.stop()
    runtime.stop(endpoint)
    assert wait_gone(endpoint.pid)  # type: ignore[arg-type]


def test_unknown_endpoint_fails_fast_with_its_log(tmp_path: Path) -> None:
    started = time.monotonic()
    with LocalRuntime(log_dir=tmp_path) as runtime, pytest.raises(EndpointStartError) as exc:
        runtime.start("no-such-endpoint")
    assert time.monotonic() - started < 10
    message = str(exc.value)
    assert "exited with code 2 before it was ready" in message
    assert "unknown reference endpoint 'no-such-endpoint'" in message  # from the log tail
    assert runtime.endpoints == ()


def test_unknown_variant_fails_with_its_log(tmp_path: Path) -> None:
    with LocalRuntime(log_dir=tmp_path) as runtime, pytest.raises(EndpointStartError, match="unknown variant 'nope'"):
        runtime.start("peppol-participant", variant="nope")


def fake_python(tmp_path: Path, body: str) -> Path:
    """An executable standing in for the interpreter, to play a misbehaving endpoint."""
    script = tmp_path / "fake-python"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    script.chmod(0o755)
    return script


def test_timeout_when_no_port_is_reported_explains_and_cleans_up(tmp_path: Path) -> None:
    script = fake_python(tmp_path, """\
        import os, sys, time
        print("pretending to start", flush=True)
        open(os.path.join(os.path.dirname(sys.argv[0]), "pid"), "w").write(str(os.getpid()))
        time.sleep(60)
        """)
    runtime = LocalRuntime(log_dir=tmp_path / "logs", python=str(script), ready_timeout=1.0)
    with pytest.raises(EndpointStartError) as exc:
        runtime.start("peppol-participant")
    message = str(exc.value)
    assert "did not become ready within 1 s" in message
    assert "never reported the port" in message
    assert "pretending to start" in message  # the log tail is shown
    pid = int((tmp_path / "pid").read_text())
    assert wait_gone(pid)
    assert runtime.endpoints == ()


def test_timeout_when_health_does_not_answer(tmp_path: Path) -> None:
    script = fake_python(tmp_path, """\
        import json, os, socket, sys, time
        args = sys.argv
        ready = args[args.index("--ready-file") + 1]
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)  # listens, never answers
        port = s.getsockname()[1]
        json.dump({"host": "127.0.0.1", "port": port}, open(ready, "w"))
        time.sleep(60)
        """)
    runtime = LocalRuntime(log_dir=tmp_path / "logs", python=str(script), ready_timeout=2.5)
    with pytest.raises(EndpointStartError) as exc:
        runtime.start("peppol-participant")
    assert f"GET {HEALTH_PATH} did not answer 200" in str(exc.value)


def test_sigterm_ignoring_endpoint_is_killed(tmp_path: Path) -> None:
    script = fake_python(tmp_path, """\
        import http.server, json, os, signal, sys, threading
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        args = sys.argv
        ready = args[args.index("--ready-file") + 1]
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200); self.end_headers(); self.wfile.write(b"{}")
        srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        json.dump({"host": "127.0.0.1", "port": srv.server_address[1]}, open(ready, "w"))
        srv.serve_forever()
        """)
    runtime = LocalRuntime(log_dir=tmp_path / "logs", python=str(script), stop_grace=0.5)
    endpoint = runtime.start("peppol-participant")
    started = time.monotonic()
    runtime.stop()
    assert wait_gone(endpoint.pid)  # type: ignore[arg-type]
    assert time.monotonic() - started < 5


HARNESS_SCRIPT = """\
import os, sys, time
from harness.runtime.local import LocalRuntime
rt = LocalRuntime(log_dir=sys.argv[1])
with rt:
    ep = rt.start("peppol-participant")
    print(ep.pid, flush=True)
    {action}
"""


def run_harness(tmp_path: Path, action: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HARNESS_SCRIPT.format(action=action), str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip().isdigit(), proc.stderr.read() if proc.stderr else ""
    return proc, int(line)


def test_ctrl_c_in_the_harness_stops_the_endpoint(tmp_path: Path) -> None:
    proc, child = run_harness(tmp_path, "time.sleep(60)")
    assert alive(child)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=15)
    assert wait_gone(child)


def test_sigterm_to_the_harness_stops_the_endpoint(tmp_path: Path) -> None:
    proc, child = run_harness(tmp_path, "time.sleep(60)")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)
    assert wait_gone(child)


def test_sigkill_of_the_harness_the_endpoint_exits_on_its_own(tmp_path: Path) -> None:
    proc, child = run_harness(tmp_path, "time.sleep(60)")
    proc.kill()
    proc.wait(timeout=15)
    assert wait_gone(child, seconds=10), "the endpoint must notice that its harness is gone"


def test_leaving_without_the_with_block_is_cleaned_at_exit(tmp_path: Path) -> None:
    script = (
        "import sys\nfrom harness.runtime.local import LocalRuntime\n"
        "ep = LocalRuntime(log_dir=sys.argv[1]).start('peppol-participant')\nprint(ep.pid)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                         timeout=60, cwd=ROOT, check=False)
    assert out.returncode == 0, out.stderr
    assert wait_gone(int(out.stdout.strip()))
