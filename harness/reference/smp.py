"""The reference SMP (``conformance serve smp``) and the reference lookup participant
(``conformance serve peppol-smp-participant``) of profile ``peppol-smp``.

**SMP** -- the Peppol SMP 1.x read interface:

- ``GET /{participant}`` -> ServiceGroup whose ServiceMetadataReference hrefs are absolute URLs of
  this SMP (built from the request's own base URL, so they work behind a published port);
- ``GET /{participant}/services/{documentType}`` -> SignedServiceMetadata, signed when it was
  published (enveloped XML-DSig, RSA-SHA256, by the SMP certificate of the test PKI);
- paths are read from the *raw* request path (one percent-decoding per segment, so ``%2F`` inside
  an identifier stays inside it; a double-encoded identifier names nothing: 404), participant
  values matched case-insensitively, document types exactly; 404 for what is not published;
  ``Content-Type: text/xml``.

Management API (JSON, bearer token if one is set) under ``/conformance/v1/peppol-smp``:

- ``POST /participants`` publishes (replaces) a participant::

    {"participant": "iso6523-actorid-upis::0195:T08GB0001A",
     "services": [
       {"document_type": "busdox-docid-qns::urn:...::2.1",
        "processes": [{"process": "cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
                       "endpoints": [{"transport_profile": "peppol-transport-as4-v2_0",
                                      "endpoint_url": "https://ap.example/as4",
                                      "certificate": "<PEM or base64 DER; default: the test PKI's AP>",
                                      "service_activation_date": "2026-01-01T00:00:00Z"}]}],
        "signing": "smp"},
       {"document_type": "...", "redirect": {"href": "https://other-smp/...", "certificate_uid": "CN=..."}}]}

  ``signing`` (default ``smp``) lets the harness publish deliberately wrong metadata for AP lookup
  tests: ``unsigned``, ``corrupt-signature``, ``tampered``, ``expired-certificate`` (an expired
  certificate of the SMP CA), ``wrong-ca`` (an SMP certificate of an untrusted CA),
  ``ap-certificate`` (signed by an AP certificate: not the SMP CA), ``revoked-certificate`` (an
  SMP certificate of the SMP CA that its CRL lists);
- ``DELETE /participants/{participant, percent-encoded once}`` unpublishes (the control API's
  ``unpublishParticipant``): 204, or 404 when the participant is not published; from then on its
  ServiceGroup and every SignedServiceMetadata answer 404; ``POST /reset``;
- ``GET /trust`` -> the SMP CA (the trust anchor an AP needs), root, SMP and AP certificates (PEM)
  and the SMP certificate's ``certificate_uid`` (for Redirects to this SMP);
- ``GET`` / ``DELETE /requests`` -> the log of read requests (raw path, status) / clear it.

Certificates come from the test PKI in ``CONFORMANCE_PKI_DIR`` (``conformance serve --pki-dir``;
the faulty SMP certificates are issued into it on first use unless :func:`prepare_pki` issued them
beforehand, as it must for a read-only PKI), or from a private one made in a temporary directory on
first use when none is given.

**Lookup participant** -- ``POST /conformance/v1/peppol-smp/lookup`` (the control API group of
the profile) does what a sending AP does, with :class:`~harness.peppol.smp.client.SmpClient`::

    {"receiver": "iso6523-actorid-upis::0195:T08GB0001A", "document_type": "busdox-docid-qns::...",
     "process": "cenbii-procid-ubl::..." (optional), "sml_zone": "sml.conformance.test",
     "dns_resolver": "127.0.0.1:5353", "smp_trust_anchors": ["-----BEGIN CERTIFICATE-----..."],
     "smp_crls": ["-----BEGIN X509 CRL-----..."] (optional),
     "smp_tls_trust_anchors": ["-----BEGIN CERTIFICATE-----..."] (optional),
     "transport_profiles": ["peppol-transport-as4-v2_0"]}

(``smp_tls_trust_anchors``: the CAs an HTTPS SMP's TLS server certificate must chain to; without
them the system trust store decides, as for any HTTPS client)

and answers 200 ``{"outcome": "endpoint", "endpoint_url", "certificate" (PEM),
"transport_profile", "process", "smp_url", "dns_name"}`` or 200 ``{"outcome": "refused",
"reason": <refusal code>, "message"}``; 400 (problem+json) for a malformed request.

Known-bad variants of both: :mod:`harness.reference.smp_variants`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import unquote

from harness import __version__
from harness.errors import ConfigError
from harness.peppol.smp.errors import IdentifierError
from harness.peppol.smp.identifiers import (
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
    double_encode,
    parse_document_type_segment,
    parse_participant_segment,
    path_segment,
    service_metadata_path,
)
from harness.reference.smp_variants import (
    LookupFault,
    SmpFault,
    SmpVariant,
    get_lookup_variant,
    get_smp_variant,
)

if TYPE_CHECKING:
    from harness.peppol.smp.signing import SigningCredential
    from harness.peppol.smp.smp_xml import Endpoint, ServiceMetadata
    from harness.pki import TestPki

log = logging.getLogger("harness.reference.smp")

API = "/conformance/v1/peppol-smp"
XML_MEDIA_TYPE = "text/xml"
MAX_ADMIN_BODY = 2 * 2**20
MAX_REQUEST_LOG = 10_000

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class BadRequest(ValueError):
    """A management or lookup request the reference cannot act on (answered 400)."""


# -- certificates ----------------------------------------------------------------------------

SIGNING_CHOICES = (
    "smp",
    "unsigned",
    "corrupt-signature",
    "tampered",
    "expired-certificate",
    "wrong-ca",
    "ap-certificate",
    "revoked-certificate",
)

#: Seat id (subject CN) of the reference SMP's faulty certificates: the SMP's own.
REFERENCE_SMP_SEAT = "PSG000001"


@dataclass(frozen=True)
class FaultySmpCertificate:
    """An SMP certificate of the test PKI with one deliberate fault, for a signing choice."""

    #: Its name in the test PKI.
    name: str
    expired: bool = False
    wrong_ca: bool = False
    #: Listed in the SMP CA's CRL (and answered revoked by the OCSP responder).
    revoked: bool = False

    def issue(self, pki: str | os.PathLike[str] | TestPki) -> None:
        """Issue it into ``pki`` (idempotent: an existing one with the same faults is kept)."""
        from harness.pki import issue

        issue(
            pki,
            "smp",
            self.name,
            seat_id=REFERENCE_SMP_SEAT,
            expired=self.expired,
            wrong_ca=self.wrong_ca,
            revoked=self.revoked,
        )


#: The faulty SMP certificates the reference SMP signs with on request, by signing choice.
FAULTY_SMP_CERTIFICATES: Mapping[str, FaultySmpCertificate] = MappingProxyType(
    {
        "expired-certificate": FaultySmpCertificate("reference-smp-expired", expired=True),
        "wrong-ca": FaultySmpCertificate("reference-smp-wrong-ca", wrong_ca=True),
        "revoked-certificate": FaultySmpCertificate("reference-smp-revoked", revoked=True),
    }
)


def prepare_pki(pki_dir: str | os.PathLike[str]) -> None:
    """Issue, into the test PKI at ``pki_dir``, every faulty certificate the reference SMP may sign
    with, so that it never has to write to the PKI (a container mounts it read-only). Issuing the
    revoked one re-signs the SMP CA's CRL: read CRLs after this."""
    for faulty in FAULTY_SMP_CERTIFICATES.values():
        faulty.issue(pki_dir)


