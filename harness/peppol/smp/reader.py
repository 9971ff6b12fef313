"""Read an SMP under test as a sender would, keeping every exchange as evidence (pytest-free).

:class:`SmpReader` GETs SMP resources by their raw (percent-encoded) path -- what is sent is
exactly what the caller built, never re-encoded -- does not follow HTTP redirects (a 3xx is an
answer to judge), caps bodies, and hands back an :class:`HttpExchange` holding the request and the
response as HTTP/1.1 message bytes. Transport failures are values (``error``), never exceptions.
Over HTTPS it insists on TLS 1.2 or later and records the version negotiated.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from harness import __version__
from harness.peppol.smp.identifiers import (
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    service_group_path,
    service_metadata_path,
)

if TYPE_CHECKING:
    import httpx

MAX_BODY = 10 * 2**20
DEFAULT_TIMEOUT = 10.0
USER_AGENT = f"trade-conformance-harness/{__version__}"


@dataclass(frozen=True)
class HttpExchange:
    """One GET and what came back (``status`` None: no answer, see ``error``)."""

    method: str
    url: str
    status: int | None
    content_type: str
    body: bytes = field(repr=False)
    request_message: bytes = field(repr=False)
    response_message: bytes = field(default=b"", repr=False)
    error: str | None = None
    #: ``TLSv1.3`` ... for an HTTPS exchange, None over plain HTTP.
    tls_version: str | None = None
    #: ``Location`` of a 3xx answer.
    location: str | None = None

    @property
    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def summary(self) -> str:
        if self.status is None:
            return f"{self.method} {self.url}: no answer ({self.error})"
        return f"{self.method} {self.url}: HTTP {self.status} {self.content_type or '(no Content-Type)'}"


class SmpReader:
    """GETs resources of the SMP at ``base_url`` (and any absolute URL it points to).

    ``tls_ca``: PEM file of the CAs the SMP's TLS certificate must chain to (default: the system
    trust store). ``volatile_headers`` are left out of recorded messages (e.g. ``host`` with an
    ephemeral port), so evidence digests do not change from run to run for no reason.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        tls_ca: Path | None = None,
        volatile_headers: tuple[str, ...] = (),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._volatile = frozenset(h.lower() for h in volatile_headers)
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            verify=tls_context(tls_ca),
            headers={"User-Agent": USER_AGENT, "Accept": "text/xml, application/xml"},
            transport=transport,  # None: the network (a mock transport in the harness's tests)
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- URLs ------------------------------------------------------------------------------------

    def service_group_url(self, participant: ParticipantIdentifier) -> str:
        return self.base_url + service_group_path(participant)

    def metadata_url(
        self, participant: ParticipantIdentifier, document_type: DocumentTypeIdentifier
    ) -> str:
        return self.base_url + service_metadata_path(participant, document_type)

    # -- reading ---------------------------------------------------------------------------------

    def service_group(self, participant: ParticipantIdentifier) -> HttpExchange:
        return self.get(self.service_group_url(participant))

    def metadata(
        self, participant: ParticipantIdentifier, document_type: DocumentTypeIdentifier
    ) -> HttpExchange:
        return self.get(self.metadata_url(participant, document_type))

    def get(self, url: str) -> HttpExchange:
        """GET ``url`` once (no redirects followed; the body capped at 10 MiB)."""
        import httpx

        try:
            request = self._client.build_request("GET", url)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            return HttpExchange(
                "GET",
                url,
                None,
                "",
                b"",
                f"GET {url}\r\n".encode(),
                error=f"not a usable URL: {exc}",
            )
        sent = self._message_of_request(request)
        try:
            response = self._client.send(request, stream=True)
            try:
                tls = _tls_version(response)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY:
                        return HttpExchange(
                            "GET", url, response.status_code,
                            response.headers.get("content-type", ""), b"", sent,
                            error=f"the answer is larger than {MAX_BODY} bytes; not read",
                            tls_version=tls,
                        )  # fmt: skip
                    chunks.append(chunk)
                body = b"".join(chunks)
            finally:
                response.close()
        except httpx.TimeoutException:
            return HttpExchange(
                "GET", url, None, "", b"", sent, error=f"no answer within {self.timeout:g} s"
            )
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return HttpExchange("GET", url, None, "", b"", sent, error=reason)
        received = self._message_of_response(response, body)
        return HttpExchange(
            "GET",
            url,
            response.status_code,
            response.headers.get("content-type", ""),
            body,
            sent,
            received,
            tls_version=tls,
            location=response.headers.get("location"),
        )

    def _message_of_request(self, request: object) -> bytes:
        target = request.url.raw_path.decode("ascii", "replace")  # type: ignore[attr-defined]
        head = f"GET {target} HTTP/1.1\r\n"
        for name, value in request.headers.multi_items():  # type: ignore[attr-defined]
            if name.lower() not in self._volatile:
                head += f"{name}: {value}\r\n"
        return head.encode("latin-1", "replace") + b"\r\n"

    def _message_of_response(self, response: object, body: bytes) -> bytes:
        head = f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n"  # type: ignore[attr-defined]
        for name, value in response.headers.multi_items():  # type: ignore[attr-defined]
            if name.lower() not in self._volatile:
                head += f"{name}: {value}\r\n"
        return head.encode("latin-1", "replace") + b"\r\n" + body


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A client TLS context: TLS 1.2 or later, certificates checked against ``ca_file`` (or the
    system trust store), host names checked."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _tls_version(response: object) -> str | None:
    stream = getattr(response, "extensions", {}).get("network_stream")
    if stream is None:
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    return ssl_object.version() if ssl_object is not None else None
