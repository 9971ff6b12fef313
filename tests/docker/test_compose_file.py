"""docker/compose.yaml agrees with the registry and keeps every port on 127.0.0.1.

Read as data (no engine needed): each service runs ``conformance serve`` of a registered endpoint
on 0.0.0.0:8080 inside, publishes it on 127.0.0.1 only, and publishes each extra listener the
registry declares for every one of its protocols on one host port.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.reference import REGISTRY
from harness.runtime.docker import EXTRA_PORT_BASE, parse_protocols

COMPOSE = Path(__file__).resolve().parents[2] / "docker" / "compose.yaml"


def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text("utf-8"))["services"]  # type: ignore[no-any-return]


def defaults(text: str) -> str:
    """``${VAR:-default}`` -> ``default`` (what compose uses when VAR is not set)."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)


def published(service: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(host ip, host port, container port, protocol) of each ``ports`` entry."""
    out = []
    for spec in service.get("ports", []):
        ip, host_port, rest = defaults(str(spec)).split(":", 2)
        inner, _, proto = rest.partition("/")
        out.append((ip, host_port, inner, proto or "tcp"))
    return out


@pytest.mark.parametrize("name", sorted(services()))
def test_service_serves_its_registered_endpoint_on_loopback(name: str) -> None:
    service = services()[name]
    command = service["command"]
    assert command[0] == name and name in REGISTRY
    assert command[1:5] == ["--host", "0.0.0.0", "--port", "8080"]
    ports = published(service)
    assert ports and all(ip == "127.0.0.1" for ip, *_ in ports), ports
    assert [(inner, proto) for _, _, inner, proto in ports if inner == "8080"] == [("8080", "tcp")]


@pytest.mark.parametrize("name", sorted(n for n in services() if REGISTRY[n].extra_ports))
def test_extra_listeners_are_published_for_every_protocol_on_one_port(name: str) -> None:
    service = services()[name]
    ports = published(service)
    for index, (extra, spec) in enumerate(sorted(REGISTRY[name].extra_ports.items())):
        inner = str(EXTRA_PORT_BASE + index)
        assert f"{extra}={inner}" in service["command"]
        mine = [(host, proto) for _, host, port, proto in ports if port == inner]
        assert sorted(proto for _, proto in mine) == list(parse_protocols(spec))
        assert len({host for host, _ in mine}) == 1, "UDP and TCP must share the host port"


def test_artefacts_are_mounted_read_only_never_baked_in() -> None:
    participant = services()["peppol-participant"]
    (volume,) = participant["volumes"]
    assert volume.endswith(":/artefacts/mirror:ro")
    assert participant["environment"]["CONFORMANCE_ARTEFACTS_MIRROR"] == "/artefacts/mirror"
    dockerfile = (COMPOSE.parent / "Dockerfile").read_text("utf-8").splitlines()
    copies = [line.split()[1:] for line in dockerfile if line.split()[:1] in (["COPY"], ["ADD"])]
    assert copies == [], "nothing of the build context goes into the image"
    runs = [line for line in dockerfile if line.split()[:1] == ["RUN"]]
    assert len(runs) == 1, "one layer on top of the base image"
    assert '--find-links "${WHEELS_URL}"' in "\n".join(dockerfile), "wheels come from the host"
