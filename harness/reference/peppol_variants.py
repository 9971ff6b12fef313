"""Known-bad variants of the reference Peppol BIS participant.

Each variant has exactly ONE fixed fault (the same whatever the seed or scenario) and declares the
set of requirements a certification run must find failed -- no more, no less. Official rule ids
are qualified by their rule set (``cen-ubl-1.3.14.1:BR-CO-15``); our own ids carry the suite prefix
(``BIS-OUT-003``). The declared sets of document faults were determined by validating what the
variant produces for every scenario of both rule sets the reference participant claims
(``peppol-ubl-3.0.19`` and ``pint-sg-ubl-1.4.1``) and are pinned by
``tests/integration/test_reference_participant_variants.py``.

This module is data only (no Starlette, no validator): the participant-file loader imports it to
check ``driver.variant``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any


class Outbound(str, Enum):
    """How a variant misbehaves when asked for a document (besides document faults)."""

    NORMAL = "normal"
    SAME_DOCUMENT = "same-document"  #: every scenario gets the first scenario's document
    CREDIT_NOTE_AS_INVOICE = "credit-note-as-invoice"  #: an Invoice where a CreditNote is asked
    ERROR_FOR_CREDIT_NOTE = "error-for-credit-note"  #: HTTP 500 for credit-note scenarios
    TEXT_PLAIN = "text-plain"  #: the right document with Content-Type text/plain


class Inbound(str, Enum):
    """How a variant misbehaves when handed a document."""

    NORMAL = "normal"
    ACCEPT_ALL = "accept-all"  #: accepts whatever it gets
    REJECT_VALID = "reject-valid"  #: rejects valid documents (naming a rule that did not fire)
    REJECT_WITHOUT_RULES = "reject-without-rules"  #: rejects invalid documents, rule_ids empty


@dataclass(frozen=True)
class Variant:
    """A behaviour of the reference participant: ``good`` or one known-bad fault."""

    name: str
    description: str
    #: Requirements a run against this variant must fail, exactly.
    declared: frozenset[str]
    #: Keyword arguments of :class:`harness.peppol.ubl.UblFaults` applied to every document.
    document_faults: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    outbound: Outbound = Outbound.NORMAL
    inbound: Inbound = Inbound.NORMAL

    @property
    def is_good(self) -> bool:
        return self.name == GOOD.name


GOOD = Variant(
    name="good",
    description="The reference participant as it should be: every document is the scenario asked "
    "for and valid; valid inbound documents are accepted, invalid ones rejected naming the rules "
    "they break.",
    declared=frozenset(),
)


def _faults(**kw: Any) -> Mapping[str, Any]:
    return MappingProxyType(dict(kw))


_CATALOGUE: tuple[Variant, ...] = ()


#: Known-bad variants by name (``good`` is not among them: see :data:`GOOD`).
VARIANTS: Mapping[str, Variant] = MappingProxyType({v.name: v for v in _CATALOGUE})


def get_variant(name: str) -> Variant:
    """``good`` or a known-bad variant; ``KeyError`` with the known names otherwise."""
    if name == GOOD.name:
        return GOOD
    try:
        return VARIANTS[name]
    except KeyError:
        raise KeyError(
            f"unknown variant {name!r}; known: good, {', '.join(sorted(VARIANTS))}"
        ) from None
