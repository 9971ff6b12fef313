"""harness.runtime."""
