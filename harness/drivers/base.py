"""What every driver of the ``peppol-bis`` profile does, and what it hands back.

A driver makes the participant act: produce the document of a scenario (participant as sender),
or receive a document and decide (participant as receiver). Drivers never raise for something the
participant did or failed to do: every outcome is a result value, with

* ``no_traffic``: nothing arrived (no file, nobody at the terminal); the scenario ends NO_TRAFFIC,
  never a pass;
* ``unreachable``: the harness could not drive the participant (connection refused, timeout,
  credentials refused, the embedded endpoint did not start): no judgement possible;
* ``api_problem``: the participant answered, but not as the control API contract says
  (BIS-API-001);
* ``error``: a one-line explanation for whichever of the above happened (or why no document came);
* ``exchange``: what went over the wire, recorded for evidence with secrets redacted.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

#: Media type of a recorded HTTP message (request line or status line, headers, body).
HTTP_MESSAGE = "message/http"


@dataclass(frozen=True)
class ExchangeRecord:
    """One artefact of an exchange, ready to be stored as evidence (secrets already redacted)."""

    label: str
    data: bytes
    media_type: str


#: Called with every record as soon as it exists (e.g. to log or store it).
EvidenceHook = Callable[[ExchangeRecord], None]


@dataclass(frozen=True)
class DriverResult:
    """Answer to :meth:`PeppolBisDriver.produce_document`."""

    document: bytes | None
    exchange: tuple[ExchangeRecord, ...] = ()
    no_traffic: bool = False
    unreachable: bool = False
    error: str | None = None
    api_problem: str | None = None
    #: HTTP status of the answer, when there was one.
    status: int | None = None


@dataclass(frozen=True)
class InboundResult:
    """Answer to :meth:`PeppolBisDriver.deliver_inbound`. ``accepted`` is ``None`` when no
    decision could be read (see ``no_traffic``, ``unreachable``, ``api_problem``)."""

    accepted: bool | None
    rule_ids: tuple[str, ...] = ()
    message: str = ""
    exchange: tuple[ExchangeRecord, ...] = ()
    no_traffic: bool = False
    unreachable: bool = False
    error: str | None = None
    api_problem: str | None = None
    status: int | None = None


class PeppolBisDriver(abc.ABC):
    """Makes a participant act for profile ``peppol-bis``. Use as a context manager or call
    :meth:`close`."""

    kind: str = "?"

    def __init__(self, evidence_hook: EvidenceHook | None = None) -> None:
        self._evidence_hook = evidence_hook

    @abc.abstractmethod
    def produce_document(self, scenario: str, ruleset: str) -> DriverResult:
        """Ask the participant for the document of ``scenario`` under ``ruleset``."""

    @abc.abstractmethod
    def deliver_inbound(self, document: bytes) -> InboundResult:
        """Hand ``document`` to the participant and read its decision."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """What the harness observed of how it drives the participant (JSON-ready, no secrets)."""

    def close(self) -> None:
        """Release connections (the runtime, not the driver, stops embedded endpoints)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _recorded(self, *records: ExchangeRecord) -> tuple[ExchangeRecord, ...]:
        if self._evidence_hook is not None:
            for r in records:
                self._evidence_hook(r)
        return records