class ReferenceCredentials:
    """The reference SMP's certificates, from the test PKI (made on first use if none given)."""

    def __init__(self, pki_dir: str | os.PathLike[str] | None = None) -> None:
        env = os.environ.get("CONFORMANCE_PKI_DIR")
        self._dir = Path(pki_dir) if pki_dir else (Path(env) if env else None)
        self._owned: Path | None = None
        self._lock = threading.Lock()
        self._pki: TestPki | None = None
        self._credentials: dict[str, SigningCredential] = {}

    @property
    def pki(self) -> TestPki:
        from harness.pki import init_pki, load_pki

        with self._lock:
            if self._pki is None:
                if self._dir is None:
                    self._owned = Path(tempfile.mkdtemp(prefix="conformance-smp-pki-"))
                    self._pki = init_pki(self._owned)
                else:
                    self._pki = (
                        load_pki(self._dir)
                        if (self._dir / "manifest.json").is_file()
                        else init_pki(self._dir)
                    )
            return self._pki

    def credential(self, choice: str) -> SigningCredential:
        """The credential to sign with for a ``signing`` choice (``smp``, ``ap-certificate`` or
        one of :data:`FAULTY_SMP_CERTIFICATES`); faulty certificates are issued into the PKI once."""
        from harness.peppol.smp.signing import SigningCredential
        from harness.pki import load_pki, load_private_key

        with self._lock:
            cached = self._credentials.get(choice)
        if cached is not None:
            return cached
        pki = self.pki
        if choice == "smp":
            cert = pki["smp"]
        elif choice == "ap-certificate":
            cert = pki["ap"]
        elif choice in FAULTY_SMP_CERTIFICATES:
            faulty = FAULTY_SMP_CERTIFICATES[choice]
            if faulty.name not in pki.certificates:  # prepare_pki() may have issued it (read-only)
                faulty.issue(pki)
            cert = load_pki(pki.directory)[faulty.name]
        else:
            raise BadRequest(f"unknown signing {choice!r}; one of {', '.join(SIGNING_CHOICES)}")
        cred = SigningCredential(load_private_key(cert), cert.certificate, tuple(cert.chain[:-1]))
        with self._lock:
            self._credentials[choice] = cred
        return cred

    def ap_certificate_der(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.pki["ap"].certificate.public_bytes(serialization.Encoding.DER)

    def trust_json(self) -> dict[str, str]:
        from cryptography.hazmat.primitives import serialization

        pki = self.pki

        def pem(cert: Any) -> str:
            return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

        smp = pki["smp"].certificate
        return {
            "smp_ca": pem(pki.authority("smp-ca").certificate),
            "root_ca": pem(pki.root.certificate),
            "smp_certificate": pem(smp),
            "certificate_uid": smp.subject.rfc4514_string(),
            "ap_certificate": pem(pki["ap"].certificate),
        }

    def close(self) -> None:
        if self._owned is not None:
            shutil.rmtree(self._owned, ignore_errors=True)


# -- the SMP's data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    document_type: DocumentTypeIdentifier
    metadata: ServiceMetadata
    signing: str
    document: bytes = field(repr=False)


@dataclass
class Group:
    participant: ParticipantIdentifier
    services: dict[DocumentTypeIdentifier, Published]


class ReferenceSmp:
    """The behaviour of the reference SMP under ``variant`` (no HTTP here). Thread-safe."""

    def __init__(self, variant: SmpVariant, credentials: ReferenceCredentials) -> None:
        self.variant = variant
        self.credentials = credentials
        self._lock = threading.Lock()
        self._groups: dict[tuple[str, str], Group] = {}
        self._requests: list[dict[str, Any]] = []

    def _key(self, participant: ParticipantIdentifier) -> tuple[str, str]:
        if self.variant.smp_fault is SmpFault.CASE_SENSITIVE_PARTICIPANTS:
            return (participant.scheme, participant.value)
        return participant.key

    # -- publishing ----------------------------------------------------------------------------

    def publish(self, payload: Any) -> Group:
        """Publish (replace) one participant from the management API's JSON."""
        if not isinstance(payload, dict):
            raise BadRequest('the body must be a JSON object {"participant", "services"}')
        participant = _identifier(ParticipantIdentifier, payload.get("participant"), "participant")
        services = payload.get("services", [])
        if not isinstance(services, list):
            raise BadRequest("services must be a list")
        published: dict[DocumentTypeIdentifier, Published] = {}
        for i, item in enumerate(services):
            entry = self._service(participant, item, f"services[{i}]")
            published[entry.document_type] = entry
        group = Group(participant, published)
        with self._lock:
            self._groups[self._key(participant)] = group
        return group

    def _service(self, participant: ParticipantIdentifier, item: Any, where: str) -> Published:
        from harness.peppol.smp.smp_xml import (
            Process,
            Redirect,
            ServiceInformation,
            ServiceMetadata,
        )

        if not isinstance(item, dict):
            raise BadRequest(f"{where} must be an object")
        doc = _identifier(
            DocumentTypeIdentifier, item.get("document_type"), f"{where}.document_type"
        )
        signing = str(item.get("signing", "smp"))
        if signing not in SIGNING_CHOICES:
            raise BadRequest(
                f"{where}.signing {signing!r} is not one of {', '.join(SIGNING_CHOICES)}"
            )
        if "redirect" in item:
            red = item["redirect"]
            if not isinstance(red, dict) or not red.get("href") or not red.get("certificate_uid"):
                raise BadRequest(f'{where}.redirect must be {{"href", "certificate_uid"}}')
            metadata = ServiceMetadata(Redirect(str(red["href"]), str(red["certificate_uid"])))
        else:
            processes = item.get("processes")
            if not isinstance(processes, list) or not processes:
                raise BadRequest(f"{where}.processes must be a non-empty list (or give a redirect)")
            procs = []
            for j, p in enumerate(processes):
                pw = f"{where}.processes[{j}]"
                if not isinstance(p, dict):
                    raise BadRequest(f"{pw} must be an object")
                pid = _identifier(ProcessIdentifier, p.get("process"), f"{pw}.process")
                eps = p.get("endpoints")
                if not isinstance(eps, list) or not eps:
                    raise BadRequest(f"{pw}.endpoints must be a non-empty list")
                procs.append(
                    Process(
                        pid,
                        tuple(self._endpoint(e, f"{pw}.endpoints[{k}]") for k, e in enumerate(eps)),
                    )
                )
            metadata = ServiceMetadata(ServiceInformation(participant, doc, tuple(procs)))
        return Published(doc, metadata, signing, self._sign(metadata, signing))

    def _endpoint(self, e: Any, where: str) -> Endpoint:
        from harness.peppol.smp.smp_xml import Endpoint

        if not isinstance(e, dict) or not e.get("transport_profile") or not e.get("endpoint_url"):
            raise BadRequest(f'{where} needs "transport_profile" and "endpoint_url"')
        cert = e.get("certificate")
        der = _certificate_der(str(cert), where) if cert else self.credentials.ap_certificate_der()
        kwargs: dict[str, Any] = {}
        for key in ("service_description", "technical_contact_url", "technical_information_url"):
            if e.get(key) is not None:
                kwargs[key] = str(e[key])
        for key in ("service_activation_date", "service_expiration_date"):
            if self.variant.smp_fault is SmpFault.DROPS_SERVICE_DATES:
                break
            if e.get(key) is not None:
                try:
                    kwargs[key] = datetime.fromisoformat(str(e[key]))
                except ValueError:
                    raise BadRequest(
                        f"{where}.{key} {e[key]!r} is not an ISO 8601 date-time"
                    ) from None
        return Endpoint(str(e["transport_profile"]), str(e["endpoint_url"]), der, **kwargs)

    def _sign(self, metadata: ServiceMetadata, signing: str) -> bytes:
        from harness.peppol.smp.smp_xml import MetadataFault, build_signed_service_metadata

        fault = self.variant.smp_fault
        if fault is SmpFault.UNSIGNED or signing == "unsigned":
            return build_signed_service_metadata(metadata, None, fault=MetadataFault.UNSIGNED)
        choice = {"corrupt-signature": "smp", "tampered": "smp"}.get(signing, signing)
        if fault is SmpFault.WRONG_CA_SIGNER:
            choice = "wrong-ca"
        elif fault is SmpFault.EXPIRED_SIGNER:
            choice = "expired-certificate"
        elif fault is SmpFault.REVOKED_SIGNER:
            choice = "revoked-certificate"
        credential = self.credentials.credential(choice)
        md_fault = MetadataFault.NONE
        if fault is SmpFault.CORRUPT_SIGNATURE or signing == "corrupt-signature":
            md_fault = MetadataFault.CORRUPT_SIGNATURE_VALUE
        elif signing == "tampered":
            md_fault = MetadataFault.TAMPERED_AFTER_SIGNING
        if fault is SmpFault.SCHEMA_ORDER:
            return _sign_in_wrong_order(metadata, credential)
        return build_signed_service_metadata(metadata, credential, fault=md_fault)

    def unpublish(self, participant: ParticipantIdentifier) -> bool:
        """Remove ``participant``; False when it was not published."""
        with self._lock:
            if self.variant.smp_fault is SmpFault.UNPUBLISH_KEEPS_SERVING:
                return self._key(participant) in self._groups  # the fault: says so, keeps it
            return self._groups.pop(self._key(participant), None) is not None

    def reset(self) -> None:
        with self._lock:
            self._groups.clear()
            self._requests.clear()

    def group(self, participant: ParticipantIdentifier) -> Group | None:
        with self._lock:
            return self._groups.get(self._key(participant))

    # -- reading -------------------------------------------------------------------------------

    def read(self, raw_path: str, base_url: str) -> tuple[int, str, bytes]:
        """(status, media type, body) of a read request for ``raw_path`` (still percent-encoded)."""
        from harness.peppol.smp.errors import DoubleEncodedError
        from harness.peppol.smp.smp_xml import ServiceGroup, build_service_group

        if self.variant.smp_fault is SmpFault.DECODES_PATH_TWICE:
            raw_path = unquote(raw_path)  # the fault: the segments below are decoded again
        parts = raw_path.split("/")[1:]
        try:
            if len(parts) == 1 and parts[0]:
                participant = parse_participant_segment(parts[0])
                group = self.group(participant)
                if group is None:
                    if self.variant.smp_fault is SmpFault.EMPTY_GROUP_FOR_UNKNOWN:
                        return self._xml(build_service_group(ServiceGroup(participant)))
                    return 404, "text/plain", f"no participant {participant} here\n".encode()
                refs = tuple(self._href(base_url, group.participant, d) for d in group.services)
                return self._xml(build_service_group(ServiceGroup(group.participant, refs)))
            if len(parts) == 3 and parts[1] == "services" and parts[0] and parts[2]:
                participant = parse_participant_segment(parts[0])
                document_type = parse_document_type_segment(parts[2])
                group = self.group(participant)
                published = group.services.get(document_type) if group is not None else None
                if (
                    published is None
                    and group is not None
                    and self.variant.smp_fault is SmpFault.CASE_INSENSITIVE_DOCUMENT_TYPES
                ):
                    published = next(
                        (
                            p
                            for d, p in group.services.items()
                            if (d.scheme, d.value.lower())
                            == (document_type.scheme, document_type.value.lower())
                        ),
                        None,
                    )
                if published is None:
                    return (
                        404,
                        "text/plain",
                        f"no metadata for {participant} and {document_type}\n".encode(),
                    )
                redirect = published.metadata.redirect
                if redirect is not None and self.variant.smp_fault is SmpFault.HTTP_REDIRECT:
                    # the fault: an HTTP redirect (the body carries the Location, see _SmpAsgi)
                    return 301, "text/plain", redirect.href.encode("utf-8")
                return self._xml(published.document)
        except DoubleEncodedError as exc:
            return 404, "text/plain", f"{exc}\n".encode()
        except IdentifierError as exc:
            return 400, "text/plain", f"{exc}\n".encode()
        return (
            404,
            "text/plain",
            b"not an SMP resource: use /{participant} or /{participant}/services/{documentType}\n",
        )

    def _xml(self, body: bytes) -> tuple[int, str, bytes]:
        if self.variant.smp_fault is SmpFault.WRONG_CONTENT_TYPE:
            return 200, "application/octet-stream", body
        if self.variant.smp_fault is SmpFault.NO_XML_DECLARATION and body.startswith(b"<?xml"):
            # the declaration is not signed: the signature still verifies without it
            body = body[body.index(b"?>") + 2 :].lstrip()
        return 200, f"{XML_MEDIA_TYPE}; charset=UTF-8", body

    def _href(
        self, base_url: str, participant: ParticipantIdentifier, doc: DocumentTypeIdentifier
    ) -> str:
        if self.variant.smp_fault is SmpFault.DOUBLE_ENCODED_REFERENCES:
            return f"{base_url}/{double_encode(participant)}/services/{double_encode(doc)}"
        if self.variant.smp_fault is SmpFault.PLAIN_HTTP_REFERENCES and base_url.startswith(
            "https:"
        ):
            base_url = "http:" + base_url.removeprefix("https:")
        return base_url + service_metadata_path(participant, doc)

    def record(self, method: str, raw_path: str, status: int) -> None:
        with self._lock:
            self._requests.append({"method": method, "raw_path": raw_path, "status": status})
            if len(self._requests) > MAX_REQUEST_LOG:
                del self._requests[: len(self._requests) - MAX_REQUEST_LOG]

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()


def _sign_in_wrong_order(metadata: ServiceMetadata, credential: SigningCredential) -> bytes:
    """SCHEMA_ORDER: ServiceDescription moved before Certificate in every Endpoint, then signed."""
    from lxml import etree

    from harness.peppol.smp.signing import sign_enveloped
    from harness.peppol.smp.smp_xml import SMP_NS, service_metadata_element

    root = service_metadata_element(metadata)
    for endpoint in root.iter(f"{{{SMP_NS}}}Endpoint"):
        cert = endpoint.find(f"{{{SMP_NS}}}Certificate")
        desc = endpoint.find(f"{{{SMP_NS}}}ServiceDescription")
        if cert is not None and desc is not None:
            cert.addprevious(desc)
    return etree.tostring(sign_enveloped(root, credential), xml_declaration=True, encoding="UTF-8")


def _identifier(cls: Any, value: Any, where: str) -> Any:
    if not isinstance(value, str):
        raise BadRequest(f"{where} must be a string scheme::value")
    try:
        return cls.parse(value)
    except IdentifierError as exc:
        raise BadRequest(f"{where}: {exc}") from None


def _certificate_der(text: str, where: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        if "-----BEGIN" in text:
            return x509.load_pem_x509_certificate(text.encode("ascii")).public_bytes(
                serialization.Encoding.DER
            )
        der = base64.b64decode("".join(text.split()), validate=True)
        x509.load_der_x509_certificate(der)
        return der
    except (ValueError, UnicodeEncodeError):
        raise BadRequest(
            f"{where}.certificate is neither a PEM nor a base64 DER X.509 certificate"
        ) from None


# -- ASGI plumbing ----------------------------------------------------------------------------


def _problem(status: int, title: str, detail: str) -> Any:
    from starlette.responses import Response

    from harness.drivers import control_api

    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body), status_code=status, media_type=control_api.PROBLEM_MEDIA_TYPE)


