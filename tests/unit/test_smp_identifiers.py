"""Peppol identifiers: case rules, limits, URL path form and its parsing (double encoding refused)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.peppol.smp.errors import DoubleEncodedError, IdentifierError
from harness.peppol.smp.identifiers import (
    BIS_BILLING_INVOICE,
    DOCUMENT_SCHEME,
    PARTICIPANT_SCHEME,
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
    double_encode,
    parse_document_type_segment,
    parse_participant_segment,
    path_segment,
    service_group_path,
    service_metadata_path,
)


def participants() -> st.SearchStrategy[ParticipantIdentifier]:
    """Valid participants with every character PFUOI 4.4.0 POLICY 1 allows, mixed case."""
    from harness.peppol.smp.strategies import participant_identifiers

    return participant_identifiers()


def document_types() -> st.SearchStrategy[DocumentTypeIdentifier]:
    """Valid document types with URL-reserved characters in the customization id."""
    from harness.peppol.smp.strategies import document_type_identifiers

    return document_type_identifiers()


def test_bis_invoice_path_is_encoded_like_the_published_examples() -> None:
    p = ParticipantIdentifier.peppol("0088:5060210000007")
    d = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
    assert service_group_path(p) == "/iso6523-actorid-upis%3A%3A0088%3A5060210000007"
    assert service_metadata_path(p, d) == (
        "/iso6523-actorid-upis%3A%3A0088%3A5060210000007/services/busdox-docid-qns%3A%3A"
        "urn%3Aoasis%3Anames%3Aspecification%3Aubl%3Aschema%3Axsd%3AInvoice-2%3A%3AInvoice"
        "%23%23urn%3Acen.eu%3Aen16931%3A2017%23compliant%23urn%3Afdc%3Apeppol.eu%3A2017"
        "%3Apoacc%3Abilling%3A3.0%3A%3A2.1"
    )


def test_participant_values_compare_case_insensitively_document_types_do_not() -> None:
    a = ParticipantIdentifier.peppol("0195:T08GB0001A")
    b = ParticipantIdentifier.peppol("0195:t08gb0001a")
    assert a == b and hash(a) == hash(b) and {a: 1}[b] == 1
    assert a.value == "0195:T08GB0001A" and a.canonical_value == "0195:t08gb0001a"
    assert DocumentTypeIdentifier.busdox("urn:X::Y") != DocumentTypeIdentifier.busdox("urn:x::y")
    assert ProcessIdentifier.cenbii("urn:P") != ProcessIdentifier.cenbii("urn:p")


def test_parse_forms() -> None:
    assert ParticipantIdentifier.parse("iso6523-actorid-upis::0208:0123456789") == (
        ParticipantIdentifier.peppol("0208:0123456789")
    )
    assert ParticipantIdentifier.parse("9925:BE0123456789").scheme == PARTICIPANT_SCHEME
    doc = DocumentTypeIdentifier.parse(f"{DOCUMENT_SCHEME}::{BIS_BILLING_INVOICE}")
    assert doc.value == BIS_BILLING_INVOICE  # only the first '::' ends the scheme


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: ParticipantIdentifier.peppol("88:123"), "four-digit"),
        (lambda: ParticipantIdentifier.peppol("0088:" + "1" * 131), "POLICY 1"),
        (lambda: ParticipantIdentifier.peppol("0088:a/b"), "POLICY 1"),
        (lambda: ParticipantIdentifier.peppol("0088:a b"), "POLICY 1"),
        (lambda: ParticipantIdentifier.peppol("0088:a#b%3A"), "'#%'"),
        (lambda: DocumentTypeIdentifier.busdox("urn:x::Invoice##urn:a b::2.1"), "POLICY 17"),
        (lambda: DocumentTypeIdentifier.busdox("urn:x::Invoice##urn:a*::2.1"), "POLICY 17"),
        (lambda: ProcessIdentifier.cenbii("urn:fdc:peppol.eu:2017 billing"), "POLICY 25"),
        (lambda: ParticipantIdentifier.peppol("0088:Ünïcode"), "US-ASCII"),
        (lambda: ParticipantIdentifier.peppol("0088:a\tb"), "control character"),
        (lambda: ParticipantIdentifier.peppol("0088:abc "), "whitespace"),
        (lambda: ParticipantIdentifier("ISO6523-ACTORID-UPIS", "0088:1"), "[a-z0-9]+"),
        (lambda: ParticipantIdentifier.parse("0088"), "no '::'"),
        (lambda: DocumentTypeIdentifier.busdox("x" * 501), "500"),
        (lambda: ProcessIdentifier.cenbii("x" * 201), "200"),
        (lambda: DocumentTypeIdentifier("a" * 26, "x"), "25"),
        (lambda: DocumentTypeIdentifier.busdox("urn:\u20ac"), "latin-1"),
    ],
)
def test_malformed_identifiers_are_refused_with_a_reason(make: object, fragment: str) -> None:
    with pytest.raises(IdentifierError, match=None) as info:
        make()  # type: ignore[operator]
    assert fragment.lower() in str(info.value).lower()


def test_the_longest_and_most_awkward_valid_values_are_accepted() -> None:
    body = "Aa0-._~" * 18 + "Zz9~"  # 130 characters: POLICY 1's limit
    assert len(body) == 130
    p = ParticipantIdentifier.peppol(f"0088:{body}")
    assert parse_participant_segment(service_group_path(p)[1:]) == p
    # '#' and '::' belong to document type values (POLICY 20); '*' only to wildcard ones
    d = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
    assert d.customization_id == (
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    )
    assert DocumentTypeIdentifier("peppol-doctype-wildcard", "urn:x::I##urn:peppol:pint:billing-1*::2.1")


def test_double_encoded_segment_is_refused() -> None:
    p = ParticipantIdentifier.peppol("0088:5060210000007")
    raw = double_encode(p)
    assert raw.startswith("iso6523-actorid-upis%253A%253A")
    with pytest.raises(DoubleEncodedError, match="twice"):
        parse_participant_segment(raw)
    d = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
    with pytest.raises(DoubleEncodedError):
        parse_document_type_segment(double_encode(d))


def test_unencoded_separator_is_read_but_raw_slash_is_not() -> None:
    assert parse_participant_segment(
        "iso6523-actorid-upis::0088:1"
    ) == ParticipantIdentifier.peppol("0088:1")
    with pytest.raises(IdentifierError, match="%2F"):
        parse_participant_segment("iso6523-actorid-upis::0088:a/b")


@settings(max_examples=300, deadline=None)
@given(participants())
def test_participant_round_trips_through_its_path_segment(p: ParticipantIdentifier) -> None:
    raw = path_segment(p)
    assert all(c.isalnum() or c in "-._~%" for c in raw)  # one segment, RFC 3986 unreserved + %XX
    back = parse_participant_segment(raw)
    assert back == p and back.value == p.value and back.scheme == p.scheme
    assert unquote(raw) == p.uri


@settings(max_examples=300, deadline=None)
@given(participants())
def test_double_encoding_of_any_participant_is_detected(p: ParticipantIdentifier) -> None:
    with pytest.raises(DoubleEncodedError):
        parse_participant_segment(double_encode(p))


@settings(max_examples=300, deadline=None)
@given(document_types())
def test_document_type_round_trips_exactly(d: DocumentTypeIdentifier) -> None:
    raw = path_segment(d)
    assert "#" not in raw and ":" not in raw and " " not in raw and "/" not in raw
    assert parse_document_type_segment(raw) == d
