"""Evidence: every artefact exchanged during a run, stored under the run folder by SHA-256.

Layout inside a run folder::

    evidence/sha256/<hex><ext>        the bytes (after secret redaction), named by their digest
    evidence/meta/<process>.jsonl     per-process sidecar: one JSON line per put() (label, type)
    evidence/index.json               built by the controller from the sidecars before sealing

Several processes (pytest-xdist workers) may write the same folder at once: content files are
written to a temporary file and moved into place with :func:`os.replace`, so a reader never sees
a half-written file and two writers of the same digest write the same bytes. Each process appends
only to its own sidecar, so no two processes ever write the same metadata file.

Secrets are redacted *before* hashing, so the digest a check cites is the digest of what is on
disk, and a secret never reaches the run folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import threading
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.report.errors import ReportError

REDACTED = b"***REDACTED***"

EVIDENCE_DIR = "evidence"
CONTENT_DIR = "evidence/sha256"
META_DIR = "evidence/meta"
INDEX_FILE = "evidence/index.json"

#: File extension by media type, so a person opening the run folder gets a usable file.
MEDIA_TYPE_EXTENSIONS: Mapping[str, str] = {
    "application/xml": ".xml",
    "text/xml": ".xml",
    "application/soap+xml": ".xml",
    "application/json": ".json",
    "application/ld+json": ".json",
    "application/vnd.in-toto+json": ".json",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/csv": ".csv",
    "message/http": ".http",
    "application/http": ".http",
    "multipart/related": ".mime",
    "application/dns-message": ".dns",
    "application/pdf": ".pdf",
    "application/pkix-cert": ".cer",
    "application/x-pem-file": ".pem",
    "application/zip": ".zip",
    "application/gzip": ".gz",
    "application/octet-stream": ".bin",
}

_DIGEST_RE = re.compile(r"^sha256:([0-9a-f]{64})$")


def extension_for(media_type: str) -> str:
    """File extension for ``media_type`` (parameters such as ``; charset=`` are ignored)."""
    base = media_type.split(";", 1)[0].strip().lower()
    if base in MEDIA_TYPE_EXTENSIONS:
        return MEDIA_TYPE_EXTENSIONS[base]
    if base.endswith("+xml"):
        return ".xml"
    if base.endswith("+json"):
        return ".json"
    if base.startswith("text/"):
        return ".txt"
    return ".bin"


def parse_digest(digest: str) -> str:
    """The hex part of ``sha256:<hex>``; :class:`ReportError` for anything else."""
    match = _DIGEST_RE.match(digest)
    if not match:
        raise ReportError(
            f"{digest!r} is not an evidence digest: expected 'sha256:' followed by 64 lowercase"
            " hex digits, as returned by EvidenceStore.put()"
        )
    return match.group(1)


def _secret_forms(secret: str) -> set[bytes]:
    """The byte forms a secret can take in a message: raw, percent-encoded, JSON-escaped."""
    forms = {secret.encode("utf-8")}
    forms.add(urllib.parse.quote(secret, safe="").encode("ascii"))
    forms.add(urllib.parse.quote_plus(secret, safe="").encode("ascii"))
    forms.add(json.dumps(secret)[1:-1].encode("utf-8"))
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1].encode("utf-8"))
    return {f for f in forms if f}


def redact_secrets(data: bytes, secrets: Iterable[str]) -> bytes:
    """``data`` with every secret value replaced by ``***REDACTED***``.

    Besides the raw UTF-8 bytes, the percent-encoded and JSON-escaped forms of each secret are
    replaced (a token can appear in a query string or a JSON body). Longer forms are replaced
    first so a secret containing another secret is masked whole. Empty secrets are ignored.
    """
    forms: set[bytes] = set()
    for secret in secrets:
        if secret:
            forms |= _secret_forms(secret)
    for form in sorted(forms, key=lambda f: (-len(f), f)):
        data = data.replace(form, REDACTED)
    return data


@dataclass(frozen=True)
class EvidenceItem:
    """One stored artefact as listed in ``evidence/index.json`` and ``report.json``."""

    digest: str  # "sha256:<hex>"
    path: str  # relative to the run folder, posix
    media_type: str
    size: int
    labels: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "path": self.path,
            "media_type": self.media_type,
            "size": self.size,
            "labels": list(self.labels),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EvidenceItem:
        return cls(
            digest=data["digest"],
            path=data["path"],
            media_type=data["media_type"],
            size=int(data["size"]),
            labels=tuple(data.get("labels", ())),
        )


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either nothing or the whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class EvidenceStore:
    """Content-addressed evidence under ``run_dir/evidence``; safe to share between processes.

    ``secrets`` are redacted from every artefact before it is hashed and written. The store keeps
    no module-level state: each process (controller, xdist worker) makes its own instance over
    the same ``run_dir``; the controller merges the sidecars with :func:`build_evidence_index`.
    """

    def __init__(self, run_dir: Path, *, secrets: Iterable[str] = ()) -> None:
        self.run_dir = Path(run_dir)
        self._secrets = tuple(s for s in secrets if s)
        self._lock = threading.Lock()
        # One sidecar per store instance: unique across processes and hosts sharing a folder.
        token = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._sidecar = self.run_dir / META_DIR / f"{_safe_name(token)}.jsonl"

    def put(self, data: bytes, *, media_type: str, label: str) -> str:
        """Store ``data`` (redacted) and return its digest ``sha256:<hex>``. Idempotent."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"evidence must be bytes, got {type(data).__name__}: encode text first"
                " (e.g. text.encode('utf-8'))"
            )
        data = redact_secrets(bytes(data), self._secrets)
        hexdigest = hashlib.sha256(data).hexdigest()
        target = self._existing(hexdigest)
        if target is None:
            target = self.run_dir / CONTENT_DIR / f"{hexdigest}{extension_for(media_type)}"
            _write_atomically(target, data)
        relpath = target.relative_to(self.run_dir).as_posix()
        record = {
            "digest": f"sha256:{hexdigest}",
            "path": relpath,
            "media_type": media_type,
            "size": len(data),
            "label": redact_secrets(label.encode("utf-8"), self._secrets).decode("utf-8"),
        }
        line = (json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self._sidecar.parent.mkdir(parents=True, exist_ok=True)
            # One write() of one line in append mode: no interleaving with our own threads.
            with open(self._sidecar, "ab") as handle:
                handle.write(line)
        return f"sha256:{hexdigest}"

    def put_text(self, text: str, *, media_type: str = "text/plain", label: str) -> str:
        return self.put(text.encode("utf-8"), media_type=media_type, label=label)

    def _existing(self, hexdigest: str) -> Path | None:
        """The stored file for ``hexdigest`` whatever its extension (the same bytes stored
        earlier under another media type are reused, not duplicated)."""
        folder = self.run_dir / CONTENT_DIR
        if not folder.is_dir():
            return None
        for candidate in sorted(folder.glob(f"{hexdigest}*")):
            if candidate.name == hexdigest or candidate.name.startswith(f"{hexdigest}."):
                return candidate
        return None

    def path_for(self, digest: str) -> Path:
        """Absolute path of the stored file for ``digest``; :class:`ReportError` if absent."""
        found = self._existing(parse_digest(digest))
        if found is None:
            raise ReportError(
                f"no evidence {digest} under {self.run_dir / CONTENT_DIR}: it was never stored"
                " in this run folder"
            )
        return found

    def get(self, digest: str) -> bytes:
        return self.path_for(digest).read_bytes()


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def read_sidecars(run_dir: Path) -> list[dict[str, Any]]:
    """Every record of every sidecar under ``run_dir`` (a torn last line is skipped)."""
    records: list[dict[str, Any]] = []
    meta = Path(run_dir) / META_DIR
    if not meta.is_dir():
        return records
    for sidecar in sorted(meta.glob("*.jsonl")):
        for line in sidecar.read_bytes().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a process killed mid-write; its file content is still indexed below
            if isinstance(record, dict) and _DIGEST_RE.match(str(record.get("digest", ""))):
                records.append(record)
    return records


def _previous_index(run_dir: Path) -> list[dict[str, Any]]:
    """Records of an ``evidence/index.json`` written earlier (a folder being rewritten keeps its
    labels and media types although the sidecars are gone)."""
    try:
        document = json.loads((run_dir / INDEX_FILE).read_bytes())
    except (FileNotFoundError, ValueError):
        return []
    records: list[dict[str, Any]] = []
    for entry in document.get("evidence", []) if isinstance(document, dict) else []:
        if not isinstance(entry, dict) or not _DIGEST_RE.match(str(entry.get("digest", ""))):
            continue
        labels = entry.get("labels") or [None]
        for label in labels:
            records.append(
                {
                    "digest": entry["digest"],
                    "path": entry.get("path", ""),
                    "media_type": entry.get("media_type", "application/octet-stream"),
                    "label": label,
                }
            )
    return records


def collect_evidence(run_dir: Path) -> tuple[EvidenceItem, ...]:
    """Merge the sidecars and the stored files into one list, sorted by digest.

    A file with no sidecar record (its writer died) is still listed, with media type
    ``application/octet-stream`` and no label, so nothing stored is ever unaccounted for.
    """
    run_dir = Path(run_dir)
    by_digest: dict[str, dict[str, Any]] = {}
    for record in [*_previous_index(run_dir), *read_sidecars(run_dir)]:
        entry = by_digest.setdefault(
            record["digest"],
            {"path": record["path"], "media_types": set(), "labels": set(), "size": None},
        )
        entry["media_types"].add(str(record.get("media_type", "application/octet-stream")))
        if record.get("label"):
            entry["labels"].add(str(record["label"]))
    content = run_dir / CONTENT_DIR
    on_disk: list[tuple[str, Path]] = []
    if content.is_dir():
        for path in sorted(content.iterdir()):
            if path.is_file() and _DIGEST_RE.match(f"sha256:{path.name[:64]}"):
                on_disk.append((f"sha256:{path.name[:64]}", path))
    # Records whose file never landed (writer died before os.replace) are not listed.
    items: list[EvidenceItem] = []
    for digest, path in on_disk:
        found = by_digest.get(digest)
        media_types: Sequence[str] = sorted(found["media_types"]) if found else []
        items.append(
            EvidenceItem(
                digest=digest,
                path=path.relative_to(run_dir).as_posix(),
                media_type=media_types[0] if media_types else "application/octet-stream",
                size=path.stat().st_size,
                labels=tuple(sorted(found["labels"])) if found else (),
            )
        )
    return tuple(items)


def build_evidence_index(
    run_dir: Path, *, remove_sidecars: bool = True
) -> tuple[EvidenceItem, ...]:
    """Write ``evidence/index.json`` from the sidecars and return its items.

    Called by the controller once every worker has finished, before the folder is sealed. The
    sidecars are removed afterwards (``remove_sidecars``) so that a serial run and a ``-n 2``
    run leave the same set of files behind.
    """
    run_dir = Path(run_dir)
    items = collect_evidence(run_dir)
    if items or (run_dir / EVIDENCE_DIR).is_dir():
        document = {"evidence": [item.to_json() for item in items]}
        _write_atomically(
            run_dir / INDEX_FILE,
            (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        )
    if remove_sidecars:
        shutil.rmtree(run_dir / META_DIR, ignore_errors=True)
    return items
