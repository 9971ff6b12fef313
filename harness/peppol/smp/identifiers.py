"""Peppol identifiers (participant, document type, process) and their SMP URL form.

What a caller may rely on:

- :class:`ParticipantIdentifier` compares and hashes case-insensitively on its value (PFUOI 4.4.0
  POLICY 2: participant identifier *values* are case-insensitive; schemes are compared as given),
  so it can key a dictionary the way an SMP must look participants up. Its ``value`` keeps the
  case it was written with.
- :class:`DocumentTypeIdentifier` and :class:`ProcessIdentifier` compare exactly (POLICY 2: their
  values are case-sensitive).
- :func:`path_segment` percent-encodes ``scheme::value`` as one URL path segment (every character
  outside RFC 3986 "unreserved" is encoded, so ``:`` -> ``%3A``, ``#`` -> ``%23``, ``/`` -> ``%2F``,
  space -> ``%20``); :func:`parse_participant_segment` / :func:`parse_document_type_segment` read
  one back from the raw (still encoded) path and refuse double encoding with
  :class:`~harness.peppol.smp.errors.DoubleEncodedError`.

Limits and character sets, as the published Peppol Policy for use of Identifiers 4.4.0 states them:

- POLICY 1: a participant identifier value (after the ``NNNN:`` ISO 6523 ICD of the Peppol scheme)
  is 1..130 characters of ``A-Z a-z 0-9 - . _ ~`` only; document type values are at most 500
  characters and process values at most 200, from ISO-8859-1;
- POLICY 7: participant schemes (they become DNS labels) are ``[a-z0-9-]``; every scheme has
  at most 25 characters;
- POLICY 17: the customization id of a ``busdox-docid-qns`` document type (between ``##`` and the
  version ``::``) has no ``*`` and no whitespace;
- POLICY 25: process identifier values have no whitespace.

Control characters are refused everywhere. Other participant schemes than
``iso6523-actorid-upis`` (not used in Peppol) keep the looser US-ASCII, 135-character rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import quote, unquote

from harness.peppol.smp.errors import DoubleEncodedError, IdentifierError

#: The participant identifier scheme of the Peppol network (ISO 6523 ICD-qualified values).
PARTICIPANT_SCHEME = "iso6523-actorid-upis"
#: The document type identifier scheme for exact (qualified name + customization) identifiers.
DOCUMENT_SCHEME = "busdox-docid-qns"
#: The wildcard document type identifier scheme (PFUOI 4.2.0 and later).
DOCUMENT_SCHEME_WILDCARD = "peppol-doctype-wildcard"
#: The process identifier scheme of Peppol BIS processes.
PROCESS_SCHEME = "cenbii-procid-ubl"

#: Separator between scheme and value in the URL ("identifier URI") form.
SCHEME_SEPARATOR = "::"

MAX_SCHEME_LENGTH = 25
MAX_PARTICIPANT_VALUE_LENGTH = 4 + 1 + 130
MAX_DOCUMENT_TYPE_VALUE_LENGTH = 500
MAX_PROCESS_VALUE_LENGTH = 200

#: ISO 6523 ICDs the harness' examples and property tests draw from (eDEC code list names).
COMMON_ICDS: dict[str, str] = {
    "0088": "GS1 Global Location Number (GLN)",
    "0192": "Norway: Enhetsregisteret (organisation number)",
    "0195": "Singapore: UEN (Unique Entity Number)",
    "0208": "Belgium: enterprise number (KBO/BCE)",
    "9915": "Austria: VAT (also the Peppol test scheme, e.g. 9915:test)",
    "9925": "Belgium: VAT number",
}

#: Peppol BIS Billing 3.0 invoice, as published in SMPs (customization ``::`` UBL version).
BIS_BILLING_INVOICE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
#: The process of Peppol BIS Billing 3.0.
BIS_BILLING_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

_PARTICIPANT_SCHEME_RE = re.compile(r"[a-z0-9]+-[a-z0-9]+-[a-z0-9]+")
_ICD_VALUE_RE = re.compile(r"[0-9]{4}:.+", re.DOTALL)
#: PFUOI 4.4.0 POLICY 1: the characters of a participant identifier value after the ICD.
PARTICIPANT_VALUE_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
MAX_PARTICIPANT_BODY_LENGTH = 130
_CHARSET_NAMES = {"ascii": "US-ASCII", "latin-1": "ISO-8859-1 (latin-1)"}
_WHITESPACE = frozenset("\t\n\v\f\r \x85\xa0")
# "%3A%3A" in any letter case: the encoded scheme separator.
_ENCODED_SEPARATOR_RE = re.compile(r"%3a%3a", re.IGNORECASE)


def _check_scheme(kind: str, scheme: str) -> None:
    if not scheme:
        raise IdentifierError(f"{kind} identifier scheme is empty; write it as scheme::value")
    if len(scheme) > MAX_SCHEME_LENGTH:
        raise IdentifierError(
            f"{kind} identifier scheme {scheme!r} has {len(scheme)} characters; at most"
            f" {MAX_SCHEME_LENGTH} are allowed (PFUOI POLICY 1)"
        )
    if SCHEME_SEPARATOR in scheme or any(c in _WHITESPACE for c in scheme):
        raise IdentifierError(
            f"{kind} identifier scheme {scheme!r} contains whitespace or '::'; a scheme is one token"
        )


def _check_value(kind: str, value: str, *, max_length: int, charset: str) -> None:
    if not value:
        raise IdentifierError(f"{kind} identifier value is empty")
    if len(value) > max_length:
        raise IdentifierError(
            f"{kind} identifier value has {len(value)} characters; at most {max_length} are"
            " allowed (PFUOI POLICY 1)"
        )
    bad = [c for c in value if ord(c) < 0x20 or ord(c) == 0x7F or 0x80 <= ord(c) < 0xA0]
    if bad:
        raise IdentifierError(
            f"{kind} identifier value {value!r} contains control character {bad[0]!r}; remove it"
        )
    try:
        value.encode(charset)
    except UnicodeEncodeError as exc:
        raise IdentifierError(
            f"{kind} identifier value {value!r} contains {value[exc.start]!r}, which is not"
            f" {_CHARSET_NAMES.get(charset, charset)} (PFUOI POLICY 1)"
        ) from None
    if value != value.strip():
        raise IdentifierError(
            f"{kind} identifier value {value!r} has leading or trailing whitespace; trim it"
        )


def _split(kind: str, text: str) -> tuple[str, str]:
    scheme, sep, value = text.partition(SCHEME_SEPARATOR)
    if not sep:
        raise IdentifierError(
            f"{kind} identifier {text!r} has no '::' between scheme and value"
            f" (e.g. {PARTICIPANT_SCHEME}::0088:5790000436101)"
        )
    return scheme, value


@dataclass(frozen=True, eq=False)
class ParticipantIdentifier:
    """A participant (receiver or sender) identifier: ``scheme`` and ``value``.

    Equality and hash ignore the case of ``value`` (POLICY 2); :attr:`canonical_value` is the
    lower-cased form the SML hashes and the SMP matches on.
    """

    scheme: str
    value: str
    kind: ClassVar[str] = "participant"

    def __post_init__(self) -> None:
        _check_scheme(self.kind, self.scheme)
        if not _PARTICIPANT_SCHEME_RE.fullmatch(self.scheme):
            raise IdentifierError(
                f"participant identifier scheme {self.scheme!r} is not of the form"
                f" [a-z0-9]+-[a-z0-9]+-[a-z0-9]+ (it becomes a DNS label; e.g. {PARTICIPANT_SCHEME})"
            )
        _check_value(
            self.kind, self.value, max_length=MAX_PARTICIPANT_VALUE_LENGTH, charset="ascii"
        )
        if self.scheme == PARTICIPANT_SCHEME:
            if not _ICD_VALUE_RE.fullmatch(self.value):
                raise IdentifierError(
                    f"participant identifier value {self.value!r} does not start with a four-digit"
                    " ISO 6523 ICD and ':' (e.g. 0088:5790000436101, 0195:T08GB0001A)"
                )
            body = self.value[5:]
            if len(body) > MAX_PARTICIPANT_BODY_LENGTH:
                raise IdentifierError(
                    f"participant identifier value {self.value!r} has {len(body)} characters after"
                    f" the ICD; at most {MAX_PARTICIPANT_BODY_LENGTH} are allowed (PFUOI 4.4.0"
                    " POLICY 1)"
                )
            bad = sorted({c for c in body if c not in PARTICIPANT_VALUE_CHARACTERS})
            if bad:
                raise IdentifierError(
                    f"participant identifier value {self.value!r} contains {''.join(bad)!r}; after"
                    " the ICD only letters, digits, '-', '.', '_' and '~' are allowed (PFUOI 4.4.0"
                    " POLICY 1)"
                )

    @classmethod
    def parse(cls, text: str) -> ParticipantIdentifier:
        """``iso6523-actorid-upis::0088:123`` (or a bare ``0088:123``, taken in the Peppol scheme)."""
        if SCHEME_SEPARATOR not in text and _ICD_VALUE_RE.fullmatch(text):
            return cls(PARTICIPANT_SCHEME, text)
        return cls(*_split(cls.kind, text))

    @classmethod
    def peppol(cls, value: str) -> ParticipantIdentifier:
        """A participant of the ``iso6523-actorid-upis`` scheme (``0195:T08GB0001A``)."""
        return cls(PARTICIPANT_SCHEME, value)

    @property
    def canonical_value(self) -> str:
        """The value lower-cased (ASCII), as compared, hashed for DNS and stored by an SMP."""
        return self.value.lower()

    @property
    def key(self) -> tuple[str, str]:
        """What two participant identifiers are compared on."""
        return (self.scheme, self.canonical_value)

    @property
    def uri(self) -> str:
        """``scheme::value``, the identifier's URL form before percent-encoding."""
        return f"{self.scheme}{SCHEME_SEPARATOR}{self.value}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParticipantIdentifier):
            return NotImplemented
        return self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.uri


