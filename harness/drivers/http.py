"""``http`` driver: the participant exposes the control API (harness/data/control-api.openapi.yaml).

Every request and response is recorded as an HTTP message for evidence, with the bearer token
(and every other secret of the participant) redacted. Nothing the participant does makes this
driver raise: refused connections, timeouts and contract violations become result fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from harness.config.participant import redact
from harness.drivers import control_api
from harness.drivers.base import (
    HTTP_MESSAGE,
    DriverResult,
    EvidenceHook,
    ExchangeRecord,
    InboundResult,
    PeppolBisDriver,
)

USER_AGENT = "trade-conformance-harness"


class HttpDriver(PeppolBisDriver):
    """Drives a participant through the control API at ``base_url``."""

    kind = "http"

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        secrets: Iterable[str] = (),
        evidence_hook: EvidenceHook | None = None,
        trust_env: bool = True,
        volatile_headers: Iterable[str] = (),
        verify: Any = True,
    ) -> None:
        super().__init__(evidence_hook)
        import httpx

        from harness import __version__

        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._secrets = tuple(s for s in (*secrets, token or "") if s)
        headers = {"User-Agent": f"{USER_AGENT}/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # verify: True (system CAs) or an ssl.SSLContext (e.g. the test PKI's root for an embedded
        # endpoint served over HTTPS)
        self._client = httpx.Client(
            headers=headers, timeout=timeout, trust_env=trust_env, follow_redirects=False, verify=verify
        )
        self._token = bool(token)
        #: headers left out of recorded evidence because they change from run to run without
        #: saying anything about the participant (e.g. the ephemeral port of an embedded endpoint)
        self._volatile = frozenset(h.lower() for h in volatile_headers)

    # -- operations ------------------------------------------------------------------------

    def produce_document(self, scenario: str, ruleset: str) -> DriverResult:
        path = control_api.PEPPOL_DOCUMENTS
        body = json.dumps({"scenario": scenario, "ruleset": ruleset}).encode()
        answer = self._call("POST", path, body, "application/json", f"{ruleset} {scenario}")
        if answer.failure is not None:
            return DriverResult(None, answer.records, unreachable=True, error=answer.failure)
        status, ctype, content = answer.status, answer.content_type, answer.body
        problem = control_api.response_problem("POST", path, status, ctype, content)
        if status == 200 and content:
            return DriverResult(content, answer.records, api_problem=problem, status=status)
        detail = _problem_detail(content)
        return DriverResult(
            None,
            answer.records,
            api_problem=problem,
            status=status,
            error=f"the participant answered HTTP {status} instead of a document for scenario"
            f" {scenario} ({ruleset}){': ' + detail if detail else ''}",
        )

    def deliver_inbound(self, document: bytes) -> InboundResult:
        path = control_api.PEPPOL_INBOUND
        answer = self._call("POST", path, document, "application/xml", "inbound document")
        if answer.failure is not None:
            return InboundResult(None, exchange=answer.records, unreachable=True, error=answer.failure)
        status, ctype, content = answer.status, answer.content_type, answer.body
        problem = control_api.response_problem("POST", path, status, ctype, content)
        decision = _decision(content) if status == 200 else None
        if decision is None:
            detail = _problem_detail(content)
            return InboundResult(
                None,
                exchange=answer.records,
                api_problem=problem or f"POST {path} answered HTTP {status} without a decision",
                status=status,
                error=f"the participant answered HTTP {status} without a decision{': ' + detail if detail else ''}",
            )
        accepted, rule_ids, message = decision
        return InboundResult(
            accepted, rule_ids, message, answer.records, api_problem=problem, status=status
        )

    def describe(self) -> dict[str, Any]:
        facts: dict[str, Any] = {
            "kind": self.kind,
            "base_url": redact(self.base_url, self._secrets),
            "bearer_token": self._token,
            "timeout": self.timeout,
        }
        facts.update(self.observe())
        return facts

    def observe(self) -> dict[str, Any]:
        """Facts observed of the participant: its health answer and, over TLS, the SHA-256
        fingerprint of its certificate."""
        facts: dict[str, Any] = {}
        answer = self._call("GET", control_api.HEALTH, None, None, "health", record=False)
        if answer.failure is not None:
            facts["health"] = {"error": answer.failure}
        else:
            facts["health"] = {"status": answer.status}
            try:
                facts["health"]["answer"] = json.loads(answer.body)
            except ValueError:
                pass
        parts = urlsplit(self.base_url)
        if parts.scheme == "https" and parts.hostname:
            facts["tls_certificate_sha256"] = _tls_fingerprint(parts.hostname, parts.port or 443, self.timeout)
        return facts

    def close(self) -> None:
        self._client.close()

    # -- internals -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: bytes | None,
        content_type: str | None,
        what: str,
        *,
        record: bool = True,
    ) -> _Answer:
        import httpx

        url = control_api.join_url(self.base_url, path)
        headers = {"Content-Type": content_type} if content_type else {}
        if method == "POST":
            headers["Accept"] = "application/xml, application/json, application/problem+json"
        request = self._client.build_request(method, url, content=body, headers=headers)
        records: list[ExchangeRecord] = []
        if record:
            records.append(ExchangeRecord(f"{method} {path} ({what}): request", self._message(request), HTTP_MESSAGE))
        try:
            response = self._client.send(request)
            response.read()
        except httpx.TimeoutException:
            failure = (
                f"the participant did not answer {method} {url} within {self.timeout:g} s"
                " (raise driver.timeout if it is just slow)"
            )
        except httpx.HTTPError as exc:
            failure = (
                f"could not reach the participant at {url}: {_reason(exc)}"
                " (is it running, and is driver.base_url right?)"
            )
        else:
            if record:
                records.append(
                    ExchangeRecord(
                        f"{method} {path} ({what}): response HTTP {response.status_code}",
                        self._message(response),
                        HTTP_MESSAGE,
                    )
                )
            if response.status_code in (401, 403):
                failure = (
                    f"the participant refused the harness's credentials (HTTP {response.status_code}"
                    f" to {method} {path}); check driver.token"
                )
                return _Answer(tuple(self._recorded(*records)), failure, response.status_code,
                               response.headers.get("content-type"), response.content)
            return _Answer(tuple(self._recorded(*records)), None, response.status_code,
                           response.headers.get("content-type"), response.content)
        return _Answer(tuple(self._recorded(*records)), redact(failure, self._secrets), 0, None, b"")

    def _message(self, message: Any) -> bytes:
        """An httpx request or response as HTTP/1.1 message bytes, secrets redacted."""
        import httpx

        if isinstance(message, httpx.Request):
            target = message.url.raw_path.decode("ascii", "replace")
            head = f"{message.method} {target} HTTP/1.1\r\n"
        else:
            head = f"HTTP/1.1 {message.status_code} {message.reason_phrase}\r\n"
        for name, value in message.headers.multi_items():
            if name.lower() in self._volatile:
                continue
            if name.lower() == "authorization":
                scheme = value.split(" ", 1)[0]
                value = f"{scheme} [REDACTED]"
            head += f"{name}: {value}\r\n"
        data = head.encode("latin-1", "replace") + b"\r\n" + (message.content or b"")
        return redact(data, self._secrets)


class _Answer:
    __slots__ = ("body", "content_type", "failure", "records", "status")

    def __init__(
        self,
        records: tuple[ExchangeRecord, ...],
        failure: str | None,
        status: int,
        content_type: str | None,
        body: bytes,
    ) -> None:
        self.records = records
        self.failure = failure
        self.status = status
        self.content_type = content_type
        self.body = body


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _decision(body: bytes) -> tuple[bool, tuple[str, ...], str] | None:
    """``(accepted, rule_ids, message)`` from an inbound answer, as far as it can be read."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("accepted"), bool):
        return None
    rule_ids = value.get("rule_ids")
    ids = tuple(str(r) for r in rule_ids) if isinstance(rule_ids, list) else ()
    message = value.get("message")
    return value["accepted"], ids, message if isinstance(message, str) else ""


def _problem_detail(body: bytes) -> str:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        text = body[:200].decode("utf-8", "replace").strip()
        return text
    if isinstance(value, dict):
        parts = [str(value[k]) for k in ("title", "detail") if value.get(k)]
        return " - ".join(parts)
    return ""


def _tls_fingerprint(host: str, port: int, timeout: float) -> str | dict[str, str]:
    import hashlib
    import socket
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # observing, not trusting: the fingerprint is recorded
    try:
        with (
            socket.create_connection((host, port), timeout=min(timeout, 10)) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except OSError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    return hashlib.sha256(der or b"").hexdigest()
