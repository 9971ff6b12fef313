"""harness.xml."""
