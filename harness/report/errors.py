"""Errors of the report layer (subclasses of :class:`harness.errors.HarnessError`)."""

from __future__ import annotations

from harness.errors import HarnessError


class ReportError(HarnessError):
    """A run folder or report document cannot be written or read as asked."""


class SigningKeyError(ReportError):
    """The signing key or trusted key cannot be used (missing, unreadable, not Ed25519)."""
