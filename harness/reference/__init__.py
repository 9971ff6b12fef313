"""harness.reference."""
