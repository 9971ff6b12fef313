"""``embedded`` driver: the harness runs its own reference participant and drives it over HTTP.

The endpoint is started through the runtime exactly as every endpoint is
(``conformance serve peppol-participant --variant V``), on first use, and then driven like any
``http`` participant -- so the reference participant is judged through the same wire, contract
checks and evidence as a real one. If it does not start, every call answers ``unreachable`` with
the runtime's explanation (no retry storm, no traceback).
"""

from __future__ import annotations

import threading
from typing import Any

from harness.drivers.base import DriverResult, EvidenceHook, InboundResult, PeppolBisDriver
from harness.drivers.http import HttpDriver
from harness.runtime.base import EndpointRuntime, EndpointStartError, RunningEndpoint

ENDPOINT = "peppol-participant"


class EmbeddedDriver(PeppolBisDriver):
    kind = "embedded"

    def __init__(
        self,
        runtime: EndpointRuntime,
        *,
        variant: str = "good",
        timeout: float = 120.0,
        evidence_hook: EvidenceHook | None = None,
    ) -> None:
        super().__init__(evidence_hook)
        self.runtime = runtime
        self.variant = variant
        self.timeout = timeout
        self._lock = threading.Lock()
        self._http: HttpDriver | None = None
        self._endpoint: RunningEndpoint | None = None
        self._failure: str | None = None

    @property
    def endpoint(self) -> RunningEndpoint | None:
        return self._endpoint

    def start(self) -> HttpDriver | None:
        """Start the reference participant (once); ``None`` if it could not be started."""
        with self._lock:
            if self._http is None and self._failure is None:
                try:
                    self._endpoint = self.runtime.start(ENDPOINT, variant=self.variant)
                except EndpointStartError as exc:
                    self._failure = f"the embedded reference participant did not start: {exc}"
                else:
                    self._http = HttpDriver(
                        self._endpoint.base_url,
                        timeout=self.timeout,
                        evidence_hook=self._evidence_hook,
                        trust_env=False,  # 127.0.0.1: never through a proxy
                        # the port is ephemeral (it is recorded once, in the report's observed
                        # facts); leaving it out of each message keeps evidence digests
                        # reproducible, so a parallel run reports exactly what a serial run does
                        volatile_headers=("host",),
                    )
            return self._http

    def produce_document(self, scenario: str, ruleset: str) -> DriverResult:
        http = self.start()
        if http is None:
            return DriverResult(None, unreachable=True, error=self._failure)
        return http.produce_document(scenario, ruleset)

    def deliver_inbound(self, document: bytes) -> InboundResult:
        http = self.start()
        if http is None:
            return InboundResult(None, unreachable=True, error=self._failure)
        return http.deliver_inbound(document)

    def describe(self) -> dict[str, Any]:
        http = self.start()
        facts: dict[str, Any] = {
            "kind": self.kind,
            "endpoint": ENDPOINT,
            "variant": self.variant,
            "runtime": self.runtime.backend,
        }
        if http is None or self._endpoint is None:
            facts["error"] = self._failure
            return facts
        facts.update(
            base_url=self._endpoint.base_url,
            pid=self._endpoint.pid,
            log=str(self._endpoint.log_path) if self._endpoint.log_path else None,
            startup_seconds=self._endpoint.startup_seconds,
        )
        facts.update(http.observe())
        return facts

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
