"""The reference SML: a DNS server for one zone (dnslib) and an HTTP API to register participants.

``conformance serve sml [--extra-port dns=PORT]``: HTTP on ``--port`` (management), DNS on the
``dns`` extra port, UDP and TCP. What a registration publishes (Peppol SML 1.3.0, PFUOI 4.4.0
POLICY 7)::

    <base32(sha256(lowercase(value)))>.<scheme>.<zone>  NAPTR 100 10 "U" "Meta:SMP" "!^.*$!<smp url>!" .

and, only when the registration asks for it (``legacy_cname: true``: the retired form, behind a
flag), ``B-<md5(lowercase(value))>.<scheme>.<zone> CNAME <smp host>``.

What a record may carry (Peppol SML 1.3.0 section 2.1.1, "U-NAPTR Resource Records"): the URI
MUST use the ``https`` scheme, MUST NOT carry a user name or password in its authority and MUST
NOT have a query or fragment. The served SML refuses (400) to register an SMP URL that breaks one
of these, so what it publishes is conformant; the one explicit exception is ``"allow_http": true``
in a registration, which publishes a plain ``http`` URL deliberately (an SMP under test that the
participant file says is served over plain HTTP, or a negative test). The in-process
:class:`SmlZone` applies the https rule only when built with ``https_only=True``, as the served
one is.

The DNS server answers authoritatively for the zone (SOA at the apex and in the authority section
of NXDOMAIN/NODATA answers) and REFUSED for other names. Every query is logged (name, type,
answer code, transport) for the suites to see what an AP asked.

Management API (JSON; bearer token when one is set; ``/conformance/v1/health`` is open):

- ``POST /conformance/v1/peppol-sml/participants`` ``{"participant": "iso6523-actorid-upis::0088:..",
  "smp_url": "https://127.0.0.1:8081", "legacy_cname": false, "allow_http": false}`` -> 201 with
  the DNS names, 400 for an SMP URL a record may not carry (see above);
- ``DELETE /conformance/v1/peppol-sml/participants/{participant, percent-encoded}`` -> 204 / 404;
- ``GET /conformance/v1/peppol-sml/participants`` -> the registrations;
- ``GET /conformance/v1/peppol-sml/info`` -> ``{"zone", "dns"}``;
- ``GET`` / ``DELETE /conformance/v1/peppol-sml/queries`` -> the DNS query log / clear it;
- ``POST /conformance/v1/peppol-sml/reset`` -> forget every registration and the log.

The zone is ``sml.conformance.test`` unless ``CONFORMANCE_SML_ZONE`` says otherwise.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness import __version__
from harness.errors import ConfigError
from harness.peppol.smp.errors import IdentifierError
from harness.peppol.smp.identifiers import ParticipantIdentifier, parse_participant_segment
from harness.peppol.smp.sml import (
    NAPTR_FLAG,
    NAPTR_SERVICE,
    legacy_cname_dns_name,
    naptr_regexp,
    normalise_zone,
    participant_dns_name,
)

if TYPE_CHECKING:
    from harness.reference import ExtraListener

log = logging.getLogger("harness.reference.sml")

DEFAULT_ZONE = "sml.conformance.test"
ZONE_ENV = "CONFORMANCE_SML_ZONE"
API = "/conformance/v1/peppol-sml"
TTL = 60
MAX_QUERY_LOG = 10_000


@dataclass(frozen=True)
class Registration:
    participant: ParticipantIdentifier
    smp_url: str
    naptr_name: str
    legacy_cname: str | None = None  # the B- name, when published

    def as_json(self) -> dict[str, Any]:
        return {
            "participant": self.participant.uri,
            "smp_url": self.smp_url,
            "naptr_name": self.naptr_name,
            "naptr_regexp": naptr_regexp(self.smp_url),
            "legacy_cname_name": self.legacy_cname,
        }


@dataclass(frozen=True)
class QueryLogEntry:
    qname: str
    qtype: str
    rcode: str
    transport: str

    def as_json(self) -> dict[str, str]:
        return {
            "qname": self.qname,
            "qtype": self.qtype,
            "rcode": self.rcode,
            "transport": self.transport,
        }


def naptr_uri_problem(smp_url: str, *, https_only: bool = True) -> str | None:
    """Why ``smp_url`` may not be the URI of a U-NAPTR record (Peppol SML 1.3.0 2.1.1), or None.

    ``https_only=False`` lets a plain ``http`` URL through (the explicit test knob); a user name
    or password, a query or a fragment is never allowed."""
    parts = urlsplit(smp_url)
    if parts.username is not None or parts.password is not None:
        return (
            f"SMP URL {smp_url!r} carries a user name or password; Peppol SML 1.3.0 2.1.1: a"
            " U-NAPTR URI must not have userinfo in its authority"
        )
    if parts.query or parts.fragment or smp_url.endswith(("?", "#")):
        return (
            f"SMP URL {smp_url!r} has a query or fragment; Peppol SML 1.3.0 2.1.1: a U-NAPTR URI"
            " must not have either"
        )
    if https_only and parts.scheme.lower() != "https":
        return (
            f"SMP URL {smp_url!r} is not https; Peppol SML 1.3.0 2.1.1: a U-NAPTR URI must use"
            ' the https scheme (register with "allow_http": true only to publish a plain-HTTP'
            " SMP on purpose)"
        )
    return None


class SmlZone:
    """The zone's records and query log. Thread-safe (DNS threads and HTTP handlers share it).

    ``https_only``: refuse to register a non-https SMP URL unless the registration says
    ``allow_http`` (the served SML is built with it; see the module docstring).
    """

    def __init__(self, zone: str, *, https_only: bool = False) -> None:
        self.zone = normalise_zone(zone)
        self.https_only = https_only
        self._lock = threading.Lock()
        self._by_participant: dict[ParticipantIdentifier, Registration] = {}
        self._naptr: dict[str, Registration] = {}
        self._cname: dict[str, Registration] = {}
        self._log: list[QueryLogEntry] = []

    def register(
        self,
        participant: ParticipantIdentifier,
        smp_url: str,
        *,
        legacy_cname: bool = False,
        allow_http: bool = False,
    ) -> Registration:
        """Publish ``participant``'s records pointing at ``smp_url`` (ConfigError for a URL a
        record may not carry: not absolute http(s), userinfo, query or fragment, and not https
        when the zone is ``https_only`` and ``allow_http`` is not given)."""
        problem = naptr_uri_problem(smp_url, https_only=self.https_only and not allow_http)
        if problem is not None:
            raise ConfigError(problem)
        naptr_regexp(smp_url)  # ConfigError for a URL a Meta:SMP record cannot carry
        reg = Registration(
            participant,
            smp_url.rstrip("/"),
            participant_dns_name(participant, self.zone),
            legacy_cname_dns_name(participant, self.zone) if legacy_cname else None,
        )
        with self._lock:
            self._remove(participant)
            self._by_participant[participant] = reg
            self._naptr[reg.naptr_name.lower()] = reg
            if reg.legacy_cname:
                self._cname[reg.legacy_cname.lower()] = reg
        return reg

    def _remove(self, participant: ParticipantIdentifier) -> bool:
        old = self._by_participant.pop(participant, None)
        if old is None:
            return False
        self._naptr.pop(old.naptr_name.lower(), None)
        if old.legacy_cname:
            self._cname.pop(old.legacy_cname.lower(), None)
        return True

    def unregister(self, participant: ParticipantIdentifier) -> bool:
        with self._lock:
            return self._remove(participant)

    def registrations(self) -> list[Registration]:
        with self._lock:
            return list(self._by_participant.values())

    def reset(self) -> None:
        with self._lock:
            self._by_participant.clear()
            self._naptr.clear()
            self._cname.clear()
            self._log.clear()

    def queries(self) -> list[QueryLogEntry]:
        with self._lock:
            return list(self._log)

    def clear_queries(self) -> None:
        with self._lock:
            self._log.clear()

    # -- DNS ---------------------------------------------------------------------------------

    def answer(self, data: bytes, transport: str) -> bytes | None:
        """The wire answer to one DNS query (None: not even a DNS header, drop it)."""
        from dnslib import CNAME, NAPTR, QTYPE, RCODE, RR, SOA, DNSError, DNSLabel, DNSRecord

        try:
            request = DNSRecord.parse(data)
        except (DNSError, ValueError, IndexError, UnicodeDecodeError):
            return None
        reply = request.reply()  # QR, AA, RD copied, the question echoed
        reply.header.ra = 0
        reply.header.ad = 0  # no DNSSEC here
        if request.header.opcode != 0 or len(request.questions) != 1:
            reply.header.rcode = RCODE.NOTIMP if request.header.opcode != 0 else RCODE.FORMERR
            return reply.pack()
        q = request.questions[0]
        qname = str(q.qname).rstrip(".").lower()
        qtype = QTYPE.get(q.qtype, str(q.qtype))
        zone = self.zone
        soa = RR(
            zone,
            QTYPE.SOA,
            ttl=TTL,
            rdata=SOA(f"ns.{zone}", f"hostmaster.{zone}", (1, 3600, 600, 86400, TTL)),
        )
        with self._lock:
            if qname != zone and not qname.endswith("." + zone):
                reply.header.aa = 0
                reply.header.rcode = RCODE.REFUSED
            elif qname == zone:
                if q.qtype in (QTYPE.SOA, QTYPE.ANY):
                    reply.add_answer(soa)
                else:
                    reply.add_auth(soa)
            elif (reg := self._naptr.get(qname)) is not None:
                if q.qtype in (QTYPE.NAPTR, QTYPE.ANY):
                    reply.add_answer(
                        RR(
                            q.qname,
                            QTYPE.NAPTR,
                            ttl=TTL,
                            rdata=NAPTR(
                                100,
                                10,
                                NAPTR_FLAG.encode(),
                                NAPTR_SERVICE.encode(),
                                naptr_regexp(reg.smp_url).encode(),
                                DNSLabel("."),
                            ),
                        )
                    )
                else:
                    reply.add_auth(soa)
            elif (reg := self._cname.get(qname)) is not None:
                host = urlsplit(reg.smp_url).hostname or ""
                reply.add_answer(RR(q.qname, QTYPE.CNAME, ttl=TTL, rdata=CNAME(host + ".")))
            else:
                reply.header.rcode = RCODE.NXDOMAIN
                reply.add_auth(soa)
            self._log.append(QueryLogEntry(qname, qtype, RCODE.get(reply.header.rcode), transport))
            if len(self._log) > MAX_QUERY_LOG:
                del self._log[: len(self._log) - MAX_QUERY_LOG]
        packed = reply.pack()
        if transport == "udp" and len(packed) > _udp_limit(request):
            reply.rr = []
            reply.auth = []
            reply.header.tc = 1
            packed = reply.pack()
        return packed


def _udp_limit(request: Any) -> int:
    """512, or the EDNS0 payload size the client announced (RFC 6891 6.2.5)."""
    for rr in request.ar:
        if getattr(rr, "rtype", None) == 41:  # OPT
            return max(512, int(rr.rclass))
    return 512


class DnsServer:
    """Serves :class:`SmlZone` on the bound sockets of an :class:`ExtraListener` (UDP and TCP)."""

    def __init__(self, zone: SmlZone, listener: ExtraListener) -> None:
        self.zone = zone
        self.listener = listener
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for sock in self.listener.sockets:
            target = self._serve_udp if sock.type == socket.SOCK_DGRAM else self._serve_tcp
            sock.settimeout(0.5)
            t = threading.Thread(
                target=target, args=(sock,), name=f"sml-dns-{sock.type.name}", daemon=True
            )
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for sock in self.listener.sockets:  # wake the loops now rather than at their timeout
            with contextlib.suppress(OSError):
                family, kind, addr = sock.family, sock.type, sock.getsockname()
                with socket.socket(family, kind) as poke:
                    poke.settimeout(0.2)
                    if kind == socket.SOCK_DGRAM:
                        poke.sendto(b"", addr)
                    else:
                        poke.connect(addr)
        for t in self._threads:
            t.join(timeout=2)
        for sock in self.listener.sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _serve_udp(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                answer = self.zone.answer(data, "udp")
                if answer is not None:
                    sock.sendto(answer, peer)
            except Exception:
                log.exception("DNS query from %s failed", peer)

    def _serve_tcp(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._stop.is_set():
                conn.close()
                return
            threading.Thread(target=self._tcp_connection, args=(conn,), daemon=True).start()

    def _tcp_connection(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn:
            try:
                while not self._stop.is_set():
                    head = _recv_exact(conn, 2)
                    if head is None:
                        return
                    data = _recv_exact(conn, int.from_bytes(head, "big"))
                    if data is None:
                        return
                    answer = self.zone.answer(data, "tcp")
                    if answer is None:
                        return
                    conn.sendall(len(answer).to_bytes(2, "big") + answer)
            except (OSError, TimeoutError):
                return


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


# -- app ----------------------------------------------------------------------------------------


def create_app(
    *,
    variant: str | None = None,
    token: str | None = None,
    listeners: Mapping[str, ExtraListener] | None = None,
    zone: str | None = None,
) -> Any:
    """The reference SML: management API (ASGI) plus the DNS server on ``listeners["dns"]``."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from harness.drivers import control_api
    from harness.reference.peppol_participant import BearerAuth

    if variant not in (None, "", "good"):
        raise ConfigError(f"unknown variant {variant!r} of sml; it has none (only good)")
    if not listeners or "dns" not in listeners:
        raise ConfigError(
            "the reference SML needs its DNS listener (conformance serve sml binds it)"
        )
    sml_zone = SmlZone(zone or os.environ.get(ZONE_ENV) or DEFAULT_ZONE, https_only=True)
    server = DnsServer(sml_zone, listeners["dns"])

    def problem(status: int, title: str, detail: str) -> Response:
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        return Response(
            json.dumps(body), status_code=status, media_type=control_api.PROBLEM_MEDIA_TYPE
        )

    async def health(request: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "name": "harness reference sml", "version": __version__}
        )

    async def info(request: Request) -> Response:
        return JSONResponse({"zone": sml_zone.zone, "dns": listeners["dns"].address})

    async def register(request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
            participant = ParticipantIdentifier.parse(str(payload["participant"]))
            smp_url = str(payload["smp_url"])
            legacy = payload.get("legacy_cname", False)
            allow_http = payload.get("allow_http", False)
            if not isinstance(legacy, bool) or not isinstance(allow_http, bool):
                raise TypeError("legacy_cname and allow_http must be true or false")
            reg = sml_zone.register(
                participant, smp_url, legacy_cname=legacy, allow_http=allow_http
            )
        except (ValueError, KeyError, TypeError, IdentifierError, ConfigError) as exc:
            return problem(
                400,
                "Bad Request",
                f'expected {{"participant": "scheme::value", "smp_url": "https://...",'
                f' "legacy_cname": false, "allow_http": false}}: {exc}',
            )
        return JSONResponse(reg.as_json(), status_code=201)

    async def listing(request: Request) -> Response:
        return JSONResponse(
            {"zone": sml_zone.zone, "participants": [r.as_json() for r in sml_zone.registrations()]}
        )

    async def unregister(request: Request) -> Response:
        raw = (request.scope.get("raw_path") or b"").decode("latin-1").split("?")[0]
        segment = raw.rsplit("/", 1)[-1]
        try:
            participant = parse_participant_segment(segment)
        except IdentifierError as exc:
            return problem(400, "Bad Request", str(exc))
        if not sml_zone.unregister(participant):
            return problem(404, "Not Found", f"{participant} is not registered")
        return Response(status_code=204)

    async def queries(request: Request) -> Response:
        if request.method == "DELETE":
            sml_zone.clear_queries()
            return Response(status_code=204)
        return JSONResponse({"queries": [q.as_json() for q in sml_zone.queries()]})

    async def reset(request: Request) -> Response:
        sml_zone.reset()
        return Response(status_code=204)

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        server.start()
        try:
            yield
        finally:
            server.stop()

    app = Starlette(
        routes=[
            Route(control_api.HEALTH, health, methods=["GET"]),
            Route(f"{API}/info", info, methods=["GET"]),
            Route(f"{API}/participants", register, methods=["POST"]),
            Route(f"{API}/participants", listing, methods=["GET"]),
            Route(f"{API}/participants/{{participant:path}}", unregister, methods=["DELETE"]),
            Route(f"{API}/queries", queries, methods=["GET", "DELETE"]),
            Route(f"{API}/reset", reset, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.zone = sml_zone
    if token:
        return BearerAuth(app, token, open_paths=frozenset({control_api.HEALTH}))
    return app
