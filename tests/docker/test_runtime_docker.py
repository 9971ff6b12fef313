"""The Docker backend keeps the runtime contract: health-checked endpoints on 127.0.0.1, extra
listeners published for UDP and TCP, logs kept, failures explained, nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.drivers import control_api
from harness.errors import ConfigError
from harness.runtime import make_runtime
from harness.runtime.base import EndpointStartError, RunningEndpoint
from harness.runtime.docker import (
    CONTAINER_OPTIONS,
    LABEL_ENDPOINT,
    LABEL_OWNER,
    LABEL_RUN,
    DockerRuntime,
    labelled_resources,
    owner_label,
)

ROOT = Path(__file__).resolve().parents[2]


def container_of(runtime: DockerRuntime, endpoint: RunningEndpoint) -> Any:
    matches = [c.container for c in runtime._children if c.endpoint.base_url == endpoint.base_url]
    assert len(matches) == 1
    matches[0].reload()
    return matches[0]


def get(endpoint: RunningEndpoint, path: str, **kw: Any) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=30) as client:
        return client.get(endpoint.url(path), **kw)


def test_make_runtime_picks_the_docker_backend(tmp_path: Path) -> None:
    runtime = make_runtime("docker", log_dir=tmp_path)
    assert isinstance(runtime, DockerRuntime) and runtime.backend == "docker"
    assert runtime.endpoints == ()
    runtime.stop()  # nothing started, nothing connected: a no-op


def test_endpoint_answers_health_on_loopback_only(
    docker_runtime: DockerRuntime, docker_client: Any
) -> None:
    endpoint = docker_runtime.start("peppol-participant")
    assert endpoint.base_url.startswith("http://127.0.0.1:")
    response = get(endpoint, control_api.HEALTH)
    assert response.status_code == 200 and response.json()["status"] == "ok"
    container = container_of(docker_runtime, endpoint)
    bindings = container.attrs["HostConfig"]["PortBindings"]
    assert {b["HostIp"] for spec in bindings.values() for b in spec} == {"127.0.0.1"}
    assert container.labels[LABEL_RUN] == docker_runtime.run_id
    assert container.labels[LABEL_OWNER] == owner_label()
    assert container.labels[LABEL_ENDPOINT] == "peppol-participant"
    networks = container.attrs["NetworkSettings"]["Networks"]
    assert list(networks) == [docker_runtime.network_name]
    network = docker_client.networks.get(docker_runtime.network_name)
    assert network.attrs["Labels"][LABEL_RUN] == docker_runtime.run_id
    assert endpoint.startup_seconds is not None and endpoint.startup_seconds > 0
    assert docker_runtime.endpoints == (endpoint,)


def test_container_runs_as_the_harness_user_and_mounts_artefacts_read_only(
    docker_runtime: DockerRuntime,
) -> None:
    endpoint = docker_runtime.start("peppol-participant")
    container = container_of(docker_runtime, endpoint)
    assert container.attrs["Config"]["User"] == f"{os.getuid()}:{os.getgid()}"
    mirror = os.environ.get("CONFORMANCE_ARTEFACTS_MIRROR")
    mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
    if mirror:
        assert mounts["/artefacts/mirror"]["Source"] == str(Path(mirror).resolve())
        assert mounts["/artefacts/mirror"]["RW"] is False
    assert all(m["RW"] is False for m in mounts.values())
    env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])
    assert "CONFORMANCE_SERVE_TOKEN" not in env


def test_each_start_gets_its_own_container_and_port(docker_runtime: DockerRuntime) -> None:
    a = docker_runtime.start("peppol-participant")
    b = docker_runtime.start("peppol-participant", variant="accepts-invalid-inbound")
    assert a.base_url != b.base_url
    assert b.options == {"variant": "accepts-invalid-inbound"}
    assert "(accepts-invalid-inbound)" in get(b, control_api.HEALTH).json()["name"]
    docker_runtime.stop(a)
    assert docker_runtime.endpoints == (b,)
    with pytest.raises(httpx.TransportError):
        get(a, control_api.HEALTH)
    assert get(b, control_api.HEALTH).status_code == 200


def test_token_reaches_the_endpoint_as_a_file_never_in_what_docker_inspect_shows(
    docker_runtime: DockerRuntime,
) -> None:
    token = "docker-test-token-7f3a"
    endpoint = docker_runtime.start("peppol-participant", token=token)
    body = {"scenario": "invoice-standard", "ruleset": "peppol-ubl-3.0.19"}
    with httpx.Client(base_url=endpoint.base_url, trust_env=False, timeout=120) as c:
        assert c.post(control_api.PEPPOL_DOCUMENTS, json=body).status_code == 401
        ok = c.post(
            control_api.PEPPOL_DOCUMENTS, json=body, headers={"authorization": f"Bearer {token}"}
        )
        assert ok.status_code == 200, ok.text
    container = container_of(docker_runtime, endpoint)
    inspected = json.dumps(container.attrs)  # what `docker inspect` shows: argv, env, labels ...
    assert token not in inspected
    assert "CONFORMANCE_SERVE_TOKEN_FILE=/run/conformance/serve-token" in container.attrs["Config"]["Env"]
    # the file is the container user's alone
    mode = container.exec_run(["stat", "-c", "%a %u:%g", "/run/conformance/serve-token"])
    assert mode.exit_code == 0, mode.output
    assert mode.output.decode().split() == ["400", docker_runtime.user]


def test_logs_are_kept_as_evidence(docker_runtime: DockerRuntime) -> None:
    endpoint = docker_runtime.start("peppol-participant")
    get(endpoint, control_api.HEALTH)
    docker_runtime.stop()
    assert endpoint.log_path is not None
    text = endpoint.log_path.read_text("utf-8")
    assert text.startswith(f"# docker run {docker_runtime.image_info.tag} peppol-participant ")
    assert "Application startup complete" in text
    assert '"GET /conformance/v1/health HTTP/1.1" 200' in text


def test_path_options_are_mounted_read_only(docker_runtime: DockerRuntime, tmp_path: Path) -> None:
    shared = tmp_path / "pki"
    shared.mkdir()
    (shared / "marker.txt").write_text("from the host")
    endpoint = docker_runtime.start("peppol-participant", pki_dir=shared)
    container = container_of(docker_runtime, endpoint)
    mounts = {m["Source"]: m for m in container.attrs["Mounts"]}
    inside = mounts[str(shared.resolve())]["Destination"]
    assert (
        inside.startswith(CONTAINER_OPTIONS + "/") and mounts[str(shared.resolve())]["RW"] is False
    )
    assert container.attrs["Config"]["Cmd"][-2:] == ["--pki-dir", inside]
    result = container.exec_run(["cat", f"{inside}/marker.txt"])
    assert result.exit_code == 0 and result.output == b"from the host"
    with pytest.raises(ConfigError, match="no such file or folder"):
        docker_runtime.start("peppol-participant", pki_dir=tmp_path / "missing")


def test_https_endpoint_with_mounted_tls_files(
    docker_runtime: DockerRuntime, tmp_path: Path
) -> None:
    from harness.pki import init_pki
    from harness.pki.tls import issue_tls_server

    init_pki(tmp_path / "pki")
    tls = issue_tls_server(tmp_path / "pki")
    endpoint = docker_runtime.start(
        "peppol-participant", tls_cert=tls.certificate_path, tls_key=tls.private_key_path
    )
    assert endpoint.base_url.startswith("https://127.0.0.1:")
    assert docker_runtime.peer_endpoint(endpoint).base_url.startswith("https://")
    with httpx.Client(
        trust_env=False, timeout=30, verify=ssl.create_default_context(cafile=str(tls.ca_path))
    ) as client:
        assert client.get(endpoint.url(control_api.HEALTH)).status_code == 200
    container = container_of(docker_runtime, endpoint)
    mounted = {m["Source"]: m["RW"] for m in container.attrs["Mounts"]}
    assert mounted[str(tls.private_key_path.resolve())] is False
    # Docker's own health check follows the scheme (compose relies on it)
    deadline = time.monotonic() + 30
    while (
        container.attrs["State"]["Health"]["Status"] == "starting" and time.monotonic() < deadline
    ):
        time.sleep(1)
        container.reload()
    assert container.attrs["State"]["Health"]["Status"] == "healthy"


def test_extra_listener_is_published_for_udp_and_tcp_on_one_port(
    docker_runtime: DockerRuntime,
) -> None:
    import dnslib

    sml = docker_runtime.start("sml")
    host, _, port = sml.extras["dns"].rpartition(":")
    assert host == "127.0.0.1"
    query = dnslib.DNSRecord.question("sml.conformance.test", "SOA")
    for tcp in (False, True):
        answer = dnslib.DNSRecord.parse(query.send(host, int(port), tcp=tcp, timeout=5))
        assert answer.header.rcode == dnslib.RCODE.NOERROR
        assert [str(rr.rname) for rr in answer.rr] == ["sml.conformance.test."]
    bindings = container_of(docker_runtime, sml).attrs["HostConfig"]["PortBindings"]
    dns = {spec: b for spec, b in bindings.items() if spec != "8080/tcp"}
    assert sorted(s.split("/")[1] for s in dns) == ["tcp", "udp"]
    assert {(b[0]["HostIp"], b[0]["HostPort"]) for b in dns.values()} == {("127.0.0.1", port)}


def test_peer_endpoint_is_how_containers_reach_each_other(docker_runtime: DockerRuntime) -> None:
    participant = docker_runtime.start("peppol-participant")
    sml = docker_runtime.start("sml")
    peer = docker_runtime.peer_endpoint(participant)
    assert peer.base_url.endswith(":8080") and "127.0.0.1" not in peer.base_url
    assert docker_runtime.peer_endpoint(sml).extras["dns"].endswith(":10000")
    fetch = f"import urllib.request; print(urllib.request.urlopen({peer.url(control_api.HEALTH)!r}).status)"
    result = container_of(docker_runtime, sml).exec_run(["python", "-c", fetch])
    assert (result.exit_code, result.output.strip()) == (0, b"200")
    with pytest.raises(KeyError):
        docker_runtime.peer_endpoint(RunningEndpoint(name="x", base_url="http://127.0.0.1:1"))


def test_unknown_endpoint_is_a_config_error_before_any_container(
    docker_runtime: DockerRuntime,
) -> None:
    with pytest.raises(ConfigError, match="unknown reference endpoint 'no-such-endpoint'"):
        docker_runtime.start("no-such-endpoint")


def test_endpoint_that_exits_is_explained_and_removed(
    docker_runtime: DockerRuntime, docker_client: Any
) -> None:
    with pytest.raises(EndpointStartError) as info:
        docker_runtime.start("peppol-participant", variant="no-such-variant")
    message = str(info.value)
    assert "exited with code 2 before it was ready" in message
    assert "no-such-variant" in message  # the container log's tail shows serve's own error
    assert labelled_resources(docker_client, docker_runtime.run_id)[0] == []
    assert docker_runtime.endpoints == ()


def test_readiness_timeout_says_what_did_not_come_up(
    docker_runtime: DockerRuntime, docker_client: Any
) -> None:
    with pytest.raises(EndpointStartError) as info:
        docker_runtime.start("peppol-participant", ready_timeout=0.01)
    message = str(info.value)
    assert "did not become ready within 0.01 s" in message
    assert "It was removed" in message and "docker run --rm -p 127.0.0.1:8080:8080" in message
    assert labelled_resources(docker_client, docker_runtime.run_id)[0] == []


def test_everything_is_removed_on_exit_and_on_ctrl_c(
    docker_image: Any, docker_client: Any, tmp_path: Path
) -> None:
    with DockerRuntime(log_dir=tmp_path, image=docker_image.tag) as runtime:
        runtime.start("peppol-participant")
        containers, networks = labelled_resources(docker_client, runtime.run_id)
        assert len(containers) == 1 and networks == [runtime.network_name]
    assert labelled_resources(docker_client, runtime.run_id) == ([], [])

    with (
        pytest.raises(KeyboardInterrupt),
        DockerRuntime(log_dir=tmp_path, image=docker_image.tag) as interrupted,
    ):
        interrupted.start("peppol-participant")
        raise KeyboardInterrupt
    assert labelled_resources(docker_client, interrupted.run_id) == ([], [])


_HOLDER = textwrap.dedent(
    """
    import json, sys, time
    from harness.runtime.docker import DockerRuntime
    runtime = DockerRuntime(log_dir=sys.argv[1], image=sys.argv[2])
    endpoint = runtime.start("peppol-participant")
    print(json.dumps({"run_id": runtime.run_id, "base_url": endpoint.base_url}), flush=True)
    time.sleep(600)
    """
)


def _start_holder(tmp_path: Path, image: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path), image],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail(
            f"the runtime in the subprocess did not start: {proc.stderr.read() if proc.stderr else ''}"
        )
    return proc, json.loads(line)


def test_sigterm_to_the_harness_removes_its_containers(
    docker_image: Any, docker_client: Any, tmp_path: Path
) -> None:
    proc, info = _start_holder(tmp_path, docker_image.tag)
    assert labelled_resources(docker_client, info["run_id"])[0]
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert labelled_resources(docker_client, info["run_id"]) == ([], [])


def test_stale_resources_of_a_killed_run_are_removed_by_the_next_runtime(
    docker_image: Any, docker_client: Any, tmp_path: Path
) -> None:
    with DockerRuntime(log_dir=tmp_path / "live", image=docker_image.tag) as live:
        live.start("peppol-participant")  # a live run's resources must survive the clean-up
        proc, info = _start_holder(tmp_path / "killed", docker_image.tag)
        proc.send_signal(signal.SIGKILL)  # no clean-up of its own can run
        proc.wait(timeout=30)
        containers, networks = labelled_resources(docker_client, info["run_id"])
        assert len(containers) == 1 and len(networks) == 1, "SIGKILL must leave them behind"

        with DockerRuntime(log_dir=tmp_path / "next", image=docker_image.tag) as cleaner:
            cleaner.prepare()
            # (under pytest-xdist another worker's new runtime may have been first to clean up)
            assert cleaner.stale_removed is not None
            assert labelled_resources(docker_client, info["run_id"]) == ([], [])
        assert len(labelled_resources(docker_client, live.run_id)[0]) == 1
        assert get(live.endpoints[0], control_api.HEALTH).status_code == 200
    assert labelled_resources(docker_client, live.run_id) == ([], [])
