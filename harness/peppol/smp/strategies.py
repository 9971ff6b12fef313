"""Hypothesis strategies for Peppol identifiers with awkward characters (imports hypothesis: only
the property-based suites and tests import this module).

Participant values are ISO 6523 ICD-qualified (``0088``, ``0192``, ``0195`` (Singapore UEN),
``0208``, ``9925``) with US-ASCII bodies full of URL-reserved characters; document type values are
ISO-8859-1 with ``#``, ``::``, ``/``, ``%``, spaces and accented letters, as real customization ids
have. Every value drawn is a valid identifier (PFUOI 4.4.0 POLICY 1), so an SMP must publish it and
serve it back.
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness.peppol.smp.errors import IdentifierError
from harness.peppol.smp.identifiers import (
    MAX_PARTICIPANT_VALUE_LENGTH,
    DocumentTypeIdentifier,
    ParticipantIdentifier,
)

#: The ISO 6523 ICDs the property campaigns draw participant values from.
ICDS = ("0088", "0192", "0195", "0208", "9925")
#: Characters that need percent-encoding in a URL path segment, or look like they might.
AWKWARD = "/?#%+&:=;@ ~!$'()*,[]<>^`{|}\\\""
_ASCII = st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.sampled_from(AWKWARD)
_LATIN1 = st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from(
    ["é", "ü", "ß", "Ø", "#", "::", "%20", "%3A", "/"]
)


@st.composite
def participant_identifiers(draw: st.DrawFn, suffix: str = "") -> ParticipantIdentifier:
    """``iso6523-actorid-upis::<ICD>:<awkward body><suffix>`` (``suffix`` keeps a run's values apart)."""
    icd = draw(st.sampled_from(ICDS))
    room = MAX_PARTICIPANT_VALUE_LENGTH - len(icd) - 1 - len(suffix)
    body = draw(st.text(_ASCII, min_size=1, max_size=min(40, room)))
    value = f"{icd}:{body}{suffix}".strip()
    try:
        return ParticipantIdentifier.peppol(value)
    except IdentifierError:  # pragma: no cover - the alphabet keeps values valid
        return ParticipantIdentifier.peppol(f"{icd}:x{suffix}")


@st.composite
def document_type_identifiers(draw: st.DrawFn) -> DocumentTypeIdentifier:
    """A ``busdox-docid-qns`` id shaped like ``<root ns>::<name>##<customization>::<version>``,
    with awkward characters in the customization."""
    name = draw(st.sampled_from(["Invoice", "CreditNote", "Order", "ApplicationResponse"]))
    custom = "".join(draw(st.lists(_LATIN1, min_size=0, max_size=20)))
    value = (
        f"urn:oasis:names:specification:ubl:schema:xsd:{name}-2::{name}"
        f"##urn:fdc:peppol.eu:2017:poacc:billing:3.0{custom}::2.1"
    ).strip()
    try:
        return DocumentTypeIdentifier.busdox(value)
    except IdentifierError:  # pragma: no cover - the alphabet keeps values valid
        return DocumentTypeIdentifier.busdox(f"urn:x:{name}::2.1")
