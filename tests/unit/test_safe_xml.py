"""Untrusted XML: DTDs and entities refused unparsed, clear errors, size checked before parsing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from harness.errors import UntrustedInputError
from harness.xml import safe
from harness.xml.safe import document_text, parse_untrusted, read_untrusted

UBL = (
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>1</ID></Invoice>'
)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_well_formed_document_parses() -> None:
    tree = parse_untrusted(b'<?xml version="1.0" encoding="UTF-8"?>\n' + UBL, name="ok.xml")
    assert tree.getroot().tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"


def test_xxe_is_refused_without_reading_the_file_or_the_network(
    tmp_path: Path, no_network: None
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    doc = (
        f'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY s SYSTEM "file://{secret}">'
        '<!ENTITY n SYSTEM "http://127.0.0.1:9/x">]>\n<Invoice>&s;&n;</Invoice>'
    ).encode()
    with pytest.raises(UntrustedInputError) as exc:
        parse_untrusted(doc, name="xxe.xml")
    assert str(exc.value).startswith("xxe.xml: document declares a DTD/entities")
    assert "Peppol documents must not" in str(exc.value)
    assert "TOP-SECRET" not in str(exc.value)


def test_billion_laughs_is_refused(no_network: None) -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    doc = f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><lolz>&lol9;</lolz>'.encode()
    with pytest.raises(UntrustedInputError, match="^laughs.xml: document declares a DTD/entities"):
        parse_untrusted(doc, name="laughs.xml")


@pytest.mark.parametrize(
    "doc",
    [
        b'<!-- a comment first --><?pi x?>\n<!DOCTYPE Invoice SYSTEM "http://127.0.0.1:9/x.dtd"><Invoice/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'.encode(
            "utf-16"
        ),
        b"\xef\xbb\xbf<!DOCTYPE a><a/>",
    ],
    ids=["after-comment-and-pi", "utf-16", "utf-8-bom"],
)
def test_any_doctype_is_refused_whatever_precedes_or_encodes_it(
    doc: bytes, no_network: None
) -> None:
    with pytest.raises(UntrustedInputError, match="document declares a DTD/entities"):
        parse_untrusted(doc, name="d.xml")


def test_malformed_xml_error_has_line_and_column() -> None:
    with pytest.raises(UntrustedInputError) as exc:
        parse_untrusted(b"<Invoice>\n  <ID>1</Invoice>", name="bad.xml")
    assert str(exc.value).startswith("bad.xml: not well-formed XML at line 2, column ")
    assert "mismatch" in str(exc.value)


@pytest.mark.parametrize(
    "data", [b"", b"   \n\t", b"\xef\xbb\xbf", b"\xff\xfe"], ids=["empty", "blank", "bom", "bom16"]
)
def test_empty_file_is_a_clear_error(data: bytes) -> None:
    with pytest.raises(
        UntrustedInputError, match=r"^e\.xml: the file is empty; expected an XML document$"
    ):
        parse_untrusted(data, name="e.xml")


def test_declared_utf8_with_latin1_bytes_is_an_encoding_error() -> None:
    doc = '<?xml version="1.0" encoding="UTF-8"?>\n<Invoice><Note>café</Note></Invoice>'.encode(
        "latin-1"
    )
    with pytest.raises(UntrustedInputError) as exc:
        parse_untrusted(doc, name="enc.xml")
    msg = str(exc.value)
    assert msg.startswith(
        "enc.xml: the bytes do not match the declared or detected character encoding at line 2"
    )
    assert "UTF-8" in msg


def test_declared_latin1_with_utf8_bytes_is_an_encoding_error() -> None:
    doc = '<?xml version="1.0" encoding="ISO-8859-1"?><Invoice><Note>café</Note></Invoice>'.encode()
    with pytest.raises(
        UntrustedInputError,
        match="declares encoding 'ISO-8859-1' but its non-ASCII bytes are UTF-8",
    ):
        parse_untrusted(doc, name="enc.xml")


def test_declared_utf16_without_bom_on_8bit_bytes_is_an_encoding_error() -> None:
    with pytest.raises(
        UntrustedInputError, match="declares encoding 'UTF-16' but its bytes are 8-bit"
    ):
        parse_untrusted(b'<?xml version="1.0" encoding="UTF-16"?><a/>', name="enc.xml")


def test_unsupported_encoding_is_named() -> None:
    with pytest.raises(UntrustedInputError, match="Unsupported encoding: klingon"):
        parse_untrusted(b'<?xml version="1.0" encoding="klingon"?><a/>', name="enc.xml")


def test_genuine_latin1_and_utf16_documents_parse_and_decode_for_saxon() -> None:
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><a>café</a>'.encode("latin-1")
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><a>café</a>'.encode("utf-16")
    for data in (latin, utf16):
        tree = parse_untrusted(data, name="x.xml")
        assert tree.getroot().text == "café"
        assert "<a>café</a>" in document_text(tree, data)


def test_size_limit_is_checked_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from lxml import etree

    def must_not_parse(*a: object, **k: object) -> None:
        raise AssertionError("parsed a document over the size limit")

    monkeypatch.setattr(etree, "fromstring", must_not_parse)
    with pytest.raises(UntrustedInputError) as exc:
        parse_untrusted(b"<a>" + b"x" * 2000 + b"</a>", name="big.xml", max_bytes=1000)
    assert str(exc.value) == (
        "big.xml: the document is 2007 bytes, over the size limit of 1000 bytes; it was not parsed. "
        "If it is legitimate, raise the limit (max_bytes / --max-bytes)."
    )


def test_default_limit_is_100_mb_and_a_big_file_is_refused_before_reading(tmp_path: Path) -> None:
    assert safe.DEFAULT_MAX_BYTES == 100 * 2**20
    big = tmp_path / "big.xml"
    with open(big, "wb") as fh:  # sparse: 101 MB on paper, nothing on disk
        fh.truncate(101 * 2**20)
    with pytest.raises(
        UntrustedInputError,
        match=r"big\.xml: the document is 105906176 bytes \(101\.0 MB\), over the size limit of 104857600 bytes \(100\.0 MB\)",
    ):
        read_untrusted(big)


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        UntrustedInputError, match="nope.xml: cannot read the file: No such file or directory"
    ):
        read_untrusted(tmp_path / "nope.xml", name="nope.xml")
    with pytest.raises(UntrustedInputError, match="is a directory"):
        read_untrusted(tmp_path, name="dir")


def test_binary_garbage_is_not_an_xml_document() -> None:
    with pytest.raises(
        UntrustedInputError, match=r"^g\.bin: not (an XML document|well-formed XML)"
    ):
        parse_untrusted(b"\x00\x01\x02PK\x03\x04garbage", name="g.bin")
