"""harness.peppol."""
