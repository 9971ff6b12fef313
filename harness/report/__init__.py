"""harness.report: the run model and its projections (pytest-free).

- ``model``: outcomes, levels, verdicts, requirement/check/profile results, the roll-up rules.
- ``evidence``: :class:`EvidenceStore`, content-addressed evidence with secret redaction.
- ``builder``: :func:`build_report` -> :class:`RunReport` (``report.json``), :func:`load_report`.
- ``html``, ``junit``, ``ctrf``, ``allure``: one projection each.
- ``attest``: Ed25519 keys, ``seal`` (DSSE + in-toto test-result statement) and ``verify``.
- ``writer``: :func:`write_run_folder`, every projection then the seal.

Import the submodule you need; this package imports nothing heavy by itself.
"""
