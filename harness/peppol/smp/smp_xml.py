"""Peppol SMP 1.x documents: the model, builders (with fault knobs), parsers and XSD validation.

Namespaces: ``http://busdox.org/serviceMetadata/publishing/1.0/`` (SMP),
``http://busdox.org/transport/identifiers/1.0/`` (identifiers), WS-Addressing 1.0 for
``EndpointReference`` and XML-DSig for the signature.

What a caller may rely on:

- the builders write exactly the elements of the *official* SMP 1.0 types, in schema order; the
  mirrored types file is a third-party copy that adds ``ServiceGroupReferenceList`` and
  ``CompleteServiceGroup``, which :func:`validate` refuses as document elements;
- :func:`build_signed_service_metadata` applies at most the faults it is asked for
  (:class:`MetadataFault`), each one deliberate and named;
- parsers take untrusted bytes (through :func:`harness.xml.safe.parse_untrusted`) and raise
  :class:`~harness.peppol.smp.errors.SmpDocumentError` saying what is wrong;
- :func:`validate` checks a document against the mirrored XSDs (SMP types, identifiers,
  WS-Addressing, XML-DSig) loaded through a wrapper schema, because the SMP types import the
  others without a ``schemaLocation``.
"""

from __future__ import annotations

import base64
import enum
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from harness.peppol.smp.errors import IdentifierError, SmpDocumentError
from harness.peppol.smp.identifiers import (
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
)

if TYPE_CHECKING:
    from lxml import etree

    from harness.peppol.smp.signing import SigningCredential

SMP_NS = "http://busdox.org/serviceMetadata/publishing/1.0/"
IDS_NS = "http://busdox.org/transport/identifiers/1.0/"
WSA_NS = "http://www.w3.org/2005/08/addressing"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
NSMAP = {None: SMP_NS, "ids": IDS_NS, "wsa": WSA_NS}

#: Transport profile of the Peppol AS4 profile 2.0 (``Endpoint/@transportProfile``).
TRANSPORT_AS4_V2 = "peppol-transport-as4-v2_0"
#: The retired AS2 profile, useful as "a profile the receiver does not support".
TRANSPORT_AS2_V2 = "busdox-transport-as2-ver2p0"

#: Document elements of the official Peppol SMP 1.0 types.
OFFICIAL_ROOTS = frozenset(
    {
        f"{{{SMP_NS}}}ServiceGroup",
        f"{{{SMP_NS}}}SignedServiceMetadata",
        f"{{{SMP_NS}}}ServiceMetadata",
    }
)

#: Artefact keys (``harness/data/artefacts.lock``) of the schemas, by namespace, import order.
SCHEMA_KEYS: tuple[tuple[str, str], ...] = (
    (DS_NS, "as4/w3/xmldsig-core-schema.xsd"),
    (IDS_NS, "smp/peppol-smp-1.0/peppol-identifiers-v1.xsd"),
    (WSA_NS, "smp/peppol-smp-1.0/ws-addr.xsd"),
    (SMP_NS, "smp/peppol-smp-1.0/peppol-smp-types-v1-ext.xsd"),
)


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


# -- model ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """``Endpoint``: where and how the receiving AP takes documents of a process."""

    transport_profile: str
    endpoint_uri: str
    #: The receiving AP's certificate, DER bytes (written base64 in ``Certificate``).
    certificate: bytes = field(repr=False)
    service_description: str = "Reference Access Point"
    technical_contact_url: str = "mailto:conformance@example.test"
    require_business_level_signature: bool = False
    minimum_authentication_level: str | None = None
    service_activation_date: datetime | None = None
    service_expiration_date: datetime | None = None
    technical_information_url: str | None = None


@dataclass(frozen=True)
class Process:
    process: ProcessIdentifier
    endpoints: tuple[Endpoint, ...]


@dataclass(frozen=True)
class ServiceInformation:
    participant: ParticipantIdentifier
    document_type: DocumentTypeIdentifier
    processes: tuple[Process, ...]


