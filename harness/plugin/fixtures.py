"""Fixtures the suites use. Registered with the session plugin (only when a run is active)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from harness.plugin.recorder import CheckRecorder
from harness.plugin.session import ConformanceSession, RunContext, write_observed


def _session(request: pytest.FixtureRequest) -> ConformanceSession:
    plugin = request.config.pluginmanager.get_plugin("conformance-session")
    if plugin is None:
        pytest.skip("no conformance run is active (give --participant PATH)")
    return plugin  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def conformance_run(request: pytest.FixtureRequest) -> RunContext:
    """The run context: run id, run folder, seed, selected profiles."""
    return _session(request).ctx


@pytest.fixture(scope="session")
def participant(request: pytest.FixtureRequest) -> Any:
    """The participant under test (``harness.config.participant.Participant``)."""
    return _session(request).participant


@pytest.fixture(scope="session")
def run_seed(conformance_run: RunContext) -> int:
    return conformance_run.seed


@pytest.fixture(scope="session")
def evidence(conformance_run: RunContext, participant: Any) -> Any:
    """Content-addressed evidence store of the run folder; secrets are redacted on the way in."""
    from harness.report.evidence import EvidenceStore

    return EvidenceStore(conformance_run.run_dir, secrets=participant.secrets)


@pytest.fixture
def checks(request: pytest.FixtureRequest) -> CheckRecorder:
    """Recorder of this test's checks (one per assertion about the participant)."""
    return _session(request).recorder_for(request.node)


@pytest.fixture(scope="session")
def validator() -> Any:
    """The process-wide warm document validator."""
    from harness.peppol.validation import get_validator

    return get_validator()


@pytest.fixture(scope="session")
def endpoint_runtime(conformance_run: RunContext, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Starts reference endpoints for this process (each xdist worker owns its own), with the
    backend chosen by ``--endpoints`` (local processes or Docker containers)."""
    from harness.runtime import make_runtime

    logs = conformance_run.run_dir / "logs" / conformance_run.worker_id
    with make_runtime(request.config.getoption("endpoints"), log_dir=logs) as runtime:
        yield runtime


class _TerminalWriter:
    """Writes to the real terminal around pytest's output capture (for the prompt driver)."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    def write(self, text: str) -> int:
        capman = self._config.pluginmanager.getplugin("capturemanager")
        reporter = self._config.pluginmanager.getplugin("terminalreporter")
        if capman is None or reporter is None:
            print(text, end="", file=sys.__stderr__ or sys.stderr, flush=True)
            return len(text)
        with capman.global_and_fixture_disabled():
            reporter.write(text)
            reporter.flush()
        return len(text)

    def flush(self) -> None:
        pass


def _terminal_attached(conformance_run: RunContext) -> bool:
    """A person can answer prompts: a serial run whose real stdin is a terminal."""
    stdin = sys.__stdin__
    try:
        return not conformance_run.is_worker and stdin is not None and stdin.isatty()
    except (ValueError, OSError):
        return False


@pytest.fixture(scope="session")
def peppol_driver(
    participant: Any, endpoint_runtime: Any, conformance_run: RunContext, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """How the harness makes the participant act for profile peppol-bis (see DESIGN.md drivers)."""
    from harness.drivers import make_driver

    driver = make_driver(
        participant,
        endpoint_runtime,
        interactive=_terminal_attached(conformance_run),
        out=_TerminalWriter(request.config),  # type: ignore[arg-type]
    )
    try:
        write_observed(conformance_run, "driver", driver.describe())
        yield driver
    finally:
        driver.close()


# -- profile peppol-smp ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def smp_pki() -> Iterator[Any]:
    """The test PKI of this process's peppol-smp network (a ``Path``). Private keys live here,
    in a temporary folder outside the run folder, removed at the end: never in evidence."""
    import shutil
    import tempfile
    from pathlib import Path

    from harness.reference.smp_network import make_test_pki

    directory = Path(tempfile.mkdtemp(prefix="conformance-smp-pki-"))
    try:
        yield make_test_pki(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def smp_network(endpoint_runtime: Any, smp_pki: Any, conformance_run: RunContext) -> Iterator[Any]:
    """The harness's reference SML (DNS) and SMP for profile peppol-smp
    (``harness.reference.smp_network.SmpNetwork``), one per process."""
    from harness.reference.smp_network import SmpNetwork

    network = SmpNetwork.start(endpoint_runtime, smp_pki)
    try:
        write_observed(conformance_run, "peppol-smp network", {"sml_zone": network.zone})
        yield network
    finally:
        network.close()


@pytest.fixture(scope="session")
def smp_driver(
    participant: Any, endpoint_runtime: Any, smp_pki: Any, conformance_run: RunContext
) -> Iterator[Any]:
    """How the harness makes the participant publish (role smp) and look up (role ap) for
    profile peppol-smp (``harness.drivers.smp.PeppolSmpDriver``)."""
    from harness.drivers.smp import make_smp_driver

    driver = make_smp_driver(participant, endpoint_runtime, pki_dir=smp_pki)
    try:
        yield driver
    finally:
        try:
            write_observed(conformance_run, "peppol-smp driver", driver.describe())
        finally:
            driver.close()