async def _json_body(request: Any) -> Any:
    raw = await request.body()
    if len(raw) > MAX_ADMIN_BODY:
        raise BadRequest(f"the body is over {MAX_ADMIN_BODY} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body must be JSON") from None


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    text = (
        raw.decode("latin-1")
        if isinstance(raw, (bytes, bytearray))
        else str(scope.get("path", "/"))
    )
    return text.split("?", 1)[0]


class _SmpAsgi:
    """Read requests go to the SMP (raw-path routing); /conformance/... to the management app."""

    def __init__(self, smp: ReferenceSmp, admin: Any) -> None:
        self.smp = smp
        self.admin = admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith("/conformance/"):
            await self.admin(scope, receive, send)
            return
        from starlette.requests import Request
        from starlette.responses import Response

        request = Request(scope, receive)
        raw_path = _raw_path(scope)
        if request.method not in ("GET", "HEAD"):
            response = Response(
                b"the SMP read interface answers GET\n",
                status_code=405,
                headers={"Allow": "GET, HEAD"},
            )
        else:
            base_url = str(request.base_url).rstrip("/")
            status, media_type, body = self.smp.read(raw_path, base_url)
            response = Response(
                body if request.method == "GET" else b"", status_code=status, media_type=media_type
            )
            if status == 301:  # only the http-redirect variant answers one: body = Location
                response.headers["location"] = body.decode("utf-8")
            if request.method == "HEAD":
                response.headers["content-length"] = str(len(body))
        self.smp.record(request.method, raw_path, response.status_code)
        await response(scope, receive, send)


