"""pytest plugin of the Trade Conformance Harness (entry point ``pytest11: conformance``).

Polite by design: importing this module costs nothing beyond pytest itself. Options and markers
are registered always; the machinery (participant loading, endpoints, validator, report writer)
is imported and registered only when ``--participant`` is given.
"""

from __future__ import annotations

import pytest

MARKERS = (
    "requirement(*ids): requirement ids this test verifies (qualified official ids or our own)",
    "profile(id): the conformance profile this test belongs to (e.g. peppol-bis)",
    "role(name): the participant role under test (e.g. sender, receiver)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "Trade Conformance Harness")
    group.addoption("--participant", metavar="PATH", help="participant file (TOML) to certify")
    group.addoption(
        "--profile",
        action="append",
        default=[],
        metavar="ID",
        help="profile to certify (repeatable); default: every profile the participant claims",
    )
    group.addoption(
        "--report-dir",
        metavar="DIR",
        help="parent folder of run folders (default: ./reports); each run writes <run-id>/ inside",
    )
    group.addoption("--seed", type=int, metavar="N", help="seed of property-based campaigns")
    group.addoption(
        "--endpoints",
        choices=["local", "docker"],
        default="local",
        help="where reference endpoints run: local processes (default) or Docker containers"
        " (needs the [docker] extra and a Docker engine)",
    )
    group.addoption(
        "--sign-key",
        metavar="PATH",
        help="Ed25519 private key (PEM) sealing the report (default: CONFORMANCE_SIGNING_KEY,"
        " else an ephemeral per-run key)",
    )
    group.addoption("--conformance-run-id", metavar="ID", help=argparse_suppress())
    group.addoption(
        "--campaign-budget",
        type=int,
        default=None,
        metavar="N",
        help="examples per property-based campaign (default: the suite's fixed budget)",
    )


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    if config.getoption("participant") or _workerinput(config).get("conformance_run_dir"):
        from harness.plugin import fixtures
        from harness.plugin.session import ConformanceSession

        config.pluginmanager.register(ConformanceSession(config), "conformance-session")
        config.pluginmanager.register(fixtures, "conformance-fixtures")


def _workerinput(config: pytest.Config) -> dict[str, object]:
    return getattr(config, "workerinput", {}) or {}
