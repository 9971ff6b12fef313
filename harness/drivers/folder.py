"""``folder`` driver (documents only): the participant's documents were put in a folder beforehand.

The document of ``scenario`` under ``ruleset`` is ``<folder>/<ruleset>/<scenario>.xml`` or, for a
participant claiming one rule set, ``<folder>/<scenario>.xml``. No file means no traffic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.drivers.base import (
    DriverResult,
    EvidenceHook,
    ExchangeRecord,
    InboundResult,
    PeppolBisDriver,
)

#: Bigger files are not read (the validator's default limit too).
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024


def document_candidates(folder: Path, scenario: str, ruleset: str) -> tuple[Path, Path]:
    """Where a document for ``scenario``/``ruleset`` may be, in the order they are tried."""
    return folder / ruleset / f"{scenario}.xml", folder / f"{scenario}.xml"


def read_document(path: Path) -> tuple[bytes | None, str | None]:
    """(bytes, None), or (None, why not) for a file that exists but cannot be used."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            return None, f"{path} is {size} bytes, more than the {MAX_DOCUMENT_BYTES} the harness reads"
        return path.read_bytes(), None
    except OSError as exc:
        return None, f"{path} cannot be read: {exc.strerror or exc}"


class FolderDriver(PeppolBisDriver):
    kind = "folder"

    def __init__(self, folder: Path, *, evidence_hook: EvidenceHook | None = None) -> None:
        super().__init__(evidence_hook)
        self.folder = Path(folder)

    def produce_document(self, scenario: str, ruleset: str) -> DriverResult:
        candidates = document_candidates(self.folder, scenario, ruleset)
        for path in candidates:
            if path.is_file():
                data, problem = read_document(path)
                if data is None:
                    return DriverResult(None, unreachable=True, error=problem)
                record = ExchangeRecord(f"file {path} ({ruleset} {scenario})", data, "application/xml")
                return DriverResult(data, self._recorded(record))
        return DriverResult(
            None,
            no_traffic=True,
            error=f"no document for scenario {scenario} ({ruleset}): neither {candidates[0]} nor"
            f" {candidates[1]} exists",
        )

    def deliver_inbound(self, document: bytes) -> InboundResult:
        return InboundResult(
            None,
            no_traffic=True,
            error="the folder driver only hands over documents the participant made; certifying a"
            " receiver needs driver kind http, prompt or embedded",
        )

    def describe(self) -> dict[str, Any]:
        files = sorted(p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*.xml")) if self.folder.is_dir() else []
        return {"kind": self.kind, "folder": str(self.folder), "documents": files}