def create_app(
    *,
    variant: str | None = None,
    token: str | None = None,
    pki_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """The reference SMP as an ASGI app (see the module docstring)."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from harness.drivers import control_api
    from harness.reference.peppol_participant import BearerAuth

    try:
        chosen = get_smp_variant(variant)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None
    credentials = ReferenceCredentials(pki_dir)
    smp = ReferenceSmp(chosen, credentials)

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "name": f"harness reference smp ({chosen.name})",
                "version": __version__,
            }
        )

    async def publish(request: Request) -> Response:
        try:
            payload = await _json_body(request)
            group = await run_in_threadpool(smp.publish, payload)
        except BadRequest as exc:
            return _problem(400, "Bad Request", str(exc))
        if chosen.smp_fault is SmpFault.PUBLISH_ANSWERS_TEXT:
            return Response(b"published\n", status_code=200, media_type="text/plain")
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "participant": group.participant.uri,
                "service_group_url": f"{base}/{path_segment(group.participant)}",
                "services": [
                    {
                        "document_type": d.uri,
                        "url": base + service_metadata_path(group.participant, d),
                        "signing": p.signing,
                    }
                    for d, p in group.services.items()
                ],
            },
            status_code=201,
        )

    async def unpublish(request: Request) -> Response:
        segment = _raw_path(request.scope).rsplit("/", 1)[-1]
        try:
            participant = parse_participant_segment(segment)
        except IdentifierError as exc:
            return _problem(400, "Bad Request", str(exc))
        if not smp.unpublish(participant):
            return _problem(404, "Not Found", f"{participant} is not published here")
        return Response(status_code=204)

    async def trust(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(credentials.trust_json))

    async def requests_log(request: Request) -> Response:
        if request.method == "DELETE":
            smp.clear_requests()
            return Response(status_code=204)
        return JSONResponse({"requests": smp.requests()})

    async def reset(request: Request) -> Response:
        smp.reset()
        return Response(status_code=204)

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        try:
            yield
        finally:
            credentials.close()

    admin = Starlette(
        routes=[
            Route(control_api.HEALTH, health, methods=["GET"]),
            Route(f"{API}/participants", publish, methods=["POST"]),
            Route(f"{API}/participants/{{participant:path}}", unpublish, methods=["DELETE"]),
            Route(f"{API}/trust", trust, methods=["GET"]),
            Route(f"{API}/requests", requests_log, methods=["GET", "DELETE"]),
            Route(f"{API}/reset", reset, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    guarded: Any = (
        BearerAuth(admin, token, open_paths=frozenset({control_api.HEALTH})) if token else admin
    )
    app = _SmpAsgi(smp, guarded)
    app.smp = smp  # type: ignore[attr-defined]  # for in-process tests
    return app


# -- the lookup participant -------------------------------------------------------------------


def lookup_faults(variant: SmpVariant) -> Any:
    """The :class:`~harness.peppol.smp.client.LookupFaults` of a lookup-participant variant."""
    from harness.peppol.smp.client import LookupFaults
    from harness.peppol.smp.sml import DnsNameAlgorithm

    f = variant.lookup_fault
    return LookupFaults(
        dns_name={
            LookupFault.DNS_HASHES_SCHEME: DnsNameAlgorithm.SHA256_SCHEME_AND_VALUE,
            LookupFault.DNS_LEGACY_CNAME: DnsNameAlgorithm.MD5_LEGACY,
        }.get(f, DnsNameAlgorithm.SHA256_VALUE),
        verify_signature=f is not LookupFault.ACCEPTS_BAD_SIGNATURE,
        check_certificate_validity=f is not LookupFault.ACCEPTS_EXPIRED,
        check_trust=f is not LookupFault.ACCEPTS_WRONG_CA,
        check_transport_profile=f is not LookupFault.IGNORES_TRANSPORT_PROFILE,
        double_encode_ids=f is LookupFault.DOUBLE_ENCODES_IDS,
        follow_redirects=f is not LookupFault.IGNORES_REDIRECTS,
        check_redirect_certificate=f is not LookupFault.IGNORES_REDIRECT_CERTIFICATE,
        check_activation=f is not LookupFault.IGNORES_ACTIVATION_DATES,
        any_document_type=f is LookupFault.ANY_DOCUMENT_TYPE,
        check_revocation=f is not LookupFault.IGNORES_REVOCATION,
    )


def lookup_request(payload: Any) -> Any:
    """The :class:`~harness.peppol.smp.client.LookupRequest` of a control-API lookup body."""
    from harness.peppol.smp.client import LookupRequest
    from harness.peppol.smp.control import certificates_from_pem, crls_from_pem
    from harness.peppol.smp.signing import TrustAnchors

    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object")
    for key in ("receiver", "document_type", "sml_zone", "dns_resolver"):
        if not isinstance(payload.get(key), str) or not payload[key]:
            raise BadRequest(f"{key} must be a non-empty string")
    anchors = payload.get("smp_trust_anchors")
    profiles = payload.get("transport_profiles")
    if not isinstance(anchors, list) or not anchors or not all(isinstance(a, str) for a in anchors):
        raise BadRequest("smp_trust_anchors must be a non-empty list of PEM certificates")
    if (
        not isinstance(profiles, list)
        or not profiles
        or not all(isinstance(p, str) for p in profiles)
    ):
        raise BadRequest("transport_profiles must be a non-empty list of strings")
    try:
        trust = TrustAnchors.from_pem(*anchors)
    except ConfigError as exc:
        raise BadRequest(str(exc)) from None
    crls = payload.get("smp_crls")
    if crls is not None and (
        not isinstance(crls, list) or not crls or not all(isinstance(c, str) for c in crls)
    ):
        raise BadRequest("smp_crls, when given, must be a non-empty list of PEM CRLs")
    tls_anchors = payload.get("smp_tls_trust_anchors")
    if tls_anchors is not None and (
        not isinstance(tls_anchors, list)
        or not tls_anchors
        or not all(isinstance(a, str) for a in tls_anchors)
    ):
        raise BadRequest(
            "smp_tls_trust_anchors, when given, must be a non-empty list of PEM certificates"
        )
    process = payload.get("process")
    at = payload.get("at")
    try:
        return LookupRequest(
            receiver=_identifier(ParticipantIdentifier, payload["receiver"], "receiver"),
            document_type=_identifier(
                DocumentTypeIdentifier, payload["document_type"], "document_type"
            ),
            sml_zone=payload["sml_zone"],
            dns_resolver=payload["dns_resolver"],
            trust=trust,
            transport_profiles=tuple(profiles),
            process=_identifier(ProcessIdentifier, process, "process")
            if process is not None
            else None,
            at=datetime.fromisoformat(at) if isinstance(at, str) else None,
            smp_crls=crls_from_pem(crls) if crls is not None else None,
            smp_tls_trust_anchors=certificates_from_pem(tls_anchors, "smp_tls_trust_anchors")
            if tls_anchors is not None
            else None,
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def create_lookup_app(*, variant: str | None = None, token: str | None = None) -> Any:
    """The reference lookup participant (sending AP) behind the control API."""
    from contextlib import asynccontextmanager

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from harness.drivers import control_api
    from harness.errors import ConfigError as _ConfigError
    from harness.peppol.smp.client import LookupRefused, SmpClient
    from harness.reference.peppol_participant import BearerAuth

    try:
        chosen = get_lookup_variant(variant)
    except KeyError as exc:
        raise _ConfigError(str(exc.args[0])) from None
    client = SmpClient(faults=lookup_faults(chosen))

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "name": f"harness reference peppol-smp-participant ({chosen.name})",
                "version": __version__,
            }
        )

    def run_lookup(payload: Any) -> dict[str, Any]:
        req = lookup_request(payload)
        try:
            result = client.lookup(req)
        except LookupRefused as exc:
            if chosen.lookup_fault is LookupFault.REFUSAL_WITHOUT_REASON:
                return {"outcome": "refused", "message": str(exc)}  # the fault: no "reason"
            return {"outcome": "refused", "reason": exc.refusal.value, "message": str(exc)}
        try:
            pem = (
                x509.load_der_x509_certificate(result.certificate)
                .public_bytes(serialization.Encoding.PEM)
                .decode()
            )
        except ValueError:
            pem = base64.b64encode(result.certificate).decode("ascii")
        return {
            "outcome": "endpoint",
            "endpoint_url": result.endpoint_url,
            "certificate": pem,
            "transport_profile": result.transport_profile,
            "process": result.process.uri,
            "smp_url": result.smp_url,
            "dns_name": result.dns_name,
        }

    async def lookup(request: Request) -> Response:
        try:
            payload = await _json_body(request)
            answer = await run_in_threadpool(run_lookup, payload)
        except BadRequest as exc:
            return _problem(400, "Bad Request", str(exc))
        return JSONResponse(answer)

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                client.close()

    app = Starlette(
        routes=[
            Route(control_api.HEALTH, health, methods=["GET"]),
            Route(f"{API}/lookup", lookup, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    if token:
        return BearerAuth(app, token, open_paths=frozenset({control_api.HEALTH}))
    return app


# -- a client of the management APIs (for suites and tests) -----------------------------------


@dataclass(frozen=True)
class PublishedEndpoint:
    """One endpoint to publish through :class:`ReferenceNetwork` (see the SMP publish API)."""

    endpoint_url: str
    transport_profile: str = "peppol-transport-as4-v2_0"
    #: PEM or base64 DER; None: the test PKI's AP certificate.
    certificate: str | None = None
    service_activation_date: datetime | None = None
    service_expiration_date: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "transport_profile": self.transport_profile,
            "endpoint_url": self.endpoint_url,
        }
        if self.certificate is not None:
            out["certificate"] = self.certificate
        for key in ("service_activation_date", "service_expiration_date"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value.isoformat()
        return out


class ReferenceNetwork:
    """Drives the management APIs of a running reference SMP and SML (pytest-free).

    ``smp_url`` / ``sml_url``: base URLs of ``conformance serve smp`` / ``sml``; ``token``: their
    bearer token, if they require one; ``verify``: how to check the TLS certificate of an HTTPS
    SMP (an ``ssl.SSLContext`` trusting the CA that issued it; default: the system trust store).
    Raises ``httpx.HTTPStatusError`` when an API refuses.
    """

    def __init__(
        self,
        smp_url: str,
        sml_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        verify: Any = True,
    ) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.smp_url = smp_url.rstrip("/")
        self.sml_url = sml_url.rstrip("/")
        self.http = httpx.Client(headers=headers, timeout=timeout, verify=verify)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def info(self) -> dict[str, str]:
        """``{"zone", "dns"}`` of the SML."""
        r = self.http.get(f"{self.sml_url}/conformance/v1/peppol-sml/info")
        r.raise_for_status()
        return dict(r.json())

    def trust(self) -> dict[str, str]:
        """The SMP's trust material (``smp_ca`` PEM is the anchor an AP needs)."""
        r = self.http.get(f"{self.smp_url}{API}/trust")
        r.raise_for_status()
        return dict(r.json())

    def publish(
        self,
        participant: ParticipantIdentifier,
        document_type: DocumentTypeIdentifier,
        process: ProcessIdentifier,
        endpoints: list[PublishedEndpoint] | tuple[PublishedEndpoint, ...],
        *,
        signing: str = "smp",
        register: bool = True,
    ) -> dict[str, Any]:
        """Publish one service of ``participant`` at the SMP (replacing the participant) and, by
        default, register the participant in the SML pointing at this SMP."""
        service = {
            "document_type": document_type.uri,
            "signing": signing,
            "processes": [{"process": process.uri, "endpoints": [e.as_json() for e in endpoints]}],
        }
        return self.publish_raw(
            {"participant": participant.uri, "services": [service]}, register=register
        )

    def publish_raw(self, payload: dict[str, Any], *, register: bool = True) -> dict[str, Any]:
        r = self.http.post(f"{self.smp_url}{API}/participants", json=payload)
        r.raise_for_status()
        if register:
            self.register(ParticipantIdentifier.parse(payload["participant"]), self.smp_url)
        return dict(r.json())

    def register(
        self,
        participant: ParticipantIdentifier,
        smp_url: str,
        *,
        legacy_cname: bool = False,
        allow_http: bool = False,
    ) -> dict[str, Any]:
        """Register ``participant`` in the SML with the SMP at ``smp_url`` (https; a plain http
        URL only with ``allow_http``, see :mod:`harness.reference.sml`)."""
        body: dict[str, Any] = {
            "participant": participant.uri,
            "smp_url": smp_url,
            "legacy_cname": legacy_cname,
        }
        if allow_http:
            body["allow_http"] = True
        r = self.http.post(f"{self.sml_url}/conformance/v1/peppol-sml/participants", json=body)
        r.raise_for_status()
        return dict(r.json())

    def dns_queries(self) -> list[dict[str, str]]:
        r = self.http.get(f"{self.sml_url}/conformance/v1/peppol-sml/queries")
        r.raise_for_status()
        return list(r.json()["queries"])

    def smp_requests(self) -> list[dict[str, Any]]:
        r = self.http.get(f"{self.smp_url}{API}/requests")
        r.raise_for_status()
        return list(r.json()["requests"])

    def reset(self) -> None:
        self.http.post(f"{self.smp_url}{API}/reset").raise_for_status()
        self.http.post(f"{self.sml_url}/conformance/v1/peppol-sml/reset").raise_for_status()
