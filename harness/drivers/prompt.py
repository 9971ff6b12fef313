"""``prompt`` driver: manual certification. The harness prints what to do and waits for files.

* Sender: "produce scenario S (rule set R) and save it as <folder>/<R>/<S>.xml"; the harness
  waits up to ``timeout`` seconds for that file (or ``<folder>/<S>.xml``). A file already there is
  used at once, so documents can be prepared up front.
* Receiver: the harness writes the document to ``<folder>/inbound/<sha256>.xml`` and waits for
  ``<folder>/inbound/<sha256>.decision.json`` holding the control API's answer
  ``{"accepted": ..., "rule_ids": [...], "message": ...}``.

With no terminal (CI, or pytest capturing stdin) nobody can be asked: every call returns
``no_traffic`` at once -- it never hangs.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from harness.drivers import control_api
from harness.drivers.base import (
    DriverResult,
    EvidenceHook,
    ExchangeRecord,
    InboundResult,
    PeppolBisDriver,
)
from harness.drivers.folder import document_candidates, read_document

NO_TERMINAL = (
    "no terminal to prompt on (stdin is not a TTY: CI, or a pytest-xdist worker - run serially"
    " from a terminal for manual certification);"
    " the prompt driver cannot ask anyone, so the scenario saw no traffic"
)


def stdin_is_terminal() -> bool:
    stdin = sys.stdin
    try:
        return bool(stdin is not None and stdin.isatty())
    except (ValueError, OSError):  # closed or detached stdin
        return False


class PromptDriver(PeppolBisDriver):
    kind = "prompt"

    def __init__(
        self,
        folder: Path,
        *,
        timeout: float = 300.0,
        interactive: bool | Callable[[], bool] = stdin_is_terminal,
        out: TextIO | None = None,
        poll_interval: float = 0.25,
        evidence_hook: EvidenceHook | None = None,
    ) -> None:
        super().__init__(evidence_hook)
        self.folder = Path(folder)
        self.timeout = timeout
        self._interactive = interactive
        self._out = out
        self.poll_interval = poll_interval

    @property
    def interactive(self) -> bool:
        return self._interactive() if callable(self._interactive) else bool(self._interactive)

    def produce_document(self, scenario: str, ruleset: str) -> DriverResult:
        if not self.interactive:
            return DriverResult(None, no_traffic=True, error=NO_TERMINAL)
        candidates = document_candidates(self.folder, scenario, ruleset)
        candidates[0].parent.mkdir(parents=True, exist_ok=True)
        if not any(p.is_file() for p in candidates):
            self._say(
                f"Make your system produce the document of scenario {scenario!r} for rule set"
                f" {ruleset} and save it as\n    {candidates[0]}\n"
                f"  Waiting up to {self.timeout:g} s (Ctrl-C stops the run)."
            )
        path = self._wait_for(candidates)
        if path is None:
            return DriverResult(
                None, no_traffic=True,
                error=f"no document arrived at {candidates[0]} within {self.timeout:g} s",
            )
        data, problem = read_document(path)
        if data is None:
            return DriverResult(None, unreachable=True, error=problem)
        record = ExchangeRecord(f"file {path} ({ruleset} {scenario}, prompt)", data, "application/xml")
        return DriverResult(data, self._recorded(record))

    def deliver_inbound(self, document: bytes) -> InboundResult:
        if not self.interactive:
            return InboundResult(None, no_traffic=True, error=NO_TERMINAL)
        inbox = self.folder / "inbound"
        inbox.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(document).hexdigest()[:16]
        doc_path = inbox / f"{digest}.xml"
        decision_path = inbox / f"{digest}.decision.json"
        doc_path.write_bytes(document)
        if not decision_path.is_file():
            self._say(
                f"Give this document to your system as if it arrived from the network:\n"
                f"    {doc_path}\n"
                f"  then write its decision to\n    {decision_path}\n"
                '  as {"accepted": true|false, "rule_ids": ["BR-..."], "message": "..."}.\n'
                f"  Waiting up to {self.timeout:g} s (Ctrl-C stops the run)."
            )
        path = self._wait_for((decision_path,))
        if path is None:
            return InboundResult(
                None, no_traffic=True, error=f"no decision arrived at {decision_path} within {self.timeout:g} s"
            )
        data, problem = read_document(path)
        if data is None:
            return InboundResult(None, unreachable=True, error=problem)
        record = ExchangeRecord(f"file {path} (decision, prompt)", data, "application/json")
        exchange = self._recorded(record)
        schema = control_api.operation("POST", control_api.PEPPOL_INBOUND)["responses"]["200"]["content"][
            "application/json"
        ]["schema"]
        try:
            value = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            return InboundResult(None, exchange=exchange, api_problem=f"{path} is not JSON: {exc}",
                                 error=f"{path} is not JSON: {exc}")
        invalid = control_api.json_problem(schema, value)
        if invalid:
            return InboundResult(None, exchange=exchange, api_problem=f"{path}: {invalid}",
                                 error=f"the decision in {path} is not the control API's answer: {invalid}")
        return InboundResult(value["accepted"], tuple(value["rule_ids"]), value["message"], exchange)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "folder": str(self.folder),
            "timeout": self.timeout,
            "interactive": self.interactive,
        }

    # -- internals -------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        out = self._out or sys.stderr
        print(f"\n[conformance] {text}", file=out, flush=True)

    def _wait_for(self, paths: tuple[Path, ...]) -> Path | None:
        """The first of ``paths`` that exists and stopped growing, or None after the timeout."""
        deadline = time.monotonic() + self.timeout
        sizes: dict[Path, int] = {}
        while True:
            for path in paths:
                try:
                    size = path.stat().st_size
                except OSError:
                    continue
                if size > 0 and sizes.get(path) == size:
                    return path
                sizes[path] = size
            if time.monotonic() >= deadline:
                # last look: a file that is there now counts, even if it was not seen twice
                return next((p for p in paths if p.is_file() and p.stat().st_size > 0), None)
            time.sleep(self.poll_interval)
