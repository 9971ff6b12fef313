"""Drivers of profile ``peppol-smp``: how the harness makes the participant publish (role ``smp``)
and look receivers up (role ``ap``).

* :class:`HttpSmpDriver` -- the participant exposes the control API group
  ``/conformance/v1/peppol-smp/`` (``publishParticipant``, ``unpublishParticipant``,
  ``lookupReceiver``); its SMP's read interface is at ``[profiles.peppol-smp] smp_url``, its SMP
  CA in ``smp_ca``.
* :class:`EmbeddedSmpDriver` -- the harness runs its own reference participant: the reference SMP
  (``conformance serve smp``, whose management API answers ``publishParticipant`` and
  ``unpublishParticipant``) and the
  reference lookup participant (``conformance serve peppol-smp-participant``), started through the
  runtime on first use; ``driver.variant`` names a known-bad variant of one of them
  (:mod:`harness.reference.smp_variants`), the other one is good.

Like the peppol-bis drivers, nothing the participant does makes these raise: results are values
(:class:`PublishResult`, :class:`UnpublishResult`, :class:`LookupAnswer`) carrying the exchange as
redacted evidence.
"""

from __future__ import annotations

import abc
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from harness.drivers import control_api
from harness.drivers.base import EvidenceHook, ExchangeRecord

if TYPE_CHECKING:
    from harness.config.participant import Participant
    from harness.drivers.http import HttpDriver
    from harness.peppol.smp.client import LookupRequest
    from harness.peppol.smp.control import Publication
    from harness.peppol.smp.identifiers import ParticipantIdentifier
    from harness.runtime.base import EndpointRuntime, RunningEndpoint

#: ``unpublishParticipant``: the participant is one percent-encoded path segment (OpenAPI path
#: template, the key :func:`harness.drivers.control_api.response_problem` looks the contract up by).
SMP_UNPUBLISH = control_api.SMP_PUBLISH + "/{participant}"


@dataclass(frozen=True)
class PublishResult:
    """Answer to :meth:`PeppolSmpDriver.publish`."""

    published: bool
    exchange: tuple[ExchangeRecord, ...] = ()
    unreachable: bool = False
    error: str | None = None
    #: The answer is not one the control API allows (SMP-API-001).
    api_problem: str | None = None
    status: int | None = None


@dataclass(frozen=True)
class UnpublishResult:
    """Answer to :meth:`PeppolSmpDriver.unpublish`: ``unpublished`` when the SMP said it removed
    the participant (2xx); ``status`` 404 when it says it did not have it."""

    unpublished: bool
    exchange: tuple[ExchangeRecord, ...] = ()
    unreachable: bool = False
    error: str | None = None
    #: The answer is not one the control API allows (SMP-API-002).
    api_problem: str | None = None
    status: int | None = None


@dataclass(frozen=True)
class LookupAnswer:
    """Answer to :meth:`PeppolSmpDriver.lookup`: ``outcome`` is ``endpoint``, ``refused``, or
    None when no decision could be read (see ``unreachable``, ``api_problem``)."""

    outcome: str | None
    endpoint_url: str | None = None
    #: The receiving AP's certificate as answered (PEM or base64 DER).
    certificate: str | None = None
    transport_profile: str | None = None
    process: str | None = None
    reason: str | None = None
    message: str = ""
    exchange: tuple[ExchangeRecord, ...] = ()
    unreachable: bool = False
    error: str | None = None
    #: The answer is not one the control API allows (LOOKUP-API-001).
    api_problem: str | None = None
    status: int | None = None

    @property
    def summary(self) -> str:
        if self.outcome == "endpoint":
            return f"endpoint {self.endpoint_url} ({self.transport_profile})"
        if self.outcome == "refused":
            return f"refused ({self.reason}): {self.message}"
        return self.error or self.api_problem or "no readable answer"


