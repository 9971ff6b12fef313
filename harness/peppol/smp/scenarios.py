"""The test participants and lookup cases of profile ``peppol-smp`` (pytest-free data).

Participant identifiers are made unique per run and per process (``token``), so parallel workers
and earlier runs never see each other's publications on a shared SMP. Every case names the
requirement it verifies; the suites record one check per judgement.

SMP under test (:func:`smp_test_participants`): one participant with two document types (one
endpoint with activation and expiration dates), one whose document type is a Redirect to the
harness's reference SMP, identifiers that are never published, and one participant that only the
unpublish check publishes and removes again.

AP under test (:func:`lookup_cases`): a receiver published correctly, not registered, not
published for the document type, published with each signing fault of the reference SMP (a
revoked signer among them: the AP is handed the SMP CA's CRL with the lookup), with
transport profiles the AP does not support, with endpoints not active, and behind redirects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from harness.peppol.smp.control import Publication, PublishedService
from harness.peppol.smp.identifiers import (
    BIS_BILLING_INVOICE,
    BIS_BILLING_PROCESS,
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
    service_metadata_path,
)
from harness.peppol.smp.smp_xml import (
    TRANSPORT_AS2_V2,
    Endpoint,
    Process,
    Redirect,
    ServiceInformation,
    ServiceMetadata,
)

INVOICE = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
CREDIT_NOTE = DocumentTypeIdentifier.busdox(
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
#: A document type the harness never publishes (404 expected).
ORDER = DocumentTypeIdentifier.busdox(
    "urn:oasis:names:specification:ubl:schema:xsd:Order-2::Order"
    "##urn:fdc:peppol.eu:poacc:trns:order:3::2.1"
)
#: A document type whose value holds characters that must be percent-encoded in a URL path
#: (``#``, ``/``, ``%``, ``?``, ``&``, ``=``, ``+``, ``;``, ``@``) -- still a valid identifier
#: (PFUOI 4.4.0 POLICY 17 forbids only ``*`` and whitespace in the customization id).
AWKWARD_DOCUMENT = DocumentTypeIdentifier.busdox(
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    "#conformance-harness/100%25?a=b&c+d;e@f::2.1"
)
BILLING = ProcessIdentifier.cenbii(BIS_BILLING_PROCESS)
#: ICD of the test participants' values (9915: also the Peppol test scheme).
TEST_ICD = "9915"
#: A transport profile no Peppol AP supports (used when the AP claims AS2 too).
UNKNOWN_TRANSPORT = "conformance-transport-unsupported"


def harness_participant(token: str, name: str) -> ParticipantIdentifier:
    """``iso6523-actorid-upis::9915:Harness-<token>-<name>`` (mixed case on purpose)."""
    return ParticipantIdentifier.peppol(f"{TEST_ICD}:Harness-{token}-{name}")


def endpoint(
    url: str,
    certificate: bytes,
    transport_profile: str,
    *,
    activation: datetime | None = None,
    expiration: datetime | None = None,
) -> Endpoint:
    return Endpoint(
        transport_profile,
        url,
        certificate,
        service_description="Conformance harness test receiver",
        technical_contact_url="mailto:conformance@example.test",
        service_activation_date=activation,
        service_expiration_date=expiration,
    )


def _whole_seconds(at: datetime) -> datetime:
    return at.replace(microsecond=0)


# -- role smp ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmpTestParticipants:
    """What the harness publishes on the SMP under test, and what it asks that was never published."""

    #: Two document types; INVOICE with one AS4 endpoint, CREDIT_NOTE with activation/expiration.
    main: Publication
    #: A value with every character PFUOI 4.4.0 POLICY 1 allows besides letters and digits
    #: (``- . _ ~``), in mixed case, and AWKWARD_DOCUMENT.
    awkward: Publication
    #: INVOICE as a Redirect to ``redirect_target`` at the harness's reference SMP.
    redirect: Publication
    #: Published at the harness's reference SMP (where the redirect points).
    redirect_target: Publication
    #: Two document types, published and then unpublished by the unpublish check alone (not one
    #: of :attr:`publications`): no other check reads it, so none races with its removal.
    to_unpublish: Publication
    unknown: ParticipantIdentifier
    unpublished_document: DocumentTypeIdentifier = ORDER

    @property
    def publications(self) -> tuple[Publication, ...]:
        """What the session publishes on the SMP under test for its read checks."""
        return (self.main, self.awkward, self.redirect)


def smp_test_participants(
    token: str,
    ap_certificate: bytes,
    transport_profile: str,
    *,
    redirect_smp_url: str,
    redirect_certificate_uid: str,
    now: datetime | None = None,
) -> SmpTestParticipants:
    now = _whole_seconds(now or datetime.now(UTC))
    main = harness_participant(token, "Main")
    invoice_ep = endpoint(f"https://ap.example.test/{token}/as4", ap_certificate, transport_profile)
    credit_ep = endpoint(
        f"https://ap.example.test/{token}/as4-credit",
        ap_certificate,
        transport_profile,
        activation=now - timedelta(days=1),
        expiration=now + timedelta(days=365),
    )
    main_pub = Publication(
        main,
        (
            PublishedService(INVOICE, _info(main, INVOICE, invoice_ep)),
            PublishedService(CREDIT_NOTE, _info(main, CREDIT_NOTE, credit_ep)),
        ),
    )
    awkward_id = harness_participant(token, "Awk.Ward~_-X")
    awkward = Publication.one_service(
        awkward_id,
        AWKWARD_DOCUMENT,
        BILLING,
        [endpoint(f"https://ap.example.test/{token}/awkward", ap_certificate, transport_profile)],
    )
    redirected = harness_participant(token, "Redirected")
    target = Publication.one_service(
        redirected,
        INVOICE,
        BILLING,
        [
            endpoint(
                f"https://ap.example.test/{token}/redirected", ap_certificate, transport_profile
            )
        ],
    )
    href = redirect_smp_url.rstrip("/") + service_metadata_path(redirected, INVOICE)
    redirect = Publication(
        redirected,
        (PublishedService(INVOICE, ServiceMetadata(Redirect(href, redirect_certificate_uid))),),
    )
    gone = harness_participant(token, "Unpublished")
    to_unpublish = Publication(
        gone,
        tuple(
            PublishedService(
                doc,
                _info(
                    gone,
                    doc,
                    endpoint(
                        f"https://ap.example.test/{token}/gone", ap_certificate, transport_profile
                    ),
                ),
            )
            for doc in (INVOICE, CREDIT_NOTE)
        ),
    )
    return SmpTestParticipants(
        main=main_pub,
        awkward=awkward,
        redirect=redirect,
        redirect_target=target,
        to_unpublish=to_unpublish,
        unknown=harness_participant(token, "Unknown"),
    )


def _info(
    participant: ParticipantIdentifier, document_type: DocumentTypeIdentifier, ep: Endpoint
) -> ServiceMetadata:
    return ServiceMetadata(
        ServiceInformation(participant, document_type, (Process(BILLING, (ep,)),))
    )


def swap_case(text: str) -> str:
    """``text`` with the letter case of every letter swapped (``Harness`` -> ``hARNESS``)."""
    return text.swapcase()


# -- role ap ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LookupCase:
    """One question to the AP: what the harness publishes, what it asks, what must come back.

    ``expect`` is ``endpoint`` (then ``expected`` is the one endpoint the AP must answer) or
    ``refused``. ``where`` says which reference SMP holds each publication: ``main`` (registered
    in the SML) or ``second`` (the redirect target, not registered).
    """

    id: str
    requirement: str
    description: str
    receiver: ParticipantIdentifier
    document_type: DocumentTypeIdentifier
    publications: tuple[tuple[str, Publication], ...]
    register: bool
    expect: str
    expected: Endpoint | None = None


def unsupported_transport(supported: tuple[str, ...]) -> str:
    """A transport profile the AP does not claim to support."""
    return TRANSPORT_AS2_V2 if TRANSPORT_AS2_V2 not in supported else UNKNOWN_TRANSPORT


#: Signing faults of the reference SMP and the requirement an AP breaks by accepting them.
SIGNING_FAULTS: tuple[tuple[str, str, str], ...] = (
    ("unsigned", "LOOKUP-SIG-001", "metadata without a signature"),
    ("corrupt-signature", "LOOKUP-SIG-001", "metadata whose SignatureValue was corrupted"),
    ("tampered", "LOOKUP-SIG-001", "metadata whose endpoint address was changed after signing"),
    ("wrong-ca", "LOOKUP-SIG-002", "metadata signed by an SMP certificate of an untrusted CA"),
    ("ap-certificate", "LOOKUP-SIG-002", "metadata signed by an AP (not SMP) certificate"),
    ("expired-certificate", "LOOKUP-SIG-003", "metadata signed by an expired SMP certificate"),
    ("revoked-certificate", "LOOKUP-SIG-004",
     "metadata signed by an SMP certificate of the SMP CA that its CRL lists as revoked"),
)  # fmt: skip


def lookup_cases(
    token: str,
    ap_certificate: bytes,
    transport_profiles: tuple[str, ...],
    *,
    second_smp_url: str,
    smp_certificate_uid: str,
    now: datetime | None = None,
) -> tuple[LookupCase, ...]:
    """Every lookup case (see the module docstring); ``second_smp_url`` is the redirect target's
    base URL as the AP reaches it."""
    now = _whole_seconds(now or datetime.now(UTC))
    tp = transport_profiles[0]
    unsupported = unsupported_transport(transport_profiles)

    def ep(name: str, profile: str = tp, **dates: datetime) -> Endpoint:
        return endpoint(f"https://ap.example.test/{token}/{name}", ap_certificate, profile, **dates)

    cases: list[LookupCase] = []

    def add(
        case_id: str,
        requirement: str,
        description: str,
        endpoints: list[Endpoint] | None,
        *,
        expect: str,
        expected: Endpoint | None = None,
        signing: str = "smp",
        register: bool = True,
        published_type: DocumentTypeIdentifier = INVOICE,
    ) -> None:
        receiver = harness_participant(token, case_id)
        pubs: tuple[tuple[str, Publication], ...] = ()
        if endpoints is not None:
            pub = Publication.one_service(
                receiver, published_type, BILLING, endpoints, signing=signing
            )
            pubs = (("main", pub),)
        cases.append(
            LookupCase(
                case_id,
                requirement,
                description,
                receiver,
                INVOICE,
                pubs,
                register,
                expect,
                expected,
            )
        )

    found = ep("found")
    add(
        "found",
        "LOOKUP-RES-001",
        "a receiver published correctly",
        [found],
        expect="endpoint",
        expected=found,
    )
    add("not-registered", "LOOKUP-RES-002", "a receiver not registered in the SML", None,
        expect="refused", register=False)  # fmt: skip
    add("no-such-document-type", "LOOKUP-RES-002",
        "a registered receiver whose SMP has no metadata for the document type", [ep("credit")],
        expect="refused", published_type=CREDIT_NOTE)  # fmt: skip
    for signing, requirement, description in SIGNING_FAULTS:
        add(
            f"signing-{signing}",
            requirement,
            description,
            [ep(signing)],
            expect="refused",
            signing=signing,
        )
    add("unsupported-transport-only", "LOOKUP-TP-001",
        f"a receiver with only an endpoint of transport profile {unsupported}",
        [ep("unsupported", unsupported)], expect="refused")  # fmt: skip
    supported = ep("supported")
    add("supported-transport-second", "LOOKUP-TP-001",
        f"a receiver whose first endpoint uses {unsupported} and second {tp}",
        [ep("unsupported-first", unsupported), supported], expect="endpoint", expected=supported)  # fmt: skip
    add("expired-endpoint-only", "LOOKUP-ACT-001", "a receiver whose only endpoint expired yesterday",
        [ep("expired", expiration=now - timedelta(days=1))], expect="refused")  # fmt: skip
    active = ep("active", activation=now - timedelta(days=1))
    add("not-yet-active-first", "LOOKUP-ACT-001",
        "a receiver whose first endpoint is activated only tomorrow and second is active",
        [ep("tomorrow", activation=now + timedelta(days=1)), active], expect="endpoint",
        expected=active)  # fmt: skip

    # Redirects: the receiver's metadata at the main SMP redirects to the second SMP.
    def redirect_case(
        case_id: str, description: str, *, uid: str, target_redirects: bool, expect: str
    ) -> None:
        receiver = harness_participant(token, case_id)
        href = second_smp_url.rstrip("/") + service_metadata_path(receiver, INVOICE)
        at_main = Publication(
            receiver,
            (PublishedService(INVOICE, ServiceMetadata(Redirect(href, uid))),),
        )
        final = ep(case_id)
        if target_redirects:
            back = href  # the second SMP redirects again (to itself: a loop)
            at_second = Publication(
                receiver, (PublishedService(INVOICE, ServiceMetadata(Redirect(back, uid))),)
            )
        else:
            at_second = Publication.one_service(receiver, INVOICE, BILLING, [final])
        cases.append(
            LookupCase(
                case_id,
                # SMP 1.4.0 4.3: MUST follow the first redirect; SHOULD check CertificateUID and
                # SHOULD NOT follow a second one
                "LOOKUP-RED-001" if expect == "endpoint" else "LOOKUP-RED-002",
                description,
                receiver,
                INVOICE,
                (("main", at_main), ("second", at_second)),
                True,
                expect,
                final if expect == "endpoint" else None,
            )
        )

    redirect_case("redirect-followed", "metadata redirected once to another SMP",
                  uid=smp_certificate_uid, target_redirects=False, expect="endpoint")  # fmt: skip
    redirect_case("redirect-wrong-certificate",
                  "a redirect whose CertificateUID names another certificate than the one the"
                  " target signs with", uid="CN=not the signer,O=Nobody,C=SG",
                  target_redirects=False, expect="refused")  # fmt: skip
    redirect_case("redirect-twice", "a redirect to metadata that redirects again",
                  uid=smp_certificate_uid, target_redirects=True, expect="refused")  # fmt: skip
    return tuple(cases)
