"""Pinned external normative artefacts (schemas, Schematron, XSLT, examples): lock and store.

``from harness.artefacts import ArtefactStore``; ``ArtefactStore.default().path(key)`` gives a
verified local file. See :mod:`harness.artefacts.store` and :mod:`harness.artefacts.lock`.
"""

from harness.artefacts.lock import ArtefactLock, LockEntry, default_lock
from harness.artefacts.store import ArtefactStatus, ArtefactStore, SyncProgress, SyncReport

__all__ = [
    "ArtefactLock",
    "ArtefactStatus",
    "ArtefactStore",
    "LockEntry",
    "SyncProgress",
    "SyncReport",
    "default_lock",
]