class PeppolSmpDriver(abc.ABC):
    """Makes a participant act for profile ``peppol-smp``. Use as a context manager."""

    kind: str = "?"

    @property
    @abc.abstractmethod
    def smp_url(self) -> str | None:
        """Base URL of the participant's SMP read interface (role smp)."""

    @property
    @abc.abstractmethod
    def smp_trust_anchor(self) -> bytes | None:
        """PEM of the CA(s) the participant's SMP signing certificate must chain to (role smp)."""

    @property
    def tls_ca(self) -> Path | None:
        """PEM file of the CAs of the SMP's TLS certificate (None: the system trust store)."""
        return None

    @property
    def volatile_headers(self) -> tuple[str, ...]:
        """Headers left out of recorded SMP exchanges (ephemeral ports of embedded endpoints)."""
        return ()

    @property
    def ap_is_peer(self) -> bool:
        """The AP runs in the harness's runtime: hand it peer addresses (Docker container names)."""
        return False

    @abc.abstractmethod
    def publish(self, publication: Publication) -> PublishResult:
        """Publish ``publication`` on the participant's SMP (``publishParticipant``)."""

    @abc.abstractmethod
    def unpublish(self, participant: ParticipantIdentifier) -> UnpublishResult:
        """Remove ``participant`` from the participant's SMP (``unpublishParticipant``)."""

    @abc.abstractmethod
    def lookup(self, request: LookupRequest) -> LookupAnswer:
        """Ask the participant, as a sending AP, to look a receiver up (``lookupReceiver``)."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """What the harness observed of how it drives the participant (JSON-ready, no secrets)."""

    def close(self) -> None:
        """Release connections (the runtime, not the driver, stops embedded endpoints)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# -- the control API client ------------------------------------------------------------------------


@dataclass(frozen=True)
class _WriteAnswer:
    """What a participant answered to a control API write (publish or unpublish)."""

    ok: bool
    records: tuple[ExchangeRecord, ...]
    unreachable: bool = False
    error: str | None = None
    api_problem: str | None = None
    status: int | None = None


def _write_call(
    http: HttpDriver,
    method: str,
    path: str,
    spec_path: str,
    body: bytes | None,
    what: str,
    doing: str,
    ok: Callable[[int], bool],
) -> _WriteAnswer:
    """One control API write through ``http``: no answer (or a refused token) -> unreachable;
    else judged against the OpenAPI operation at ``spec_path``, successful when ``ok(status)``,
    with an error naming the status and the problem detail otherwise."""
    content_type = "application/json" if body is not None else None
    answer = http._call(method, path, body, content_type, what)
    if answer.failure is not None:
        return _WriteAnswer(
            False,
            answer.records,
            unreachable=True,
            error=answer.failure,
            status=answer.status or None,
        )
    problem = control_api.response_problem(
        method, spec_path, answer.status, answer.content_type, answer.body
    )
    if ok(answer.status):
        return _WriteAnswer(True, answer.records, api_problem=problem, status=answer.status)
    detail = _problem_detail(answer.body)
    return _WriteAnswer(
        False,
        answer.records,
        api_problem=problem,
        status=answer.status,
        error=f"the participant answered HTTP {answer.status} to {doing}"
        f"{': ' + detail if detail else ''}",
    )


def publish_via(
    http: HttpDriver, publication: Publication, *, with_signing: bool = False
) -> PublishResult:
    """``POST /conformance/v1/peppol-smp/participants`` through ``http``."""
    body = json.dumps(publication.to_json(with_signing=with_signing)).encode()
    a = _write_call(
        http, "POST", control_api.SMP_PUBLISH, control_api.SMP_PUBLISH, body,
        f"publish {publication.participant}", f"publishing {publication.participant}",
        lambda status: status in (200, 201, 204),
    )  # fmt: skip
    # a publication the participant could not be asked about carries no status
    status = None if a.unreachable else a.status
    return PublishResult(a.ok, a.records, a.unreachable, a.error, a.api_problem, status)


def unpublish_via(http: HttpDriver, participant: ParticipantIdentifier) -> UnpublishResult:
    """``DELETE /conformance/v1/peppol-smp/participants/{participant}`` through ``http`` (the
    identifier percent-encoded once, as in the SMP read interface)."""
    from harness.peppol.smp.identifiers import path_segment

    path = SMP_UNPUBLISH.replace("{participant}", path_segment(participant))
    a = _write_call(
        http, "DELETE", path, SMP_UNPUBLISH, None, f"unpublish {participant}",
        f"unpublishing {participant}", lambda status: 200 <= status < 300,
    )  # fmt: skip
    return UnpublishResult(a.ok, a.records, a.unreachable, a.error, a.api_problem, a.status)


