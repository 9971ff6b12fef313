"""The AP-side lookup: SML (DNS U-NAPTR) -> SMP base URL -> SignedServiceMetadata -> endpoint.

This is how the harness itself finds a receiver (and what the reference ``peppol-smp-participant``
answers with). Steps, each with the refusal it can end in (:class:`Refusal`):

1. the participant's DNS name (:func:`~harness.peppol.smp.sml.participant_dns_name`) and its
   ``Meta:SMP`` NAPTR record at the given resolver -> ``not-registered`` / ``sml-unavailable``;
2. ``GET {smp}/{participant}/services/{documentType}`` (identifiers percent-encoded once) ->
   ``no-service`` (404) / ``smp-unavailable``; over HTTPS the SMP's TLS server certificate is
   checked against the request's ``smp_tls_trust_anchors`` when it carries them (else against the
   system trust store) and its host name against the URL -> ``smp-unavailable`` naming TLS;
3. the document: safe XML, schema-valid, a SignedServiceMetadata -> ``invalid-metadata``;
4. the signature (enveloped, RSA-SHA256) verifies, by a certificate valid now that chains to one
   of the SMP trust anchors and, when the request carries the CRLs of the trust anchors' CAs
   (``smp_crls``), is not revoked -> ``bad-signature`` / ``expired-certificate`` /
   ``untrusted-certificate`` / ``revoked-certificate``; data is then read from what the signature
   covers;
5. a ``Redirect`` is followed once, to a signature whose certificate matches ``CertificateUID``
   (a second redirect is refused) -> ``redirect-refused``;
6. it is about the asked participant and document type -> ``invalid-metadata``; an endpoint of the
   asked process (if given) with a transport profile the AP supports (in the AP's order of
   preference), active at the lookup time -> ``no-process`` / ``unsupported-transport`` /
   ``endpoint-not-active``.

:class:`LookupFaults` are the knobs of known-bad lookups (each turns one check off or does one
step wrongly); the default is the correct behaviour. Nothing here imports pytest.
"""

from __future__ import annotations

import enum
import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

from harness.errors import HarnessError, UntrustedInputError
from harness.peppol.smp import sml as sml_mod
from harness.peppol.smp.errors import (
    ParticipantNotRegistered,
    SignatureError,
    SmlLookupError,
    SmpDocumentError,
)
from harness.peppol.smp.identifiers import (
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
    double_encode,
    service_group_path,
    service_metadata_path,
)
from harness.peppol.smp.signing import SignatureProblem, TrustAnchors
from harness.peppol.smp.smp_xml import Endpoint, Process, ServiceGroup, ServiceMetadata

if TYPE_CHECKING:
    import ssl

    import httpx
    from cryptography import x509
    from lxml import etree

    from harness.pki import RevocationCheck

MAX_RESPONSE_BYTES = 10 * 2**20
DEFAULT_HTTP_TIMEOUT = 10.0
#: Distinct ``smp_tls_trust_anchors`` sets an :class:`SmpClient` keeps a connection pool for;
#: a lookup with yet another set gets a client of its own, closed when the lookup ends.
MAX_TLS_POOLS = 8


class Refusal(enum.StrEnum):
    """Why a lookup gives no endpoint (stable codes: the control API answers them)."""

    NOT_REGISTERED = "not-registered"
    SML_UNAVAILABLE = "sml-unavailable"
    SMP_UNAVAILABLE = "smp-unavailable"
    NO_SERVICE = "no-service"
    INVALID_METADATA = "invalid-metadata"
    BAD_SIGNATURE = "bad-signature"
    UNTRUSTED_CERTIFICATE = "untrusted-certificate"
    EXPIRED_CERTIFICATE = "expired-certificate"
    REVOKED_CERTIFICATE = "revoked-certificate"
    REDIRECT_REFUSED = "redirect-refused"
    NO_PROCESS = "no-process"
    UNSUPPORTED_TRANSPORT = "unsupported-transport"
    ENDPOINT_NOT_ACTIVE = "endpoint-not-active"


