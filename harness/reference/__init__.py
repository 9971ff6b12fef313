"""Reference endpoints: the other side of the wire, built only from the domain libraries.

Every endpoint is an ASGI app started one way, ``conformance serve NAME`` (locally through
:mod:`harness.runtime.local`, later in a container). This registry maps NAME to the factory that
builds the app; factories are imported only when that endpoint is served, so importing this
package stays cheap.
"""

from __future__ import annotations

import importlib
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from harness.errors import ConfigError


@dataclass(frozen=True)
class ExtraListener:
    """A non-HTTP listener bound for an endpoint by ``conformance serve`` (``--extra-port``).

    ``sockets`` are bound (TCP ones also listening) on ``host``:``port``, one per protocol of the
    endpoint's ``extra_ports`` entry (``"udp+tcp"``: a UDP and a TCP socket on the same port).
    The endpoint owns them once handed over.
    """

    name: str
    host: str
    port: int
    sockets: tuple[socket.socket, ...]

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ReferenceEndpoint:
    """One registered endpoint: ``factory`` is ``"module:function"`` returning an ASGI app.

    The factory takes keyword arguments ``variant`` (``None`` = the endpoint's good behaviour)
    and ``token`` (bearer token the app requires, ``None`` = open) and raises
    :class:`~harness.errors.ConfigError` for an unknown variant. An endpoint with
    ``extra_ports`` also gets ``listeners``: ``{name: ExtraListener}`` for each of them.
    """

    name: str
    summary: str
    factory: str
    #: ``"module:attribute"`` of a mapping whose keys are the endpoint's known-bad variants.
    variants: str | None = None
    #: Listeners besides HTTP, by name, with their protocols (``{"dns": "udp+tcp"}``): what
    #: ``conformance serve --extra-port NAME=PORT`` binds and a container backend publishes.
    extra_ports: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def create_app(
        self,
        *,
        variant: str | None = None,
        token: str | None = None,
        listeners: Mapping[str, ExtraListener] | None = None,
    ) -> Any:
        if self.extra_ports:
            return _load(self.factory)(variant=variant, token=token, listeners=listeners or {})
        return _load(self.factory)(variant=variant, token=token)

    def variant_names(self) -> tuple[str, ...]:
        if self.variants is None:
            return ()
        names: Iterable[str] = _load(self.variants)
        return tuple(sorted(names))


def _load(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


REGISTRY: MappingProxyType[str, ReferenceEndpoint] = MappingProxyType(
    {
        "peppol-participant": ReferenceEndpoint(
            name="peppol-participant",
            summary="Peppol BIS Billing 3.0 / PINT SG sender and receiver behind the control API",
            factory="harness.reference.peppol_participant:create_app",
            variants="harness.reference.peppol_variants:VARIANTS",
        ),
        "ocsp": ReferenceEndpoint(
            name="ocsp",
            summary="OCSP responder (RFC 6960) and CRL server of the test PKI (needs --pki-dir)",
            factory="harness.reference.ocsp:create_app",
        ),
        "smp": ReferenceEndpoint(
            name="smp",
            summary="Peppol SMP 1.x: ServiceGroup and signed ServiceMetadata, publish API (--pki-dir for its certificates)",
            factory="harness.reference.smp:create_app",
            variants="harness.reference.smp_variants:SMP_VARIANTS",
        ),
        "sml": ReferenceEndpoint(
            name="sml",
            summary="Peppol SML: DNS server (U-NAPTR Meta:SMP) on --extra-port dns=PORT, registration API",
            factory="harness.reference.sml:create_app",
            extra_ports=MappingProxyType({"dns": "udp+tcp"}),
        ),
        "peppol-smp-participant": ReferenceEndpoint(
            name="peppol-smp-participant",
            summary="Peppol SMP/SML lookup (sending AP) behind the control API",
            factory="harness.reference.smp:create_lookup_app",
            variants="harness.reference.smp_variants:LOOKUP_VARIANTS",
        ),
    }
)


def get_endpoint(name: str) -> ReferenceEndpoint:
    """The registered endpoint ``name``; a ConfigError listing the known names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown reference endpoint {name!r}; known: {', '.join(sorted(REGISTRY))}"
            " (conformance serve --list shows them)"
        ) from None