def lookup_via(http: HttpDriver, request: LookupRequest) -> LookupAnswer:
    """``POST /conformance/v1/peppol-smp/lookup`` through ``http``."""
    from harness.peppol.smp.control import lookup_request_json

    path = control_api.SMP_LOOKUP
    body = json.dumps(lookup_request_json(request)).encode()
    what = f"lookup {request.receiver} / {request.document_type}"
    answer = http._call("POST", path, body, "application/json", what)
    if answer.failure is not None:
        return LookupAnswer(None, exchange=answer.records, unreachable=True, error=answer.failure)
    problem = control_api.response_problem(
        "POST", path, answer.status, answer.content_type, answer.body
    )
    value: Any = None
    if answer.status == 200:
        try:
            value = json.loads(answer.body)
        except (ValueError, UnicodeDecodeError):
            value = None
    if not isinstance(value, dict) or value.get("outcome") not in ("endpoint", "refused"):
        detail = _problem_detail(answer.body)
        return LookupAnswer(
            None,
            exchange=answer.records,
            api_problem=problem or f"POST {path} answered HTTP {answer.status} without an outcome",
            status=answer.status,
            error=f"the participant answered HTTP {answer.status} without a lookup outcome"
            f"{': ' + detail if detail else ''}",
        )

    def text(key: str) -> str | None:
        v = value.get(key)
        return v if isinstance(v, str) else None

    return LookupAnswer(
        value["outcome"],
        endpoint_url=text("endpoint_url"),
        certificate=text("certificate"),
        transport_profile=text("transport_profile"),
        process=text("process"),
        reason=text("reason"),
        message=text("message") or "",
        exchange=answer.records,
        api_problem=problem,
        status=answer.status,
    )


def _problem_detail(body: bytes) -> str:
    from harness.drivers.http import _problem_detail as detail

    return detail(body)


# -- http ------------------------------------------------------------------------------------------


class HttpSmpDriver(PeppolSmpDriver):
    """The participant exposes the control API at ``base_url``; its SMP is at ``smp_url``."""

    kind = "http"

    def __init__(
        self,
        base_url: str,
        *,
        smp_url: str | None,
        smp_ca: Path | None,
        tls_ca: Path | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        secrets: tuple[str, ...] = (),
        evidence_hook: EvidenceHook | None = None,
    ) -> None:
        from harness.drivers.http import HttpDriver

        self._http = HttpDriver(
            base_url, token=token, timeout=timeout, secrets=secrets, evidence_hook=evidence_hook
        )
        self._smp_url = smp_url
        self._smp_ca = smp_ca
        self._tls_ca = tls_ca

    @property
    def smp_url(self) -> str | None:
        return self._smp_url

    @property
    def smp_trust_anchor(self) -> bytes | None:
        return self._smp_ca.read_bytes() if self._smp_ca is not None else None

    @property
    def tls_ca(self) -> Path | None:
        return self._tls_ca

    def publish(self, publication: Publication) -> PublishResult:
        return publish_via(self._http, publication)

    def unpublish(self, participant: ParticipantIdentifier) -> UnpublishResult:
        return unpublish_via(self._http, participant)

    def lookup(self, request: LookupRequest) -> LookupAnswer:
        return lookup_via(self._http, request)

    def describe(self) -> dict[str, Any]:
        facts = self._http.describe()
        facts["smp_url"] = self._smp_url
        return facts

    def close(self) -> None:
        self._http.close()


# -- embedded --------------------------------------------------------------------------------------

SMP_ENDPOINT = "smp"
LOOKUP_ENDPOINT = "peppol-smp-participant"