@dataclass(frozen=True)
class Redirect:
    """``Redirect``: the metadata lives at another SMP (``href``: its SignedServiceMetadata URL);
    ``certificate_uid`` names the certificate that SMP signs with."""

    href: str
    certificate_uid: str


@dataclass(frozen=True)
class ServiceMetadata:
    """``ServiceMetadata``: either service information or a redirect (the schema's choice)."""

    content: ServiceInformation | Redirect

    @property
    def redirect(self) -> Redirect | None:
        return self.content if isinstance(self.content, Redirect) else None

    @property
    def information(self) -> ServiceInformation | None:
        return self.content if isinstance(self.content, ServiceInformation) else None


@dataclass(frozen=True)
class ServiceGroup:
    """``ServiceGroup``: a participant and the URLs of its SignedServiceMetadata resources."""

    participant: ParticipantIdentifier
    references: tuple[str, ...] = ()


class MetadataFault(enum.StrEnum):
    """Deliberate defects of a SignedServiceMetadata, for negative tests."""

    NONE = "none"
    #: No ds:Signature at all.
    UNSIGNED = "unsigned"
    #: Signed, then the EndpointURI changed (the digest no longer matches).
    TAMPERED_AFTER_SIGNING = "tampered-after-signing"
    #: Signed, then a byte of SignatureValue flipped.
    CORRUPT_SIGNATURE_VALUE = "corrupt-signature-value"


# -- builders ---------------------------------------------------------------------------------


