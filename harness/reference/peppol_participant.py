"""The reference Peppol BIS participant: sender and receiver behind the control API.

Built only from the domain libraries: documents come from :mod:`harness.peppol.scenarios` (the
EN 16931 model and its calculator, never templates), inbound decisions from
:mod:`harness.peppol.validation`. A known-bad variant (:mod:`.peppol_variants`) changes exactly
one behaviour.

:class:`PeppolParticipant` holds the behaviour (no HTTP, no pytest); :func:`create_app` puts it
behind the control API (``harness/data/control-api.openapi.yaml``) as a Starlette app, served by
``conformance serve peppol-participant [--variant V]``.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness import __version__
from harness.drivers import control_api
from harness.errors import ConfigError
from harness.reference.peppol_variants import (
    BIS2_CUSTOMIZATION_ID,
    GOOD,
    INVALID_CODE,
    DocumentFault,
    Inbound,
    Outbound,
    Variant,
    get_variant,
)

log = logging.getLogger("harness.reference.peppol_participant")

#: The reference participant reads inbound documents up to this size (the validator's default).
MAX_INBOUND_BYTES = 100 * 1024 * 1024

#: Rule sets the reference participant supports (what fixtures/participants/reference.toml claims).
REFERENCE_RULESETS = ("peppol-ubl-3.0.19", "pint-sg-ubl-1.4.1")


class UnknownScenarioError(LookupError):
    """The scenario id is not in the catalogue, or does not apply to the rule set."""


@dataclass(frozen=True)
class Produced:
    """What the documents operation answers: status, media type, body."""

    status: int
    media_type: str
    body: bytes


@dataclass(frozen=True)
class Decision:
    """What the inbound operation answers."""

    accepted: bool
    rule_ids: tuple[str, ...]
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "rule_ids": list(self.rule_ids), "message": self.message}


class PeppolParticipant:
    """The behaviour of the reference participant under ``variant``.

    Thread-safe: the builder is pure and the validator serialises its own engine use.
    """

    def __init__(self, variant: Variant = GOOD, rulesets: Sequence[str] = REFERENCE_RULESETS) -> None:
        self.variant = variant
        self.rulesets = tuple(rulesets)

    # -- sender ----------------------------------------------------------------------------

    def produce(self, scenario_id: str, ruleset: str) -> Produced:
        """The document of ``scenario_id`` under ``ruleset`` (with the variant's fault)."""
        from harness.peppol.scenarios import scenarios_for

        applicable = [s.id for s in scenarios_for(ruleset)] if self._known_ruleset(ruleset) else []
        if not applicable:
            raise UnknownScenarioError(
                f"rule set {ruleset!r} is not supported by this participant"
            )
        if scenario_id not in applicable:
            raise UnknownScenarioError(
                f"scenario {scenario_id!r} is not in the catalogue for rule set {ruleset}"
                f" (known: {', '.join(applicable)})"
            )
        v = self.variant
        if v.outbound is Outbound.ERROR_FOR_CREDIT_NOTE and _is_credit_note(scenario_id):
            raise RuntimeError(f"variant {v.name}: this participant cannot produce credit notes")
        built = applicable[0] if v.outbound is Outbound.SAME_DOCUMENT else scenario_id
        document = self.document(built, ruleset)
        media_type = "text/plain; charset=utf-8" if v.outbound is Outbound.TEXT_PLAIN else "application/xml"
        return Produced(200, media_type, document)

    def document(self, scenario_id: str, ruleset: str) -> bytes:
        """The document of ``scenario_id``: the scenario's model (seed 0, so every variant
        starts from the same invoice), serialised with the variant's document fault."""
        from dataclasses import replace
        from decimal import Decimal

        from harness.peppol.calculator import calculate
        from harness.peppol.model import DocumentKind
        from harness.peppol.scenarios import build_invoice
        from harness.peppol.ubl import UblFaults, to_ubl

        invoice = build_invoice(scenario_id, ruleset, seed=0)
        v = self.variant
        if v.outbound is Outbound.CREDIT_NOTE_AS_INVOICE and invoice.kind is DocumentKind.CREDIT_NOTE:
            invoice = replace(invoice, kind=DocumentKind.INVOICE, type_code="380")
        fault = v.document_fault
        faults: UblFaults | None = None
        if fault is DocumentFault.WRONG_TOTALS:
            derived = calculate(invoice).totals.tax_inclusive_amount
            faults = UblFaults(tax_inclusive_amount=derived + Decimal("1.00"))
        elif fault is DocumentFault.MISSING_BUYER_REFERENCE:
            faults = UblFaults(omit_buyer_reference=True)
        elif fault is DocumentFault.INVALID_CURRENCY:
            faults = UblFaults(currency_code=INVALID_CODE)
        elif fault is DocumentFault.INVALID_UNIT_CODE:
            faults = UblFaults(first_line_unit_code=INVALID_CODE)
        elif fault is DocumentFault.WRONG_CUSTOMIZATION_ID:
            faults = UblFaults(customization_id=BIS2_CUSTOMIZATION_ID)
        document = to_ubl(invoice, faults=faults)
        if fault is DocumentFault.DROPS_VAT_BREAKDOWN:
            document = _without_vat_breakdown(document)
        elif fault is DocumentFault.DECLARES_ENTITIES:
            document = _with_entity_declaration(document)
        elif fault is DocumentFault.SCHEMA_ORDER:
            document = _issue_date_first(document)
        return document

    @staticmethod
    def _known_ruleset(ruleset: str) -> bool:
        from harness.peppol.scenarios import scenarios_for

        try:
            return bool(scenarios_for(ruleset))
        except (KeyError, ValueError, LookupError):
            return False

    # -- receiver --------------------------------------------------------------------------

    def decide(self, document: bytes) -> Decision:
        """Accept ``document`` if it passes the rule sets this participant supports; else reject,
        naming the error/fatal rules it breaks.

        The rule set is the one the document's CustomizationID implies when this participant
        supports it. A document naming a specification the participant does not support is judged
        by every supported rule set (it is accepted only if one of them passes it, and a rejection
        names what fired under each).
        """
        v = self.variant
        if v.inbound is Inbound.ACCEPT_ALL:
            return Decision(True, (), "accepted")
        judged = self.judge(document)
        if judged.valid:
            if v.inbound is Inbound.REJECT_VALID:
                return Decision(False, ("BR-01",), "rejected: BR-01 (specification identifier)")
            return Decision(True, (), f"accepted: the document passes {', '.join(judged.rulesets)}")
        if v.inbound is Inbound.REJECT_WITHOUT_RULES:
            return Decision(False, (), "rejected")
        rule_ids = tuple(dict.fromkeys(fa.id for fa in judged.failed))
        if not judged.failed:
            return Decision(False, (), f"rejected: {judged.error}")
        first = judged.failed[0]
        more = f" (and {len(rule_ids) - 1} more rule(s))" if len(rule_ids) > 1 else ""
        return Decision(False, rule_ids, f"rejected: {first.id} [{first.flag}] at {first.location}: {first.text}{more}")

    def judge(self, document: bytes) -> Judged:
        """Validate ``document`` as :meth:`decide` describes."""
        from harness.peppol.rulesets import expand
        from harness.peppol.validation import get_validator

        validator = get_validator()
        first = validator.validate(document, name="inbound.xml")  # rule sets from the CustomizationID
        if first.rulesets and first.rulesets[0] in self.rulesets:
            fired = tuple(fa for fa in first.failed_asserts if fa.flag in ("fatal", "error"))
            return Judged(first.valid, first.rulesets, fired, first.error)
        if first.error and not first.customization_id and first.syntax is None:
            # not a UBL document: what the UBL schema says about it is the reason
            probe = validator.validate(document, name="inbound.xml", rulesets=["xsd-ubl-2.1"])
            if not probe.failed_asserts:
                return Judged(False, (), (), probe.error or first.error)
            return Judged(False, probe.rulesets, tuple(probe.failed_asserts), probe.error)
        candidates = list(self.rulesets)
        failed: list[Any] = []
        errors: list[str] = []
        for ruleset in candidates:
            result = validator.validate(document, name="inbound.xml", rulesets=expand([ruleset]))
            if result.valid:
                return Judged(True, tuple(result.rulesets), (), None)
            failed += [fa for fa in result.failed_asserts if fa.flag in ("fatal", "error")]
            if result.error:
                errors.append(result.error)
        return Judged(False, tuple(candidates), tuple(failed), "; ".join(errors) or None)

    def warm_up(self) -> None:
        """Compile the validator's stylesheets now rather than on the first inbound document."""
        from harness.peppol.rulesets import expand
        from harness.peppol.validation import get_validator

        get_validator().warm(expand(self.rulesets))


@dataclass(frozen=True)
class Judged:
    valid: bool
    rulesets: tuple[str, ...]
    failed: tuple[Any, ...]  #: error/fatal FailedAsserts
    error: str | None


def _is_credit_note(scenario_id: str) -> bool:
    from harness.peppol.model import DocumentKind
    from harness.peppol.scenarios import get_scenario

    return get_scenario(scenario_id).expectation.kind is DocumentKind.CREDIT_NOTE


def _without_vat_breakdown(document: bytes) -> bytes:
    """``document`` without any BG-23 group (cac:TaxSubtotal); the VAT totals stay."""
    from lxml import etree

    from harness.peppol.inspect import NS
    from harness.xml.safe import parse_untrusted

    tree = parse_untrusted(document, name="own document")
    for subtotal in tree.getroot().findall("cac:TaxTotal/cac:TaxSubtotal", NS):
        subtotal.getparent().remove(subtotal)
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _with_entity_declaration(document: bytes) -> bytes:
    """``document`` with a DOCTYPE declaring an (unused) internal entity before the root."""
    head, sep, rest = document.partition(b"?>")
    if not sep:
        head, rest = b"", document
    else:
        head += sep
    root = b"CreditNote" if b"<CreditNote" in rest[:400] else b"Invoice"
    return head + b"\n<!DOCTYPE " + root + b' [<!ENTITY seller "Reference Seller">]>' + rest


def _issue_date_first(document: bytes) -> bytes:
    """``document`` with cbc:IssueDate moved in front of cbc:ID (a UBL schema violation)."""
    from lxml import etree

    from harness.peppol.inspect import NS
    from harness.xml.safe import parse_untrusted

    tree = parse_untrusted(document, name="own document")
    root = tree.getroot()
    ident = root.find("cbc:ID", NS)
    issue = root.find("cbc:IssueDate", NS)
    if ident is not None and issue is not None:
        ident.addprevious(issue)
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# ------------------------------------------------------------------------------------------ app

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def create_app(*, variant: str | None = None, token: str | None = None, warm_up: bool = True) -> Any:
    """The control API of the reference participant as an ASGI app.

    ``variant``: ``None``/``"good"`` or a known-bad variant name (ConfigError otherwise).
    ``token``: bearer token every operation but the health check requires.
    ``warm_up``: compile the validator in the background after startup.
    """
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    try:
        chosen = get_variant(variant or GOOD.name)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None
    participant = PeppolParticipant(chosen)

    def problem(status: int, title: str, detail: str) -> Response:
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        return Response(json.dumps(body), status_code=status, media_type=control_api.PROBLEM_MEDIA_TYPE)

    async def health(request: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "name": f"harness reference peppol-participant ({chosen.name})", "version": __version__}
        )

    async def documents(request: Request) -> Response:
        raw = await request.body()
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return problem(400, "Bad Request", "the body must be a JSON object {\"scenario\", \"ruleset\"}")
        invalid = control_api.json_problem({"$ref": "#/components/schemas/DocumentRequest"}, payload)
        if invalid:
            return problem(400, "Bad Request", f"the body is not a DocumentRequest: {invalid}")
        try:
            produced = await run_in_threadpool(participant.produce, payload["scenario"], payload["ruleset"])
        except UnknownScenarioError as exc:
            return problem(422, "Unknown scenario", str(exc))
        except Exception as exc:
            log.exception("producing %s/%s failed", payload.get("scenario"), payload.get("ruleset"))
            return problem(500, "Document not produced", f"{type(exc).__name__}: {exc}")
        return Response(produced.body, status_code=produced.status, media_type=produced.media_type)

    async def inbound(request: Request) -> Response:
        size = request.headers.get("content-length")
        if size is not None and size.isdigit() and int(size) > MAX_INBOUND_BYTES:
            return problem(413, "Payload Too Large", f"documents up to {MAX_INBOUND_BYTES} bytes are read")
        document = await request.body()
        if len(document) > MAX_INBOUND_BYTES:
            return problem(413, "Payload Too Large", f"documents up to {MAX_INBOUND_BYTES} bytes are read")
        decision = await run_in_threadpool(participant.decide, document)
        return JSONResponse(decision.as_json())

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        detail = getattr(exc, "detail", "") or "see harness/data/control-api.openapi.yaml"
        return problem(status, "Not Found" if status == 404 else "Error", str(detail))

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        if warm_up:
            threading.Thread(target=_warm, args=(participant,), name="warm-up", daemon=True).start()
        yield

    app = Starlette(
        routes=[
            Route(control_api.HEALTH, health, methods=["GET"]),
            Route(control_api.PEPPOL_DOCUMENTS, documents, methods=["POST"]),
            Route(control_api.PEPPOL_INBOUND, inbound, methods=["POST"]),
        ],
        exception_handlers={HTTPException: not_found},
        lifespan=lifespan,
    )
    app.state.participant = participant
    if token:
        return BearerAuth(app, token, open_paths=frozenset({control_api.HEALTH}))
    return app


def _warm(participant: PeppolParticipant) -> None:
    try:
        participant.warm_up()
    except Exception:
        log.exception("warm-up failed")


class BearerAuth:
    """ASGI middleware: every HTTP request (but ``open_paths``) needs ``Authorization: Bearer token``."""

    def __init__(self, app: Any, token: str, *, open_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.open_paths:
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            {"type": "about:blank", "title": "Unauthorized", "status": 401,
             "detail": "send Authorization: Bearer <driver.token>"}
        ).encode()
        await send({
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", control_api.PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="conformance"'),
            ],
        })
        await send({"type": "http.response.body", "body": body})
