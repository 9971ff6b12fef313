"""The control API bodies of profile ``peppol-smp`` as typed values (pytest-free).

``harness/data/control-api.openapi.yaml`` defines two operations for the profile:

- ``publishParticipant`` (``POST /conformance/v1/peppol-smp/participants``): the harness publishes
  a test participant on an SMP -- the participant's SMP (role ``smp``) or the harness's own
  reference SMP (role ``ap``, where :attr:`PublishedService.signing` may ask the reference for a
  deliberately wrong signature). :class:`Publication` is that body; its services are the
  :mod:`~harness.peppol.smp.smp_xml` model, so what was published compares directly with what an
  SMP serves back (:func:`endpoint_differences`).
- ``lookupReceiver`` (``POST /conformance/v1/peppol-smp/lookup``): :func:`lookup_request_json`
  writes a :class:`~harness.peppol.smp.client.LookupRequest` as that body (certificates and CRLs
  as PEM text; :func:`certificates_from_pem` and :func:`crls_from_pem` read them back).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from harness.peppol.smp.identifiers import (
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
)
from harness.peppol.smp.smp_xml import (
    Endpoint,
    Process,
    Redirect,
    ServiceInformation,
    ServiceMetadata,
)

if TYPE_CHECKING:
    from cryptography import x509

    from harness.peppol.smp.client import LookupRequest

#: Signing the reference SMP applies when asked for nothing else (its own SMP certificate).
SIGNED_BY_SMP = "smp"

T = TypeVar("T")


@dataclass(frozen=True)
class PublishedService:
    """One document type of a published participant: its metadata (endpoints or a redirect).

    ``signing`` is only sent to the harness's reference SMP (``unsigned``, ``corrupt-signature``,
    ``tampered``, ``expired-certificate``, ``wrong-ca``, ``ap-certificate``,
    ``revoked-certificate``); a participant's SMP always signs with its own SMP certificate.
    """

    document_type: DocumentTypeIdentifier
    metadata: ServiceMetadata
    signing: str = SIGNED_BY_SMP

    @property
    def redirect(self) -> Redirect | None:
        return self.metadata.redirect

    @property
    def information(self) -> ServiceInformation | None:
        return self.metadata.information


@dataclass(frozen=True)
class Publication:
    """A participant and the services to publish for it (replacing what was published before)."""

    participant: ParticipantIdentifier
    services: tuple[PublishedService, ...]

    @classmethod
    def one_service(
        cls,
        participant: ParticipantIdentifier,
        document_type: DocumentTypeIdentifier,
        process: ProcessIdentifier,
        endpoints: Sequence[Endpoint],
        *,
        signing: str = SIGNED_BY_SMP,
    ) -> Publication:
        info = ServiceInformation(participant, document_type, (Process(process, tuple(endpoints)),))
        return cls(participant, (PublishedService(document_type, ServiceMetadata(info), signing),))

    def service(self, document_type: DocumentTypeIdentifier) -> PublishedService:
        for s in self.services:
            if s.document_type == document_type:
                return s
        raise KeyError(f"{document_type} is not published for {self.participant}")

    def to_json(self, *, with_signing: bool = False) -> dict[str, Any]:
        """The ``Publication`` body of the control API; ``with_signing`` adds the reference SMP's
        ``signing`` knob (only for the harness's own reference SMP)."""
        services: list[dict[str, Any]] = []
        for s in self.services:
            item: dict[str, Any] = {"document_type": s.document_type.uri}
            if s.redirect is not None:
                item["redirect"] = {
                    "href": s.redirect.href,
                    "certificate_uid": s.redirect.certificate_uid,
                }
            else:
                info = s.information
                assert info is not None
                item["processes"] = [
                    {
                        "process": p.process.uri,
                        "endpoints": [_endpoint_json(e) for e in p.endpoints],
                    }
                    for p in info.processes
                ]
            if with_signing:
                item["signing"] = s.signing
            services.append(item)
        return {"participant": self.participant.uri, "services": services}


def _endpoint_json(e: Endpoint) -> dict[str, Any]:
    out: dict[str, Any] = {
        "transport_profile": e.transport_profile,
        "endpoint_url": e.endpoint_uri,
        "certificate": certificate_pem(e.certificate),
        "service_description": e.service_description,
        "technical_contact_url": e.technical_contact_url,
    }
    if e.service_activation_date is not None:
        out["service_activation_date"] = xml_datetime(e.service_activation_date)
    if e.service_expiration_date is not None:
        out["service_expiration_date"] = xml_datetime(e.service_expiration_date)
    return out


def certificate_pem(der: bytes) -> str:
    """DER certificate bytes as PEM text."""
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def certificate_der(text: str) -> bytes | None:
    """PEM or base64 DER certificate text (as a control API answers it) as DER; None if neither."""
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
        return None


def xml_datetime(value: datetime) -> str:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _same_instant(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    aa = a if a.tzinfo is not None else a.replace(tzinfo=UTC)
    bb = b if b.tzinfo is not None else b.replace(tzinfo=UTC)
    return aa == bb


def endpoint_differences(published: Endpoint, served: Endpoint) -> list[str]:
    """How ``served`` differs from ``published`` in what a sender relies on: transport profile,
    address, certificate, activation and expiration (empty: the same)."""
    out: list[str] = []
    if served.transport_profile != published.transport_profile:
        out.append(
            f"transportProfile {served.transport_profile!r}, published {published.transport_profile!r}"
        )
    if served.endpoint_uri != published.endpoint_uri:
        out.append(f"Address {served.endpoint_uri!r}, published {published.endpoint_uri!r}")
    if served.certificate != published.certificate:
        out.append("Certificate is not the published certificate")
    if not _same_instant(served.service_activation_date, published.service_activation_date):
        out.append(
            f"ServiceActivationDate {served.service_activation_date},"
            f" published {published.service_activation_date}"
        )
    if not _same_instant(served.service_expiration_date, published.service_expiration_date):
        out.append(
            f"ServiceExpirationDate {served.service_expiration_date},"
            f" published {published.service_expiration_date}"
        )
    return out


def information_differences(published: ServiceInformation, served: ServiceInformation) -> list[str]:
    """How served ServiceInformation differs from what was published (empty: the same)."""
    out: list[str] = []
    if served.participant != published.participant:
        out.append(f"ParticipantIdentifier {served.participant}, asked {published.participant}")
    if served.document_type != published.document_type:
        out.append(f"DocumentIdentifier {served.document_type}, asked {published.document_type}")
    served_procs = {p.process: p for p in served.processes}
    for proc in published.processes:
        got = served_procs.pop(proc.process, None)
        if got is None:
            out.append(f"process {proc.process} is missing")
            continue
        if len(got.endpoints) != len(proc.endpoints):
            out.append(
                f"process {proc.process} has {len(got.endpoints)} endpoint(s), published"
                f" {len(proc.endpoints)}"
            )
        for i, (p_ep, s_ep) in enumerate(zip(proc.endpoints, got.endpoints, strict=False)):
            out.extend(
                f"process {proc.process} endpoint {i + 1}: {d}"
                for d in endpoint_differences(p_ep, s_ep)
            )
    out.extend(f"process {p} was not published" for p in served_procs)
    return out


def lookup_request_json(request: LookupRequest) -> dict[str, Any]:
    """The ``LookupRequest`` body of the control API for ``request``."""
    from cryptography.hazmat.primitives import serialization

    body: dict[str, Any] = {
        "receiver": request.receiver.uri,
        "document_type": request.document_type.uri,
        "sml_zone": request.sml_zone,
        "dns_resolver": request.dns_resolver,
        "smp_trust_anchors": [
            c.public_bytes(serialization.Encoding.PEM).decode("ascii")
            for c in request.trust.certificates
        ],
        "transport_profiles": list(request.transport_profiles),
    }
    if request.process is not None:
        body["process"] = request.process.uri
    if request.smp_crls is not None:
        body["smp_crls"] = [crl_pem(c) for c in request.smp_crls]
    if request.smp_tls_trust_anchors is not None:
        body["smp_tls_trust_anchors"] = [
            c.public_bytes(serialization.Encoding.PEM).decode("ascii")
            for c in request.smp_tls_trust_anchors
        ]
    return body


def _from_pem_items(
    texts: Sequence[str], key: str, load: Callable[[bytes], list[T]], what: str
) -> tuple[T, ...]:
    """Every item of a control API list of PEM texts through ``load``; ValueError naming the
    first item ``load`` cannot read (``key[i] is not a PEM <what>``)."""
    out: list[T] = []
    for i, text in enumerate(texts):
        try:
            out.extend(load(text.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise ValueError(f"{key}[{i}] is not a PEM {what}") from None
    return tuple(out)


def certificates_from_pem(texts: Sequence[str], key: str) -> tuple[x509.Certificate, ...]:
    """The certificates of a control API list of PEM texts (each item one or more PEM
    certificates), e.g. ``smp_tls_trust_anchors``; ValueError naming the item that holds none."""
    from cryptography import x509 as _x509

    return _from_pem_items(
        texts,
        key,
        _x509.load_pem_x509_certificates,
        "certificate (-----BEGIN CERTIFICATE----- ...)",
    )


def crl_pem(crl: x509.CertificateRevocationList) -> str:
    """A CRL as PEM text (``-----BEGIN X509 CRL-----``), as the control API carries it."""
    from cryptography.hazmat.primitives import serialization

    return crl.public_bytes(serialization.Encoding.PEM).decode("ascii")


def crls_from_pem(texts: Sequence[str]) -> tuple[x509.CertificateRevocationList, ...]:
    """The ``smp_crls`` of a control API LookupRequest (one PEM CRL per item); ValueError naming
    the item that is not one."""
    from cryptography import x509 as _x509

    return _from_pem_items(
        texts,
        "smp_crls",
        lambda data: [_x509.load_pem_x509_crl(data)],
        "CRL (-----BEGIN X509 CRL----- ...)",
    )