_SIGNATURE_REFUSALS = {
    SignatureProblem.MISSING: Refusal.BAD_SIGNATURE,
    SignatureProblem.MALFORMED: Refusal.BAD_SIGNATURE,
    SignatureProblem.ALGORITHM: Refusal.BAD_SIGNATURE,
    SignatureProblem.INVALID: Refusal.BAD_SIGNATURE,
    SignatureProblem.EXPIRED: Refusal.EXPIRED_CERTIFICATE,
    SignatureProblem.UNTRUSTED: Refusal.UNTRUSTED_CERTIFICATE,
    SignatureProblem.REVOKED: Refusal.REVOKED_CERTIFICATE,
    # Fail closed (RFC 5280 section 6.3.3: without a current CRL of the issuer the status is
    # undetermined): handed CRLs that say nothing about the signer are refused like a revocation.
    SignatureProblem.REVOCATION_UNKNOWN: Refusal.REVOKED_CERTIFICATE,
}


class LookupRefused(HarnessError):
    """The lookup decided against the receiver; ``refusal`` says which check, the message why."""

    def __init__(self, refusal: Refusal, message: str, exchanges: Sequence[Exchange] = ()) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.exchanges = tuple(exchanges)


@dataclass(frozen=True)
class Exchange:
    """One thing the lookup asked and what came back (evidence for the report)."""

    kind: str  # "dns" or "http"
    request: str  # "NAPTR <name> @host:port" or "GET <url>"
    status: str  # DNS rcode or HTTP status code
    content_type: str = ""
    body: bytes = field(default=b"", repr=False)
    seconds: float = 0.0


