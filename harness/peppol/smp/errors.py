"""Exception types of the Peppol SMP/SML library.

All derive from :class:`~harness.errors.HarnessError`; each message says what is wrong and what to
do next. A lookup that *decides* against a receiver (bad signature, unsupported transport, ...)
raises :class:`LookupRefused` with a machine-readable :class:`~harness.peppol.smp.client.Refusal`
code, because a refusal is an answer the suites judge, not a crash.
"""

from __future__ import annotations

from harness.errors import HarnessError, UntrustedInputError


class IdentifierError(HarnessError, ValueError):
    """A participant, document type or process identifier (or its URL form) is malformed."""


class DoubleEncodedError(IdentifierError):
    """A URL path segment was percent-encoded twice (``%253A%253A`` instead of ``%3A%3A``)."""


class SmlLookupError(HarnessError):
    """The DNS (SML) lookup of a participant gave no usable SMP URL."""


class ParticipantNotRegistered(SmlLookupError):
    """The SML zone has no record for the participant (NXDOMAIN or no ``Meta:SMP`` NAPTR)."""


class SmpError(HarnessError):
    """An SMP answer could not be fetched or read (HTTP status, content type, XML)."""


class SmpDocumentError(SmpError, UntrustedInputError):
    """An SMP document is not what the Peppol SMP specification allows (XML, schema, content)."""


class SignatureError(HarnessError):
    """An XML-DSig signature is missing, broken, or made with a certificate that is not trusted.

    ``reason`` is one of the :class:`~harness.peppol.smp.signing.SignatureProblem` values.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
