"""Exception types shared across the harness. Messages say what is wrong and what to do next."""

from __future__ import annotations


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""


class ConfigError(HarnessError):
    """The participant file or a command-line option is wrong (exit 2 before anything runs)."""


class ArtefactError(HarnessError):
    """A pinned external artefact is missing or does not match its SHA-256."""


class UntrustedInputError(HarnessError):
    """A document or message from outside cannot be read safely (malformed, XXE, too big, ...)."""