class EmbeddedSmpDriver(PeppolSmpDriver):
    """The reference SMP and lookup participant, started through ``runtime`` on first use.

    ``pki_dir`` is the harness's test PKI: the embedded SMP signs with its SMP certificate, so its
    trust anchor is that PKI's SMP CA. If an endpoint does not start, every call answers
    ``unreachable`` with the runtime's explanation.
    """

    kind = "embedded"

    def __init__(
        self,
        runtime: EndpointRuntime,
        *,
        pki_dir: Path,
        variant: str = "good",
        timeout: float = 120.0,
        https: bool = False,
        evidence_hook: EvidenceHook | None = None,
    ) -> None:
        from harness.reference.smp_variants import LOOKUP_VARIANTS, SMP_VARIANTS

        self.runtime = runtime
        self.pki_dir = Path(pki_dir)
        self.https = https
        self.variant = variant
        self.timeout = timeout
        self._evidence_hook = evidence_hook
        self._smp_variant = variant if variant in SMP_VARIANTS else None
        self._lookup_variant = variant if variant in LOOKUP_VARIANTS else None
        self._lock = threading.Lock()
        self._started: dict[str, tuple[RunningEndpoint, HttpDriver] | str] = {}

    def _start(
        self, name: str, variant: str | None, *, verify: Any = True, **options: Any
    ) -> tuple[RunningEndpoint, HttpDriver] | str:
        from harness.drivers.http import HttpDriver
        from harness.runtime.base import EndpointStartError

        with self._lock:
            if name not in self._started:
                try:
                    endpoint = self.runtime.start(name, variant=variant, **options)
                except EndpointStartError as exc:
                    self._started[name] = f"the embedded reference {name} did not start: {exc}"
                else:
                    http = HttpDriver(
                        endpoint.base_url,
                        timeout=self.timeout,
                        evidence_hook=self._evidence_hook,
                        trust_env=False,
                        volatile_headers=("host",),
                        verify=verify,
                    )
                    self._started[name] = (endpoint, http)
            return self._started[name]

    def _smp(self) -> tuple[RunningEndpoint, HttpDriver] | str:
        if not self.https:
            return self._start(SMP_ENDPOINT, self._smp_variant, pki_dir=self.pki_dir)
        from harness.peppol.smp.reader import tls_context
        from harness.pki.tls import issue_tls_server

        tls = issue_tls_server(self.pki_dir)
        return self._start(
            SMP_ENDPOINT,
            self._smp_variant,
            verify=tls_context(tls.ca_path),
            pki_dir=self.pki_dir,
            tls_cert=tls.certificate_path,
            tls_key=tls.private_key_path,
        )

    def _lookup(self) -> tuple[RunningEndpoint, HttpDriver] | str:
        return self._start(LOOKUP_ENDPOINT, self._lookup_variant)

    @property
    def smp_url(self) -> str | None:
        started = self._smp()
        return None if isinstance(started, str) else started[0].base_url

    @property
    def smp_trust_anchor(self) -> bytes | None:
        from harness.pki import load_pki

        return load_pki(self.pki_dir).authority("smp-ca").certificate_path.read_bytes()

    @property
    def tls_ca(self) -> Path | None:
        """The test root CA, which issued the embedded SMP's TLS certificate (``https``)."""
        if not self.https:
            return None
        from harness.pki.tls import issue_tls_server

        return issue_tls_server(self.pki_dir).ca_path

    @property
    def volatile_headers(self) -> tuple[str, ...]:
        return ("host",)

    @property
    def ap_is_peer(self) -> bool:
        return True

    def publish(self, publication: Publication) -> PublishResult:
        started = self._smp()
        if isinstance(started, str):
            return PublishResult(False, unreachable=True, error=started)
        return publish_via(started[1], publication)

    def unpublish(self, participant: ParticipantIdentifier) -> UnpublishResult:
        started = self._smp()
        if isinstance(started, str):
            return UnpublishResult(False, unreachable=True, error=started)
        return unpublish_via(started[1], participant)

    def lookup(self, request: LookupRequest) -> LookupAnswer:
        started = self._lookup()
        if isinstance(started, str):
            return LookupAnswer(None, unreachable=True, error=started)
        return lookup_via(started[1], request)

    def describe(self) -> dict[str, Any]:
        facts: dict[str, Any] = {
            "kind": self.kind,
            "variant": self.variant,
            "runtime": self.runtime.backend,
            "endpoints": {},
        }
        with self._lock:
            started = dict(self._started)
        for name, value in sorted(started.items()):
            if isinstance(value, str):
                facts["endpoints"][name] = {"error": value}
            else:
                endpoint, _ = value
                facts["endpoints"][name] = {
                    "base_url": endpoint.base_url,
                    "variant": endpoint.options.get("variant", "good"),
                    "startup_seconds": endpoint.startup_seconds,
                }
        return facts

    def close(self) -> None:
        with self._lock:
            for value in self._started.values():
                if not isinstance(value, str):
                    value[1].close()


def make_smp_driver(
    participant: Participant,
    runtime: EndpointRuntime | None,
    *,
    pki_dir: Path | None = None,
    evidence_hook: EvidenceHook | None = None,
) -> PeppolSmpDriver:
    """The peppol-smp driver for ``participant``'s ``[driver]`` and ``[profiles.peppol-smp]``."""
    from harness.errors import ConfigError

    d = participant.driver
    settings = participant.profile("peppol-smp").smp
    if d.kind == "http":
        assert d.base_url is not None and settings is not None
        return HttpSmpDriver(
            d.base_url,
            smp_url=settings.smp_url,
            smp_ca=settings.smp_ca,
            tls_ca=settings.tls_ca,
            token=d.token.reveal() if d.token else None,
            timeout=d.timeout,
            secrets=participant.secrets,
            evidence_hook=evidence_hook,
        )
    if d.kind == "embedded":
        if runtime is None or pki_dir is None:
            raise ConfigError(
                f"participant {participant.name!r} uses driver kind embedded for peppol-smp, which"
                " needs an endpoint runtime and the run's test PKI (pass runtime and pki_dir)"
            )
        return EmbeddedSmpDriver(
            runtime,
            pki_dir=pki_dir,
            variant=d.variant or "good",
            timeout=d.timeout,
            https=settings is not None and settings.require_https,
            evidence_hook=evidence_hook,
        )
    raise ConfigError(
        f"driver kind {d.kind!r} cannot drive profile peppol-smp (use http or embedded)"
    )
