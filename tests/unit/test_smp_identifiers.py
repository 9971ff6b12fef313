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

#: Printable ASCII without the characters a URL cannot carry un-encoded in a path anyway, plus
#: the awkward ones: '/', '?', '#', '%', '+', '&', ':', '=', ';', '@' and space (inside).
AWKWARD = "/?#%+&:=;@ ~!$'()*,[]\"<>\\^`{|}"
PARTICIPANT_VALUE_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.sampled_from(
    AWKWARD
)


@st.composite
def participants(draw: st.DrawFn) -> ParticipantIdentifier:
    icd = draw(st.sampled_from(["0088", "0192", "0195", "0208", "9925", "9915"]))
    body = draw(st.text(PARTICIPANT_VALUE_CHARS, min_size=1, max_size=40))
    body = body.strip() or "x"
    return ParticipantIdentifier.peppol(f"{icd}:{body}")


@st.composite
def document_types(draw: st.DrawFn) -> DocumentTypeIdentifier:
    chars = st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("éüß#::")
    tail = draw(st.text(chars, min_size=0, max_size=40))
    value = f"urn:x:{tail}::Invoice##urn:cen.eu:en16931:2017#compliant#{tail}::2.1".strip()
    return DocumentTypeIdentifier.busdox(value)


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
        (lambda: ParticipantIdentifier.peppol("0088:" + "1" * 131), "135"),
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