@dataclass(frozen=True)
class DocumentTypeIdentifier:
    """A document type identifier; compared exactly (case-sensitive, POLICY 2)."""

    scheme: str
    value: str
    kind: ClassVar[str] = "document type"

    def __post_init__(self) -> None:
        _check_scheme(self.kind, self.scheme)
        _check_value(
            self.kind, self.value, max_length=MAX_DOCUMENT_TYPE_VALUE_LENGTH, charset="latin-1"
        )
        if self.scheme == DOCUMENT_SCHEME:
            custom = self.customization_id
            bad = sorted({c for c in custom if c == "*" or c in _WHITESPACE})
            if bad:
                raise IdentifierError(
                    f"document type identifier value {self.value!r}: its customization id"
                    f" {custom!r} contains {bad[0]!r}; '*' and whitespace are not allowed"
                    " (PFUOI 4.4.0 POLICY 17)"
                )

    @property
    def customization_id(self) -> str:
        """``<syntax specific id>##<customization id>::<version>`` (POLICY 20): the middle part
        (empty when the value has no ``##``)."""
        _, sep, rest = self.value.partition("##")
        if not sep:
            return ""
        custom, _, _version = rest.rpartition("::")
        return custom or rest

    @classmethod
    def parse(cls, text: str) -> DocumentTypeIdentifier:
        """``busdox-docid-qns::urn:...::Invoice##...::2.1`` (the first ``::`` ends the scheme)."""
        return cls(*_split(cls.kind, text))

    @classmethod
    def busdox(cls, value: str) -> DocumentTypeIdentifier:
        return cls(DOCUMENT_SCHEME, value)

    @property
    def uri(self) -> str:
        return f"{self.scheme}{SCHEME_SEPARATOR}{self.value}"

    def __str__(self) -> str:
        return self.uri