def _xml_datetime(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _identifier(parent: etree._Element, local: str, ident: object) -> None:
    from lxml import etree

    el = etree.SubElement(parent, _q(IDS_NS, local))
    el.set("scheme", ident.scheme)  # type: ignore[attr-defined]
    el.text = ident.value  # type: ignore[attr-defined]


def service_group_element(group: ServiceGroup) -> etree._Element:
    from lxml import etree

    root = etree.Element(_q(SMP_NS, "ServiceGroup"), nsmap=NSMAP)
    _identifier(root, "ParticipantIdentifier", group.participant)
    coll = etree.SubElement(root, _q(SMP_NS, "ServiceMetadataReferenceCollection"))
    for href in group.references:
        etree.SubElement(coll, _q(SMP_NS, "ServiceMetadataReference")).set("href", href)
    return root


def build_service_group(group: ServiceGroup) -> bytes:
    """The ServiceGroup document (UTF-8, with an XML declaration)."""
    return _serialise(service_group_element(group))


def _endpoint_element(parent: etree._Element, ep: Endpoint) -> None:
    from lxml import etree

    el = etree.SubElement(parent, _q(SMP_NS, "Endpoint"))
    el.set("transportProfile", ep.transport_profile)
    epr = etree.SubElement(el, _q(WSA_NS, "EndpointReference"))
    etree.SubElement(epr, _q(WSA_NS, "Address")).text = ep.endpoint_uri
    etree.SubElement(el, _q(SMP_NS, "RequireBusinessLevelSignature")).text = (
        "true" if ep.require_business_level_signature else "false"
    )
    if ep.minimum_authentication_level is not None:
        etree.SubElement(
            el, _q(SMP_NS, "MinimumAuthenticationLevel")
        ).text = ep.minimum_authentication_level
    if ep.service_activation_date is not None:
        etree.SubElement(el, _q(SMP_NS, "ServiceActivationDate")).text = _xml_datetime(
            ep.service_activation_date
        )
    if ep.service_expiration_date is not None:
        etree.SubElement(el, _q(SMP_NS, "ServiceExpirationDate")).text = _xml_datetime(
            ep.service_expiration_date
        )
    etree.SubElement(el, _q(SMP_NS, "Certificate")).text = base64.b64encode(ep.certificate).decode(
        "ascii"
    )
    etree.SubElement(el, _q(SMP_NS, "ServiceDescription")).text = ep.service_description
    etree.SubElement(el, _q(SMP_NS, "TechnicalContactUrl")).text = ep.technical_contact_url
    if ep.technical_information_url is not None:
        etree.SubElement(
            el, _q(SMP_NS, "TechnicalInformationUrl")
        ).text = ep.technical_information_url


def service_metadata_element(metadata: ServiceMetadata) -> etree._Element:
    """The unsigned ``SignedServiceMetadata`` document element holding ``ServiceMetadata``."""
    from lxml import etree

    root = etree.Element(_q(SMP_NS, "SignedServiceMetadata"), nsmap=NSMAP)
    sm = etree.SubElement(root, _q(SMP_NS, "ServiceMetadata"))
    content = metadata.content
    if isinstance(content, Redirect):
        red = etree.SubElement(sm, _q(SMP_NS, "Redirect"))
        red.set("href", content.href)
        etree.SubElement(red, _q(SMP_NS, "CertificateUID")).text = content.certificate_uid
        return root
    si = etree.SubElement(sm, _q(SMP_NS, "ServiceInformation"))
    _identifier(si, "ParticipantIdentifier", content.participant)
    _identifier(si, "DocumentIdentifier", content.document_type)
    plist = etree.SubElement(si, _q(SMP_NS, "ProcessList"))
    for proc in content.processes:
        p = etree.SubElement(plist, _q(SMP_NS, "Process"))
        _identifier(p, "ProcessIdentifier", proc.process)
        eplist = etree.SubElement(p, _q(SMP_NS, "ServiceEndpointList"))
        for ep in proc.endpoints:
            _endpoint_element(eplist, ep)
    return root


def build_signed_service_metadata(
    metadata: ServiceMetadata,
    credential: SigningCredential | None,
    *,
    fault: MetadataFault = MetadataFault.NONE,
    c14n: str | None = None,
) -> bytes:
    """The SignedServiceMetadata document, signed with ``credential`` (the SMP certificate).

    Which certificate signs is the caller's choice: pass an expired or wrong-CA credential to get
    those faults. ``credential`` None is only allowed with ``fault=UNSIGNED``. The signature
    follows SMP 1.4.0 section 5.5.1 (inclusive C14N) unless ``c14n`` says otherwise.
    """
    from harness.peppol.smp.signing import C14N_10, sign_enveloped

    root = service_metadata_element(metadata)
    if fault is MetadataFault.UNSIGNED:
        return _serialise(root)
    if credential is None:
        raise ValueError("a SignedServiceMetadata needs a signing credential (or fault=UNSIGNED)")
    signed = sign_enveloped(root, credential, c14n=c14n or C14N_10)
    if fault is MetadataFault.TAMPERED_AFTER_SIGNING:
        addr = signed.find(f".//{{{WSA_NS}}}Address")
        target = addr if addr is not None else signed.find(f".//{{{SMP_NS}}}Redirect")
        if addr is not None:
            addr.text = (addr.text or "") + "/tampered"
        elif target is not None:
            target.set("href", target.get("href", "") + "/tampered")
    elif fault is MetadataFault.CORRUPT_SIGNATURE_VALUE:
        sv = signed.find(f".//{{{DS_NS}}}SignatureValue")
        assert sv is not None
        raw = bytearray(base64.b64decode("".join((sv.text or "").split())))
        raw[len(raw) // 2] ^= 0x01
        sv.text = base64.b64encode(bytes(raw)).decode("ascii")
    return _serialise(signed)


def _serialise(root: etree._Element) -> bytes:
    from lxml import etree

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# -- parsers ----------------------------------------------------------------------------------


def parse_document(data: bytes, *, name: str) -> etree._Element:
    """Parse untrusted SMP bytes; SmpDocumentError for anything that is not safe, well-formed XML."""
    from harness.errors import UntrustedInputError
    from harness.xml.safe import parse_untrusted

    try:
        return parse_untrusted(data, name=name, max_bytes=10 * 2**20).getroot()
    except UntrustedInputError as exc:
        raise SmpDocumentError(str(exc)) from None


def _text(el: etree._Element | None, what: str) -> str:
    if el is None:
        raise SmpDocumentError(f"{what} is missing")
    return (el.text or "").strip()


def _read_identifier(parent: etree._Element, local: str, cls: type, where: str) -> object:
    el = parent.find(_q(IDS_NS, local))
    if el is None:
        raise SmpDocumentError(f"{where}: ids:{local} is missing")
    try:
        return cls(el.get("scheme", ""), (el.text or "").strip())
    except IdentifierError as exc:
        raise SmpDocumentError(f"{where}: ids:{local} is not a valid identifier: {exc}") from None


def read_service_group(root: etree._Element) -> ServiceGroup:
    if root.tag != _q(SMP_NS, "ServiceGroup"):
        raise SmpDocumentError(f"expected a ServiceGroup document element, got {root.tag}")
    participant = _read_identifier(
        root, "ParticipantIdentifier", ParticipantIdentifier, "ServiceGroup"
    )
    coll = root.find(_q(SMP_NS, "ServiceMetadataReferenceCollection"))
    if coll is None:
        raise SmpDocumentError("ServiceGroup: ServiceMetadataReferenceCollection is missing")
    refs = tuple(r.get("href", "") for r in coll.iterfind(_q(SMP_NS, "ServiceMetadataReference")))
    return ServiceGroup(participant, refs)  # type: ignore[arg-type]


def parse_service_group(data: bytes) -> ServiceGroup:
    return read_service_group(parse_document(data, name="ServiceGroup"))


def _parse_datetime(text: str, what: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise SmpDocumentError(f"{what} {text!r} is not an xs:dateTime") from None


def _read_endpoint(el: etree._Element) -> Endpoint:
    where = "Endpoint"
    addr = el.find(f"{_q(WSA_NS, 'EndpointReference')}/{_q(WSA_NS, 'Address')}")
    cert_text = "".join(_text(el.find(_q(SMP_NS, "Certificate")), f"{where}/Certificate").split())
    # Some SMPs publish the certificate as PEM with header lines; accept both.
    cert_text = cert_text.replace("-----BEGINCERTIFICATE-----", "").replace(
        "-----ENDCERTIFICATE-----", ""
    )
    try:
        cert = base64.b64decode(cert_text, validate=True)
    except ValueError:
        raise SmpDocumentError(f"{where}/Certificate is not base64") from None

    def opt(local: str) -> str | None:
        child = el.find(_q(SMP_NS, local))
        return None if child is None else (child.text or "").strip()

    act, exp = opt("ServiceActivationDate"), opt("ServiceExpirationDate")
    return Endpoint(
        transport_profile=el.get("transportProfile", ""),
        endpoint_uri=_text(addr, f"{where}/wsa:EndpointReference/wsa:Address"),
        certificate=cert,
        service_description=opt("ServiceDescription") or "",
        technical_contact_url=opt("TechnicalContactUrl") or "",
        require_business_level_signature=(opt("RequireBusinessLevelSignature") or "false")
        in ("true", "1"),
        minimum_authentication_level=opt("MinimumAuthenticationLevel"),
        service_activation_date=_parse_datetime(act, "ServiceActivationDate") if act else None,
        service_expiration_date=_parse_datetime(exp, "ServiceExpirationDate") if exp else None,
        technical_information_url=opt("TechnicalInformationUrl"),
    )


def read_service_metadata(root: etree._Element) -> ServiceMetadata:
    """The ServiceMetadata inside a SignedServiceMetadata (or bare ServiceMetadata) element."""
    if root.tag == _q(SMP_NS, "SignedServiceMetadata"):
        sm = root.find(_q(SMP_NS, "ServiceMetadata"))
    elif root.tag == _q(SMP_NS, "ServiceMetadata"):
        sm = root
    else:
        raise SmpDocumentError(f"expected a SignedServiceMetadata document element, got {root.tag}")
    if sm is None:
        raise SmpDocumentError("SignedServiceMetadata: ServiceMetadata is missing")
    red = sm.find(_q(SMP_NS, "Redirect"))
    if red is not None:
        return ServiceMetadata(
            Redirect(
                red.get("href", ""),
                _text(red.find(_q(SMP_NS, "CertificateUID")), "Redirect/CertificateUID"),
            )
        )
    si = sm.find(_q(SMP_NS, "ServiceInformation"))
    if si is None:
        raise SmpDocumentError("ServiceMetadata has neither ServiceInformation nor Redirect")
    participant = _read_identifier(
        si, "ParticipantIdentifier", ParticipantIdentifier, "ServiceInformation"
    )
    doc = _read_identifier(si, "DocumentIdentifier", DocumentTypeIdentifier, "ServiceInformation")
    processes: list[Process] = []
    plist = si.find(_q(SMP_NS, "ProcessList"))
    if plist is None:
        raise SmpDocumentError("ServiceInformation: ProcessList is missing")
    for p in plist.iterfind(_q(SMP_NS, "Process")):
        proc = _read_identifier(p, "ProcessIdentifier", ProcessIdentifier, "Process")
        eps = tuple(
            _read_endpoint(e)
            for e in p.iterfind(f"{_q(SMP_NS, 'ServiceEndpointList')}/{_q(SMP_NS, 'Endpoint')}")
        )
        processes.append(Process(proc, eps))  # type: ignore[arg-type]
    return ServiceMetadata(ServiceInformation(participant, doc, tuple(processes)))  # type: ignore[arg-type]


def parse_signed_service_metadata(data: bytes) -> ServiceMetadata:
    """The metadata of a SignedServiceMetadata document, *without* checking its signature (use
    :func:`harness.peppol.smp.signing.verify_enveloped` and read its ``signed_root`` for that)."""
    return read_service_metadata(parse_document(data, name="SignedServiceMetadata"))


# -- schema validation ------------------------------------------------------------------------

_schema_lock = threading.Lock()
_schema: etree.XMLSchema | None = None


def _wrapper_schema_text(store: object | None = None) -> str:
    from harness.artefacts.store import ArtefactStore

    st = store if store is not None else ArtefactStore.default()
    imports = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{st.path(key).resolve().as_uri()}"/>'  # type: ignore[attr-defined]
        for ns, key in SCHEMA_KEYS
    )
    return f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'


def schema() -> etree.XMLSchema:
    """The compiled SMP 1.0 schema set (cached per process)."""
    global _schema
    with _schema_lock:
        if _schema is None:
            from lxml import etree

            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            _schema = etree.XMLSchema(etree.fromstring(_wrapper_schema_text().encode(), parser))
        return _schema


def validate(root: etree._Element) -> tuple[str, ...]:
    """Schema errors of an SMP document (empty: valid), as ``line N: message`` strings.

    A document element from the unofficial extension of the mirrored types file is an error.
    """
    if root.tag not in OFFICIAL_ROOTS:
        return (
            (
                f"document element {root.tag} is not an official Peppol SMP 1.0 element"
                " (ServiceGroup, SignedServiceMetadata)"
            ),
        )
    compiled = schema()
    with _schema_lock:  # lxml validators keep an error log: one user at a time
        ok = compiled.validate(root)
        errors = () if ok else tuple(f"line {e.line}: {e.message}" for e in compiled.error_log)
    return errors


def validate_bytes(data: bytes, *, name: str = "SMP document") -> tuple[str, ...]:
    return validate(parse_document(data, name=name))


def endpoints_for(
    information: ServiceInformation, process: ProcessIdentifier | None
) -> Sequence[tuple[Process, Endpoint]]:
    """Every (process, endpoint) of ``information``, restricted to ``process`` when given."""
    return [
        (p, e)
        for p in information.processes
        if process is None or p.process == process
        for e in p.endpoints
    ]
