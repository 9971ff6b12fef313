"""Hypothesis strategies for Peppol identifiers with awkward characters (imports hypothesis: only
the property-based suites and tests import this module).

Every value drawn is a valid identifier under the published Peppol Policy for use of Identifiers
4.4.0, so an SMP must publish it and serve it back, and an AP must find it:

- participant values are ISO 6523 ICD-qualified (``0088``, ``0192``, ``0195`` (Singapore UEN),
  ``0208``, ``9925``) with bodies of mixed-case letters, digits and ``- . _ ~`` (POLICY 1 allows
  nothing else), up to the 130-character limit: awkward for case-insensitive matching and DNS
  hashing, while ``:`` and ``::`` still need percent-encoding in URLs;
- document type values are shaped like real ones, with ``#``, ``::``, ``/``, ``%``, ``?``, ``&``,
  ``=``, ``+``, ``;``, ``@`` and other printable ASCII in the customization id, but no ``*`` and no
  whitespace (POLICY 17). Non-ASCII letters are left out: POLICY 1 restricts values to "the
  invariant character set of ISO-8859-1", and a harness must not fail an SMP that refuses them.
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness.peppol.smp.errors import IdentifierError
from harness.peppol.smp.identifiers import (
    MAX_PARTICIPANT_BODY_LENGTH,
    PARTICIPANT_VALUE_CHARACTERS,
    DocumentTypeIdentifier,
    ParticipantIdentifier,
)

#: The ISO 6523 ICDs the property campaigns draw participant values from.
ICDS = ("0088", "0192", "0195", "0208", "9925")
#: POLICY 1: what a participant value may hold after the ICD.
_PARTICIPANT = st.sampled_from(sorted(PARTICIPANT_VALUE_CHARACTERS))
#: Characters that need percent-encoding in a URL path segment, or look like they might.
AWKWARD = "/?#%+&:=;@~!$'(),[]<>^`{|}\\\""
_CUSTOM = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="*") | (
    st.sampled_from([*AWKWARD, "::", "%20", "%3A", "%2F"])
)


@st.composite
def participant_identifiers(draw: st.DrawFn, suffix: str = "") -> ParticipantIdentifier:
    """``iso6523-actorid-upis::<ICD>:<awkward body><suffix>`` (``suffix`` keeps a run's values apart)."""
    icd = draw(st.sampled_from(ICDS))
    room = MAX_PARTICIPANT_BODY_LENGTH - len(suffix)
    body = draw(st.text(_PARTICIPANT, min_size=1, max_size=min(40, room)))
    value = f"{icd}:{body}{suffix}"
    try:
        return ParticipantIdentifier.peppol(value)
    except IdentifierError:  # pragma: no cover - the alphabet keeps values valid
        return ParticipantIdentifier.peppol(f"{icd}:x{suffix}")


@st.composite
def document_type_identifiers(draw: st.DrawFn) -> DocumentTypeIdentifier:
    """A ``busdox-docid-qns`` id shaped like ``<root ns>::<name>##<customization>::<version>``,
    with awkward characters in the customization."""
    name = draw(st.sampled_from(["Invoice", "CreditNote", "Order", "ApplicationResponse"]))
    custom = "".join(draw(st.lists(_CUSTOM, min_size=0, max_size=20)))
    value = (
        f"urn:oasis:names:specification:ubl:schema:xsd:{name}-2::{name}"
        f"##urn:fdc:peppol.eu:2017:poacc:billing:3.0{custom}::2.1"
    ).strip()
    try:
        return DocumentTypeIdentifier.busdox(value)
    except IdentifierError:  # pragma: no cover - the alphabet keeps values valid
        return DocumentTypeIdentifier.busdox(f"urn:x:{name}::2.1")