@dataclass(frozen=True)
class ProcessIdentifier:
    """A process identifier; compared exactly (case-sensitive, POLICY 2)."""

    scheme: str
    value: str
    kind: ClassVar[str] = "process"

    def __post_init__(self) -> None:
        _check_scheme(self.kind, self.scheme)
        _check_value(self.kind, self.value, max_length=MAX_PROCESS_VALUE_LENGTH, charset="latin-1")
        if self.scheme == PROCESS_SCHEME and any(c in _WHITESPACE for c in self.value):
            raise IdentifierError(
                f"process identifier value {self.value!r} contains whitespace (PFUOI 4.4.0"
                " POLICY 25)"
            )

    @classmethod
    def parse(cls, text: str) -> ProcessIdentifier:
        return cls(*_split(cls.kind, text))

    @classmethod
    def cenbii(cls, value: str) -> ProcessIdentifier:
        return cls(PROCESS_SCHEME, value)

    @property
    def uri(self) -> str:
        return f"{self.scheme}{SCHEME_SEPARATOR}{self.value}"

    def __str__(self) -> str:
        return self.uri


Identifier = ParticipantIdentifier | DocumentTypeIdentifier | ProcessIdentifier


# -- URL form ----------------------------------------------------------------------------------


def path_segment(identifier: Identifier) -> str:
    """``scheme::value`` percent-encoded as one URL path segment (RFC 3986 section 2.1).

    Everything but unreserved characters (``A-Z a-z 0-9 - . _ ~``) is encoded, upper-case hex:
    ``iso6523-actorid-upis%3A%3A0088%3A5790000436101``.
    """
    return quote(identifier.uri, safe="")