@dataclass(frozen=True)
class LookupRequest:
    """What a sending AP is given: who to send what to, where the SML is, whom to trust."""

    receiver: ParticipantIdentifier
    document_type: DocumentTypeIdentifier
    sml_zone: str
    dns_resolver: str
    trust: TrustAnchors
    #: Transport profiles the AP supports, most preferred first.
    transport_profiles: tuple[str, ...]
    process: ProcessIdentifier | None = None
    #: The moment certificate and service validity are judged at (default: now).
    at: datetime | None = None
    #: The current CRLs of the CAs of the trust anchors (None: none handed, no revocation check).
    #: Given, a signing certificate they list is refused as ``revoked-certificate``, and so is
    #: one whose issuer has no CRL among them that verifies and is current (fail closed).
    smp_crls: tuple[x509.CertificateRevocationList, ...] | None = field(default=None, repr=False)
    #: CA certificates the TLS server certificate of every SMP the lookup is sent to chains to
    #: (None: the system trust store, as for any HTTPS client). Given, an ``https`` SMP whose
    #: certificate does not chain to one of them, or does not name the URL's host, is refused as
    #: ``smp-unavailable``. A plain ``http`` SMP URL is still followed: Peppol SML 1.3.0 2.1.1
    #: puts the https-only rule on what the SML publishes, not on the client.
    smp_tls_trust_anchors: tuple[x509.Certificate, ...] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LookupResult:
    """The endpoint a lookup found, and the trail that led to it."""

    endpoint_url: str
    certificate: bytes = field(repr=False)
    transport_profile: str
    process: ProcessIdentifier
    smp_url: str
    dns_name: str
    smp_certificate: x509.Certificate | None = field(default=None, repr=False)
    redirected_to: str | None = None
    exchanges: tuple[Exchange, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class LookupFaults:
    """Deliberately wrong lookup behaviour (all off = correct)."""

    dns_name: sml_mod.DnsNameAlgorithm = sml_mod.DnsNameAlgorithm.SHA256_VALUE
    #: False: the signature value and digest are not checked (the carried certificate still is;
    #: a document without any signature still fails schema validation).
    verify_signature: bool = True
    #: False: an expired or not-yet-valid signing certificate is accepted.
    check_certificate_validity: bool = True
    #: False: a signing certificate that does not chain to the trust anchors is accepted.
    check_trust: bool = True
    #: False: the first endpoint is taken whatever its transport profile.
    check_transport_profile: bool = True
    #: True: identifiers in the SMP request path are percent-encoded twice.
    double_encode_ids: bool = False
    #: False: a Redirect is not followed (the lookup is refused).
    follow_redirects: bool = True
    #: False: a redirect's destination need not be signed by the certificate it names.
    check_redirect_certificate: bool = True
    #: False: ServiceActivationDate / ServiceExpirationDate are ignored.
    check_activation: bool = True
    #: True: with no metadata for the document type, another one of the ServiceGroup is used.
    any_document_type: bool = False
    #: False: the request's ``smp_crls`` are not consulted (a revoked signer is accepted).
    check_revocation: bool = True


class SmpClient:
    """Looks receivers up through an SML and their SMPs. Thread-safe if ``http`` is."""

    def __init__(
        self,
        http: httpx.Client | None = None,
        *,
        faults: LookupFaults = LookupFaults(),
        dns_timeout: float = sml_mod.DEFAULT_TIMEOUT,
        http_timeout: float = DEFAULT_HTTP_TIMEOUT,
        validate_schema: bool = True,
    ) -> None:
        import httpx as _httpx

        self._own_http = http is None
        self.http = http or _httpx.Client(timeout=http_timeout, follow_redirects=False)
        self.faults = faults
        self.dns_timeout = dns_timeout
        self.http_timeout = http_timeout
        self.validate_schema = validate_schema
        self._tls_lock = threading.Lock()
        self._tls_clients: dict[str, httpx.Client] = {}

    def close(self) -> None:
        if self._own_http:
            self.http.close()
        with self._tls_lock:
            clients, self._tls_clients = list(self._tls_clients.values()), {}
        for client in clients:
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building blocks -----------------------------------------------------------------------

    def locate(self, request: LookupRequest, trail: list[Exchange]) -> sml_mod.SmpLocation:
        """Step 1: the SMP base URL of the receiver, from the SML."""
        started = time.perf_counter()
        try:
            location = sml_mod.resolve_smp_url(
                request.receiver,
                request.sml_zone,
                request.dns_resolver,
                algorithm=self.faults.dns_name,
                timeout=self.dns_timeout,
            )
        except ParticipantNotRegistered as exc:
            raise LookupRefused(Refusal.NOT_REGISTERED, str(exc), trail) from None
        except SmlLookupError as exc:
            raise LookupRefused(Refusal.SML_UNAVAILABLE, str(exc), trail) from None
        trail.append(
            Exchange(
                "dns",
                f"NAPTR {location.dns_name} @{request.dns_resolver}",
                location.answer.rcode,
                body=location.answer.wire,
                seconds=round(time.perf_counter() - started, 6),
            )
        )
        return location

    def metadata_url(
        self, smp_url: str, receiver: ParticipantIdentifier, document_type: DocumentTypeIdentifier
    ) -> str:
        if self.faults.double_encode_ids:
            return f"{smp_url}/{double_encode(receiver)}/services/{double_encode(document_type)}"
        return smp_url + service_metadata_path(receiver, document_type)

    def http_for(self, request: LookupRequest) -> tuple[httpx.Client | None, bool]:
        """The HTTP client for the ``https`` SMP requests of ``request``, and whether the caller
        must close it: None (use :attr:`http`) without ``smp_tls_trust_anchors``; else one whose
        TLS verification trusts exactly those anchors (kept per anchor set, up to
        :data:`MAX_TLS_POOLS`). Plain ``http`` requests always go through :attr:`http`."""
        if request.smp_tls_trust_anchors is None:
            return None, False
        return self.tls_http(request.smp_tls_trust_anchors)

    def tls_http(self, anchors: Sequence[x509.Certificate]) -> tuple[httpx.Client, bool]:
        """An HTTP client whose TLS verification trusts exactly ``anchors``, and whether the
        caller must close it (see :meth:`http_for`)."""
        import httpx as _httpx

        key = _anchor_key(anchors)
        with self._tls_lock:
            client = self._tls_clients.get(key)
            if client is not None:
                return client, False
            client = _httpx.Client(
                timeout=self.http_timeout, follow_redirects=False, verify=tls_context(anchors)
            )
            if len(self._tls_clients) < MAX_TLS_POOLS:
                self._tls_clients[key] = client
                return client, False
        return client, True

    def get(
        self, url: str, trail: list[Exchange], tls_http: httpx.Client | None = None
    ) -> tuple[int, str, bytes]:
        """GET ``url``: (status, media type, body), the body capped at MAX_RESPONSE_BYTES. An
        ``https`` URL goes through ``tls_http`` when given (see :meth:`http_for`), anything else
        through :attr:`http`. A TLS failure is refused as ``smp-unavailable``, saying so."""
        import httpx as _httpx

        http = tls_http if tls_http is not None and url[:6].lower() == "https:" else self.http
        started = time.perf_counter()
        try:
            with http.stream("GET", url, headers={"Accept": "text/xml, application/xml"}) as resp:
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        raise LookupRefused(
                            Refusal.INVALID_METADATA,
                            f"GET {url} answered more than {MAX_RESPONSE_BYTES} bytes; refused",
                            trail,
                        )
                    chunks.append(chunk)
                body = b"".join(chunks)
                status = resp.status_code
                ctype = resp.headers.get("content-type", "")
        except _httpx.HTTPError as exc:
            tls = _tls_failure(exc)
            if tls is not None:
                raise LookupRefused(
                    Refusal.SMP_UNAVAILABLE,
                    f"GET {url} failed: TLS: the SMP's server certificate is not trusted or does not"
                    f" name the host ({tls}); it must chain to a trusted CA (the lookup's"
                    " smp_tls_trust_anchors when given) and name the host of the URL",
                    trail,
                ) from None
            raise LookupRefused(
                Refusal.SMP_UNAVAILABLE, f"GET {url} failed: {type(exc).__name__}: {exc}", trail
            ) from None
        trail.append(
            Exchange(
                "http",
                f"GET {url}",
                str(status),
                ctype,
                body,
                round(time.perf_counter() - started, 6),
            )
        )
        return status, ctype.split(";")[0].strip().lower(), body

    def service_group(
        self,
        smp_url: str,
        participant: ParticipantIdentifier,
        *,
        smp_tls_trust_anchors: Sequence[x509.Certificate] | None = None,
    ) -> ServiceGroup:
        """``GET /{participant}``: the participant's ServiceGroup (SmpDocumentError / LookupRefused);
        an https SMP's TLS certificate is checked against ``smp_tls_trust_anchors`` when given."""
        from harness.peppol.smp.smp_xml import parse_document, read_service_group, validate

        trail: list[Exchange] = []
        url = smp_url.rstrip("/") + service_group_path(participant)
        if smp_tls_trust_anchors is None:
            status, _, body = self.get(url, trail)
        else:
            tls_http, own = self.tls_http(smp_tls_trust_anchors)
            try:
                status, _, body = self.get(url, trail, tls_http)
            finally:
                if own:
                    tls_http.close()
        if status == 404:
            raise LookupRefused(Refusal.NO_SERVICE, f"GET {url}: 404, no such participant", trail)
        if status != 200:
            raise LookupRefused(Refusal.SMP_UNAVAILABLE, f"GET {url}: HTTP {status}", trail)
        root = parse_document(body, name=url)
        if self.validate_schema and (errors := validate(root)):
            raise SmpDocumentError(f"ServiceGroup at {url} is not schema-valid: {errors[0]}")
        return read_service_group(root)

    def fetch_signed(
        self,
        url: str,
        request: LookupRequest,
        trail: list[Exchange],
        tls_http: httpx.Client | None = None,
    ) -> tuple[ServiceMetadata, x509.Certificate | None]:
        """Steps 2-4 for one URL: the verified metadata and the certificate that signed it."""
        from harness.peppol.smp.smp_xml import parse_document, read_service_metadata, validate

        status, _, body = self.get(url, trail, tls_http)
        if status == 404:
            raise LookupRefused(
                Refusal.NO_SERVICE,
                f"GET {url}: 404, the SMP has no metadata for {request.receiver} and"
                f" {request.document_type}",
                trail,
            )
        if status != 200:
            raise LookupRefused(Refusal.SMP_UNAVAILABLE, f"GET {url}: HTTP {status}", trail)
        try:
            root = parse_document(body, name=url)
        except (SmpDocumentError, UntrustedInputError) as exc:
            raise LookupRefused(Refusal.INVALID_METADATA, str(exc), trail) from None
        # The signature first: an unsigned document is refused as unsigned (it is schema-invalid
        # too, since the SMP 1.0 types make ds:Signature mandatory).
        signed_root, signer = self._verify(root, request, trail)
        if self.validate_schema and (errors := validate(root)):
            raise LookupRefused(
                Refusal.INVALID_METADATA,
                f"SignedServiceMetadata at {url} is not schema-valid: {'; '.join(errors[:3])}",
                trail,
            )
        try:
            return read_service_metadata(signed_root), signer
        except SmpDocumentError as exc:
            raise LookupRefused(Refusal.INVALID_METADATA, str(exc), trail) from None

    def _verify(
        self, root: etree._Element, request: LookupRequest, trail: list[Exchange]
    ) -> tuple[etree._Element, x509.Certificate | None]:
        from harness.peppol.smp.signing import (
            check_certificate,
            signer_certificate,
            verify_enveloped,
        )

        f = self.faults
        at = request.at or datetime.now(UTC)
        revocation = self.revocation_check(request, at)
        if f.verify_signature:
            try:
                verified = verify_enveloped(
                    root,
                    request.trust,
                    at=at,
                    check_validity_period=f.check_certificate_validity,
                    check_trust=f.check_trust,
                    check_revocation=revocation,
                )
            except SignatureError as exc:
                refusal = _SIGNATURE_REFUSALS[SignatureProblem(exc.reason)]
                raise LookupRefused(refusal, str(exc), trail) from None
            return verified.signed_root, verified.certificate
        # Known-bad: no cryptographic check, but the carried certificate is still judged.
        try:
            found = signer_certificate(root)
        except SignatureError:
            found = None
        if found is None:
            return root, None
        leaf, others = found
        try:
            check_certificate(
                leaf,
                others,
                request.trust,
                at=at,
                check_validity_period=f.check_certificate_validity,
                check_trust=f.check_trust,
                check_revocation=revocation,
            )
        except SignatureError as exc:
            refusal = _SIGNATURE_REFUSALS[SignatureProblem(exc.reason)]
            raise LookupRefused(refusal, str(exc), trail) from None
        return root, leaf

    def revocation_check(self, request: LookupRequest, at: datetime) -> RevocationCheck | None:
        """The CRL check of ``request.smp_crls`` at ``at`` (None: no CRLs, or the fault knob)."""
        if request.smp_crls is None or not self.faults.check_revocation:
            return None
        from harness.pki import crl_checker

        return crl_checker(request.smp_crls, at=at)

    # -- the lookup ------------------------------------------------------------------------------

    def lookup(self, request: LookupRequest) -> LookupResult:
        """Find the endpoint for ``request`` or raise :class:`LookupRefused`."""
        tls_http, own = self.http_for(request)
        try:
            return self._lookup(request, tls_http)
        finally:
            if own and tls_http is not None:
                tls_http.close()

    def _lookup(self, request: LookupRequest, http: httpx.Client | None) -> LookupResult:
        trail: list[Exchange] = []
        location = self.locate(request, trail)
        url = self.metadata_url(location.smp_url, request.receiver, request.document_type)
        fallback = False
        try:
            metadata, signer = self.fetch_signed(url, request, trail, http)
        except LookupRefused as exc:
            if exc.refusal is not Refusal.NO_SERVICE or not self.faults.any_document_type:
                raise
            # Known-bad: any document type the receiver's ServiceGroup lists will do.
            url, metadata, signer = self._any_service(location.smp_url, request, trail, http)
            fallback = True
        redirected_to: str | None = None
        if metadata.redirect is not None:
            redirect = metadata.redirect
            if not self.faults.follow_redirects:  # known-bad: SMP 1.4.0 4.3 says MUST follow
                raise LookupRefused(
                    Refusal.REDIRECT_REFUSED,
                    f"the metadata is a Redirect to {redirect.href}, which this client does not"
                    " follow",
                    trail,
                )
            redirected_to = redirect.href
            metadata, signer = self.fetch_signed(redirect.href, request, trail, http)
            if metadata.redirect is not None:
                raise LookupRefused(
                    Refusal.REDIRECT_REFUSED,
                    f"{redirect.href} redirects again (to {metadata.redirect.href}); a client does"
                    " not follow a second redirect",
                    trail,
                )
            if (
                self.faults.check_redirect_certificate
                and signer is not None
                and not certificate_matches_uid(signer, redirect.certificate_uid)
            ):
                raise LookupRefused(
                    Refusal.REDIRECT_REFUSED,
                    f"the metadata at {redirect.href} is signed by {signer.subject.rfc4514_string()},"
                    f" not by the certificate the redirect names ({redirect.certificate_uid!r})",
                    trail,
                )
        info = metadata.information
        assert info is not None
        if info.participant != request.receiver or (
            info.document_type != request.document_type and not fallback
        ):
            raise LookupRefused(
                Refusal.INVALID_METADATA,
                f"the metadata at {url} is about {info.participant} / {info.document_type}, not the"
                f" asked {request.receiver} / {request.document_type}",
                trail,
            )
        process, endpoint = self.choose_endpoint(info.processes, request, trail)
        return LookupResult(
            endpoint_url=endpoint.endpoint_uri,
            certificate=endpoint.certificate,
            transport_profile=endpoint.transport_profile,
            process=process.process,
            smp_url=location.smp_url,
            dns_name=location.dns_name,
            smp_certificate=signer,
            redirected_to=redirected_to,
            exchanges=tuple(trail),
        )

    def _any_service(
        self,
        smp_url: str,
        request: LookupRequest,
        trail: list[Exchange],
        http: httpx.Client | None,
    ) -> tuple[str, ServiceMetadata, x509.Certificate | None]:
        """Known-bad fallback: the first metadata the receiver's ServiceGroup references."""
        from harness.peppol.smp.smp_xml import parse_document, read_service_group

        url = smp_url + service_group_path(request.receiver)
        status, _, body = self.get(url, trail, http)
        if status != 200:
            raise LookupRefused(Refusal.NO_SERVICE, f"GET {url}: HTTP {status}", trail)
        try:
            group = read_service_group(parse_document(body, name=url))
        except (SmpDocumentError, UntrustedInputError) as exc:
            raise LookupRefused(Refusal.INVALID_METADATA, str(exc), trail) from None
        if not group.references:
            raise LookupRefused(Refusal.NO_SERVICE, f"{url} references no metadata", trail)
        href = group.references[0]
        metadata, signer = self.fetch_signed(href, request, trail, http)
        return href, metadata, signer

    def choose_endpoint(
        self, processes: Sequence[Process], request: LookupRequest, trail: Sequence[Exchange] = ()
    ) -> tuple[Process, Endpoint]:
        """Step 6: the endpoint to use among ``processes``."""
        candidates = [
            p for p in processes if request.process is None or p.process == request.process
        ]
        if not candidates:
            raise LookupRefused(
                Refusal.NO_PROCESS,
                f"the receiver takes {request.document_type} in processes"
                f" {[str(p.process) for p in processes]}, not in {request.process}",
                trail,
            )
        pairs = [(p, e) for p in candidates for e in p.endpoints]
        if not self.faults.check_transport_profile:
            # Known-bad: every endpoint counts as supported, in publication order (the
            # activation dates are still honoured: one fault per variant).
            if not pairs:
                raise LookupRefused(Refusal.UNSUPPORTED_TRANSPORT, "no endpoint published", trail)
            supported = [(rank, p, e) for rank, (p, e) in enumerate(pairs)]
        else:
            supported = [
                (request.transport_profiles.index(e.transport_profile), p, e)
                for p, e in pairs
                if e.transport_profile in request.transport_profiles
            ]
        if not supported:
            raise LookupRefused(
                Refusal.UNSUPPORTED_TRANSPORT,
                f"the receiver's endpoints use transport profiles"
                f" {sorted({e.transport_profile for _, e in pairs})}; this AP supports"
                f" {list(request.transport_profiles)}",
                trail,
            )
        at = request.at or datetime.now(UTC)
        active = [
            (rank, p, e)
            for rank, p, e in supported
            if not self.faults.check_activation
            or (
                (e.service_activation_date is None or _aware(e.service_activation_date) <= at)
                and (e.service_expiration_date is None or at <= _aware(e.service_expiration_date))
            )
        ]
        if not active:
            raise LookupRefused(
                Refusal.ENDPOINT_NOT_ACTIVE,
                f"every endpoint with a supported transport profile is outside its service"
                f" activation/expiration dates at {at:%Y-%m-%dT%H:%M:%SZ}",
                trail,
            )
        _, process, endpoint = min(active, key=lambda t: t[0])
        return process, endpoint


def tls_context(anchors: Sequence[x509.Certificate]) -> ssl.SSLContext:
    """A client TLS context that trusts exactly ``anchors`` (not the system store), TLS 1.2 or
    later, host names checked: how an SMP is reached given ``smp_tls_trust_anchors``."""
    import ssl as _ssl

    from cryptography.hazmat.primitives import serialization

    if not anchors:
        raise ValueError("no TLS trust anchor given; pass at least one CA certificate")
    pem = "".join(a.public_bytes(serialization.Encoding.PEM).decode("ascii") for a in anchors)
    context = _ssl.create_default_context(cadata=pem)
    context.minimum_version = _ssl.TLSVersion.TLSv1_2
    return context


def _anchor_key(anchors: Sequence[x509.Certificate]) -> str:
    from cryptography.hazmat.primitives import hashes

    prints = sorted(a.fingerprint(hashes.SHA256()).hex() for a in anchors)
    return hashlib.sha256("".join(prints).encode("ascii")).hexdigest()


def _tls_failure(exc: BaseException) -> str | None:
    """What went wrong in TLS if ``exc`` (an httpx error) was caused by the handshake, else None."""
    import ssl as _ssl

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, _ssl.SSLError):
            return getattr(seen, "verify_message", None) or seen.reason or str(seen)
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    return text if "SSL" in text or "CERTIFICATE_VERIFY_FAILED" in text else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def certificate_matches_uid(certificate: x509.Certificate, uid: str) -> bool:
    """Whether ``certificate`` is the one a Redirect's ``CertificateUID`` names.

    The SMP 1.0 types call it the "Subject Unique Identifier" of the destination SMP's
    certificate; in practice SMPs write the subject (RFC 4514 string) or its CN. Both are
    accepted, compared exactly (after trimming).
    """
    from cryptography.x509.oid import NameOID

    wanted = uid.strip()
    if wanted == certificate.subject.rfc4514_string():
        return True
    cns = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return any(str(cn.value) == wanted for cn in cns)
