"""harness.artefacts."""
