"""The test PKI: a certificate hierarchy shaped like Peppol's, for signed exchanges and their
negative tests. No pytest here.

* :func:`init_pki` / :func:`load_pki`: a root CA ("Harness Test Root CA"), an AP CA and an SMP CA
  (like PEPPOL ROOT CA, PEPPOL ACCESS POINT CA, PEPPOL SERVICE METADATA PUBLISHER CA), leaf
  certificates for the reference AP and SMP and for a participant that has none of its own, CRLs,
  delegated OCSP responders; all as files in one directory (:mod:`harness.pki.store`).
* :func:`issue` / :func:`revoke`: expired, not-yet-valid, revoked and wrong-CA certificates on
  demand.
* :func:`verify_chain`: path validation with a reason (expired, not yet valid, unknown CA,
  revoked), CRL (:func:`crl_checker`) or OCSP (:func:`ocsp_checker`) revocation checks.
* :class:`OcspResponder`: what ``conformance serve ocsp`` answers.

Private keys stay in their 0600 files: values carry paths, and :func:`load_private_key` reads a
key for the one signer that needs it.
"""

from __future__ import annotations

from harness.pki.model import (
    LEAF_KINDS,
    CertificateKind,
    Fault,
    IssuedCertificate,
    PkiError,
    Revocation,
    RevocationReason,
    TestPki,
)
from harness.pki.ocsp import (
    OcspAnswer,
    OcspError,
    OcspResponder,
    ocsp_checker,
    ocsp_url,
    query_ocsp,
)
from harness.pki.store import (
    init_pki,
    issue,
    load_pki,
    load_private_key,
    refresh_crls,
    revoke,
)
from harness.pki.verify import (
    ChainFailure,
    ChainVerification,
    RevocationCheck,
    RevocationStatus,
    crl_checker,
    pki_crl_checker,
    verify_chain,
)

#: Environment variable naming the PKI directory of reference endpoints (``conformance serve``).
PKI_DIR_ENV = "CONFORMANCE_PKI_DIR"

__all__ = [
    "LEAF_KINDS",
    "PKI_DIR_ENV",
    "CertificateKind",
    "ChainFailure",
    "ChainVerification",
    "Fault",
    "IssuedCertificate",
    "OcspAnswer",
    "OcspError",
    "OcspResponder",
    "PkiError",
    "Revocation",
    "RevocationCheck",
    "RevocationReason",
    "RevocationStatus",
    "TestPki",
    "crl_checker",
    "init_pki",
    "issue",
    "load_pki",
    "load_private_key",
    "ocsp_checker",
    "ocsp_url",
    "pki_crl_checker",
    "query_ocsp",
    "refresh_crls",
    "revoke",
    "verify_chain",
]
