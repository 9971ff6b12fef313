"""Docker backend tests: every test here is marked ``docker`` and needs a Docker engine.

Without an engine (or without the docker SDK, or without a base image and no registry to pull it
from) the tests skip with the reason -- unless ``CONFORMANCE_REQUIRE_DOCKER=1``, which CI sets:
then they fail, so a CI machine whose engine did not start cannot pass by skipping.

``CONFORMANCE_DOCKER_TESTS_LOG=FILE`` makes every worker append one line per test of this folder
(``passed|failed|skipped <node id>``), so that CI can check that the Docker tests ran rather
than skipped or were deselected (see docker/README.md, "CI").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ENV = "CONFORMANCE_REQUIRE_DOCKER"
TESTS_LOG_ENV = "CONFORMANCE_DOCKER_TESTS_LOG"
HERE = Path(__file__).resolve().parent


def docker_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.docker)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    target = os.environ.get(TESTS_LOG_ENV)
    # under pytest-xdist the controller sees the workers' reports again (with ``node`` set)
    if not target or getattr(report, "node", None) is not None:
        return
    # one line per test: its call outcome, or the setup outcome when it never got to the call
    if report.when == "call" or (report.when == "setup" and not report.passed):
        line = f"{report.outcome} {report.nodeid}\n"
        with open(target, "a", encoding="utf-8") as fh:  # O_APPEND: safe across xdist workers
            fh.write(line)


def _unavailable(reason: str) -> None:
    if docker_required():
        pytest.fail(f"{REQUIRE_ENV}=1 but the Docker backend cannot run: {reason}", pytrace=False)
    pytest.skip(f"Docker backend unavailable: {reason}")


@pytest.fixture(scope="session")
def docker_client() -> Any:
    """A connected docker SDK client (skip, or fail under CONFORMANCE_REQUIRE_DOCKER=1)."""
    from harness.runtime.docker import DockerUnavailableError, connect

    try:
        return connect()
    except DockerUnavailableError as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def docker_image(docker_client: Any) -> Any:
    """The harness image (built once per machine and harness version; xdist workers share it)."""
    from harness.runtime.docker import BaseImageUnavailableError, ensure_image

    try:
        return ensure_image(docker_client)
    except BaseImageUnavailableError as exc:
        _unavailable(str(exc))


@pytest.fixture
def docker_runtime(docker_image: Any, tmp_path: Path) -> Iterator[Any]:
    """A fresh runtime (own network, own labels) whose log folder is the test's tmp_path."""
    from harness.runtime.docker import DockerRuntime

    with DockerRuntime(log_dir=tmp_path / "logs", image=docker_image.tag) as runtime:
        yield runtime
