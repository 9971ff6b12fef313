"""Drivers: how the harness makes a participant act (DESIGN.md "Driving the participant").

``make_driver(participant, runtime)`` picks the driver the participant file asks for:

* ``http``: the participant exposes the control API (:mod:`.http`);
* ``embedded``: the harness starts its reference participant through ``runtime`` (:mod:`.embedded`);
* ``folder``: documents are read from a folder (:mod:`.folder`);
* ``prompt``: a person is asked and the harness waits, never without a terminal (:mod:`.prompt`).

Results are values (:class:`DriverResult`, :class:`InboundResult`), never exceptions, and carry the
exchange as redacted evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from harness.drivers.base import (
    DriverResult,
    EvidenceHook,
    ExchangeRecord,
    InboundResult,
    PeppolBisDriver,
)

if TYPE_CHECKING:
    from harness.config.participant import Participant
    from harness.runtime.base import EndpointRuntime

__all__ = [
    "DriverResult",
    "EvidenceHook",
    "ExchangeRecord",
    "InboundResult",
    "PeppolBisDriver",
    "make_driver",
]


def make_driver(
    participant: Participant,
    runtime: EndpointRuntime | None = None,
    evidence_hook: EvidenceHook | None = None,
    *,
    interactive: bool | None = None,
    out: TextIO | None = None,
) -> PeppolBisDriver:
    """The driver for ``participant``'s ``[driver]`` table. ``runtime`` is needed for
    ``embedded`` (it starts the reference participant on first use)."""
    from harness.errors import ConfigError

    d = participant.driver
    if d.kind == "http":
        from harness.drivers.http import HttpDriver

        assert d.base_url is not None  # the schema requires it
        return HttpDriver(
            d.base_url,
            token=d.token.reveal() if d.token else None,
            timeout=d.timeout,
            secrets=participant.secrets,
            evidence_hook=evidence_hook,
        )
    if d.kind == "embedded":
        from harness.drivers.embedded import EmbeddedDriver

        if runtime is None:
            raise ConfigError(
                f"participant {participant.name!r} uses driver kind embedded, which needs an endpoint"
                " runtime to start the reference participant (pass one to make_driver)"
            )
        return EmbeddedDriver(runtime, variant=d.variant or "good", timeout=d.timeout, evidence_hook=evidence_hook)
    if d.kind == "folder":
        from harness.drivers.folder import FolderDriver

        assert d.folder is not None
        return FolderDriver(d.folder, evidence_hook=evidence_hook)
    if d.kind == "prompt":
        from harness.drivers.prompt import PromptDriver

        assert d.folder is not None
        if interactive is None:
            return PromptDriver(d.folder, timeout=d.timeout, evidence_hook=evidence_hook, out=out)
        return PromptDriver(
            d.folder, timeout=d.timeout, evidence_hook=evidence_hook, interactive=interactive, out=out
        )
    raise ConfigError(f"unknown driver kind {d.kind!r}")  # unreachable: the schema forbids it
