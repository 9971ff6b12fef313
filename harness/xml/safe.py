"""Parsing XML that comes from outside (participants, files on the command line) safely.

What a caller may rely on for :func:`parse_untrusted`:

- the size limit is checked before any parsing (default 100 MB);
- no DTD is loaded, no entity is expanded, nothing is fetched from the network; a document with
  a DOCTYPE at all is refused (Peppol/UBL/CII documents never have one, and refusing it closes
  XXE and entity-expansion "billion laughs" attacks before libxml2 sees the internal subset);
- every refusal is an :class:`~harness.errors.UntrustedInputError` whose message starts with the
  document's name and says what is wrong, where (line:column) and what to do.
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import UntrustedInputError

if TYPE_CHECKING:
    from lxml import etree

DEFAULT_MAX_BYTES = 100 * 2**20

_XML_DECL = re.compile(rb"""^<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_SINGLE_BYTE = re.compile(
    r"^(iso-?8859-\d+|latin-?\d|windows-125\d|cp125\d|us-ascii|ascii)$", re.IGNORECASE
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _size_text(n: int) -> str:
    return f"{n} bytes ({n / 2**20:.1f} MB)" if n >= 2**20 else f"{n} bytes"


def check_size(size: int, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse a document over ``max_bytes`` before anything reads or parses it."""
    if size > max_bytes:
        raise UntrustedInputError(
            f"{name}: the document is {_size_text(size)}, over the size limit of "
            f"{_size_text(max_bytes)}; it was not parsed. If it is legitimate, "
            "raise the limit (max_bytes / --max-bytes)."
        )


def read_untrusted(
    path: str | os.PathLike[str], *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> bytes:
    """The bytes of a file, refusing it (by its size on disk) before reading if it is too big."""
    label = name if name is not None else os.fspath(path)
    try:
        with open(path, "rb") as fh:
            check_size(os.fstat(fh.fileno()).st_size, name=label, max_bytes=max_bytes)
            data = fh.read(max_bytes + 1)
    except IsADirectoryError:
        raise UntrustedInputError(f"{label}: is a directory, not a document file") from None
    except OSError as exc:
        raise UntrustedInputError(f"{label}: cannot read the file: {exc.strerror or exc}") from None
    check_size(len(data), name=label, max_bytes=max_bytes)  # the file grew while being read
    return data


def _bom_codec(data: bytes) -> str | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    return None


def _prolog_text(data: bytes) -> str:
    """The start of the document as text, good enough to find the prolog's markup."""
    head = data[:65536]
    codec = _bom_codec(head)
    if codec is None:
        if head[:4] in (b"<\x00?\x00", b"\x00<\x00?"):  # UTF-16 without a BOM
            codec = "utf-16-le" if head[0] == 0x3C else "utf-16-be"
        else:
            codec = "latin-1"  # ASCII-compatible: markup characters keep their byte values
    return head.decode(codec, errors="replace").lstrip("\ufeff")


def _declares_doctype(data: bytes) -> bool:
    """True if the prolog (before the root element) contains ``<!DOCTYPE``."""
    text = _prolog_text(data)
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                return False
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return False
            i = end + 3
        elif text.startswith("<!DOCTYPE", i) or text.startswith("<!doctype", i):
            return True
        else:
            break
    return False


def _encoding_problem(data: bytes) -> str | None:
    """A mismatch between the declared encoding and the bytes that libxml2 would not report."""
    bom = _bom_codec(data)
    body = data[len(codecs.BOM_UTF8) :] if bom == "utf-8" else data
    m = _XML_DECL.match(body) if bom in (None, "utf-8") else None
    if m is None:
        return None
    declared = m.group(1).decode("ascii")
    low = declared.lower()
    if low.startswith(("utf-16", "utf-32", "ucs-2", "ucs-4")) and bom is None:
        return (
            f"declares encoding {declared!r} but its bytes are 8-bit (UTF-8/ASCII), with no byte "
            "order mark; save it in the declared encoding or fix the declaration (Peppol documents "
            "should be UTF-8)"
        )
    if _SINGLE_BYTE.match(low) and any(b >= 0x80 for b in data):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None  # genuinely 8-bit text
        return (
            f"declares encoding {declared!r} but its non-ASCII bytes are UTF-8 sequences, which "
            f'would be read as garbled text; declare encoding="UTF-8" (or save it as {declared})'
        )
    return None


def _new_parser() -> etree.XMLParser:
    from lxml import etree

    # A fresh parser per document: lxml parsers are not thread-safe and keep an error log.
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
    )


_ENCODING_ERRORS = frozenset(
    {"ERR_INVALID_ENCODING", "ERR_UNSUPPORTED_ENCODING", "ERR_INVALID_CHAR"}
)


def parse_untrusted(
    data: bytes, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> etree._ElementTree:
    """Parse ``data`` as an untrusted XML document (see the module docstring for the guarantees).

    Raises UntrustedInputError for: over the size limit, empty, a DOCTYPE (DTD/entities),
    a declared encoding that does not match the bytes, or XML that is not well-formed
    (with line:column).
    """
    from lxml import etree

    check_size(len(data), name=name, max_bytes=max_bytes)
    if not data.strip(b" \t\r\n\x00") or not data.lstrip(b"\xef\xbb\xbf\xff\xfe").strip(
        b" \t\r\n\x00"
    ):
        raise UntrustedInputError(f"{name}: the file is empty; expected an XML document")
    if _declares_doctype(data):
        raise UntrustedInputError(
            f"{name}: document declares a DTD/entities (<!DOCTYPE ...>); Peppol documents must not "
            "contain a DOCTYPE. It was refused unparsed: the harness never loads DTDs or expands "
            "entities (XXE and entity-expansion protection). Remove the DOCTYPE."
        )
    problem = _encoding_problem(data)
    if problem is not None:
        raise UntrustedInputError(f"{name}: {problem}")
    parser = _new_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno or 0, 0)
        msg = re.sub(r", line \d+, column \d+$", "", str(exc.msg or exc))
        types = {e.type_name for e in parser.error_log}
        if "ERR_UNSUPPORTED_ENCODING" in types or exc.code == 32:
            raise UntrustedInputError(
                f"{name}: declares a character encoding that cannot be read ({msg}, line {line}, "
                f'column {column}); Peppol documents should be UTF-8 with encoding="UTF-8".'
            ) from None
        if types & _ENCODING_ERRORS or exc.code in (9, 81):
            raise UntrustedInputError(
                f"{name}: the bytes do not match the declared or detected character encoding at "
                f"line {line}, column {column}: {msg}. Save the file in the encoding its XML "
                "declaration names (Peppol documents should be UTF-8)."
            ) from None
        if exc.code == 4:  # XML_ERR_DOCUMENT_EMPTY: no element at all
            raise UntrustedInputError(
                f"{name}: not an XML document (no root element found at line {line}, column {column})"
            ) from None
        raise UntrustedInputError(
            f"{name}: not well-formed XML at line {line}, column {column}: {msg}"
        ) from None
    except ValueError as exc:  # e.g. a str with an encoding declaration (callers pass bytes)
        raise UntrustedInputError(f"{name}: cannot be parsed: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:  # defence in depth
        raise UntrustedInputError(
            f"{name}: document declares a DTD/entities; Peppol documents must not contain a DOCTYPE"
        )
    return tree


def document_text(tree: etree._ElementTree, data: bytes) -> str:
    """The document as text, for engines that take a string (Saxon), decoded as libxml2 did."""
    encoding = (tree.docinfo.encoding or "UTF-8").lower()
    codec = "utf-8-sig" if encoding in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec).lstrip("\ufeff")
    except (LookupError, UnicodeDecodeError):
        from lxml import etree

        return etree.tostring(tree, encoding="unicode")


def parse_untrusted_file(
    path: str | os.PathLike[str], *, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> etree._ElementTree:
    """:func:`read_untrusted` then :func:`parse_untrusted`."""
    label = name if name is not None else os.fspath(Path(path))
    return parse_untrusted(
        read_untrusted(path, name=label, max_bytes=max_bytes), name=label, max_bytes=max_bytes
    )