def service_group_path(participant: ParticipantIdentifier) -> str:
    """``/{participant}``: the path of the participant's ServiceGroup resource."""
    return "/" + path_segment(participant)


def service_metadata_path(
    participant: ParticipantIdentifier, document_type: DocumentTypeIdentifier
) -> str:
    """``/{participant}/services/{documentType}``: the path of a SignedServiceMetadata resource."""
    return f"{service_group_path(participant)}/services/{path_segment(document_type)}"


def decode_segment(raw: str, *, kind: str) -> str:
    """One raw URL path segment decoded once into ``scheme::value``.

    Refuses a segment whose single decoding still has the scheme separator encoded
    (``iso6523-actorid-upis%253A%253A...`` -> ``...%3A%3A...``): that is a double-encoded
    identifier, which an SMP must not accept as the same resource.
    """
    if "/" in raw:
        raise IdentifierError(f"{kind} path segment {raw!r} contains '/'; encode it as %2F")
    try:
        decoded = unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise IdentifierError(
            f"{kind} path segment {raw!r} percent-encodes bytes that are not UTF-8"
        ) from None
    head, sep, _ = decoded.partition(SCHEME_SEPARATOR)
    encoded_sep = _ENCODED_SEPARATOR_RE.search(decoded)
    if encoded_sep is not None and (not sep or encoded_sep.start() < len(head)):
        raise DoubleEncodedError(
            f"{kind} path segment {raw!r} is percent-encoded twice: after decoding it reads"
            f" {decoded!r}, whose scheme separator is still encoded. Encode scheme::value once"
            " (':' -> %3A)."
        )
    if not sep:
        raise IdentifierError(
            f"{kind} path segment {raw!r} decodes to {decoded!r}, which has no '::' between"
            " scheme and value"
        )
    return decoded


def parse_participant_segment(raw: str) -> ParticipantIdentifier:
    """The participant of a raw ``/{participant}`` path segment (see :func:`decode_segment`)."""
    return ParticipantIdentifier(*_split("participant", decode_segment(raw, kind="participant")))


def parse_document_type_segment(raw: str) -> DocumentTypeIdentifier:
    """The document type of a raw ``/services/{documentType}`` path segment."""
    text = decode_segment(raw, kind="document type")
    return DocumentTypeIdentifier(*_split("document type", text))


def double_encode(identifier: Identifier) -> str:
    """``path_segment`` applied twice: the wrong form a known-bad client or SMP produces."""
    return quote(path_segment(identifier), safe="")
