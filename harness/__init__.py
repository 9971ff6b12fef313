"""Trade Conformance Harness: certify implementations of cross-border trade standards.

The domain libraries (``harness.peppol``, ``harness.xml``, ``harness.report`` ...) are usable
without pytest; ``harness.plugin`` is the thin pytest adapter and ``harness.cli`` the command line.
"""

__version__ = "0.1.0"
