"""Evidence store: content addressing, redaction, several writer processes, the index."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from pathlib import Path

import pytest

from harness.report.errors import ReportError
from harness.report.evidence import (
    INDEX_FILE,
    META_DIR,
    REDACTED,
    EvidenceStore,
    build_evidence_index,
    collect_evidence,
    extension_for,
    parse_digest,
    redact_secrets,
)


def test_put_returns_the_sha256_of_the_stored_bytes(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    data = b"<Invoice/>"
    digest = store.put(data, media_type="application/xml", label="invoice")
    hexdigest = hashlib.sha256(data).hexdigest()
    assert digest == f"sha256:{hexdigest}"
    path = tmp_path / "evidence" / "sha256" / f"{hexdigest}.xml"
    assert path.read_bytes() == data
    assert store.path_for(digest) == path
    assert store.get(digest) == data


def test_put_is_idempotent_and_keeps_one_file(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    first = store.put(b"same", media_type="text/plain", label="a")
    second = store.put(b"same", media_type="application/json", label="b")
    assert first == second
    assert len(list((tmp_path / "evidence" / "sha256").iterdir())) == 1
    (item,) = build_evidence_index(tmp_path)
    assert item.labels == ("a", "b")


@pytest.mark.parametrize(
    ("media_type", "ext"),
    [
        ("application/xml", ".xml"),
        ("application/xml; charset=utf-8", ".xml"),
        ("application/vnd.example+xml", ".xml"),
        ("application/problem+json", ".json"),
        ("message/http", ".http"),
        ("text/x-log", ".txt"),
        ("application/x-unknown", ".bin"),
    ],
)
def test_extension_follows_the_media_type(media_type: str, ext: str) -> None:
    assert extension_for(media_type) == ext


def test_secrets_are_redacted_before_hashing_and_writing(tmp_path: Path) -> None:
    secret = "s3cr3t/token+1"
    store = EvidenceStore(tmp_path, secrets=[secret, ""])
    raw = (
        f'Authorization: Bearer {secret}\r\n\r\nGET /x?token=s3cr3t%2Ftoken%2B1 {{"t": "{secret}"}}'
    ).encode()
    digest = store.put(raw, media_type="message/http", label=f"request with {secret}")
    stored = store.get(digest)
    assert secret.encode() not in stored
    assert b"s3cr3t%2Ftoken%2B1" not in stored
    assert stored.count(REDACTED) == 3
    assert digest == "sha256:" + hashlib.sha256(stored).hexdigest()
    (item,) = build_evidence_index(tmp_path)
    assert secret not in json.dumps(item.to_json())
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()


def test_redact_secrets_masks_the_longest_secret_whole() -> None:
    assert redact_secrets(b"key=abcdef", ["abc", "abcdef"]) == b"key=" + REDACTED
    assert redact_secrets(b"nothing here", []) == b"nothing here"
    assert redact_secrets(b"x", [""]) == b"x"


def test_put_refuses_text(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="encode"):
        EvidenceStore(tmp_path).put("text", media_type="text/plain", label="x")  # type: ignore[arg-type]


def test_unknown_or_malformed_digest_is_a_clear_error(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    with pytest.raises(ReportError, match="never stored"):
        store.path_for("sha256:" + "0" * 64)
    with pytest.raises(ReportError, match="not an evidence digest"):
        parse_digest("md5:abc")


def _worker(run_dir: str, worker: int, count: int) -> list[str]:
    store = EvidenceStore(Path(run_dir))
    digests = []
    for i in range(count):
        # every worker writes the shared documents and some of its own
        digests.append(
            store.put(
                f"shared-{i}".encode() * 200, media_type="application/xml", label=f"shared {i}"
            )
        )
        digests.append(
            store.put(f"own-{worker}-{i}".encode(), media_type="text/plain", label=f"w{worker} {i}")
        )
    return digests


def test_several_processes_can_write_the_same_folder(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        results = pool.starmap(_worker, [(str(tmp_path), w, 40) for w in range(3)])
    expected = {d for r in results for d in r}
    assert len(expected) == 40 + 3 * 40
    sidecars = list((tmp_path / META_DIR).glob("*.jsonl"))
    assert len(sidecars) == 3, "one sidecar per store (one store per worker)"
    items = build_evidence_index(tmp_path)
    assert {i.digest for i in items} == expected
    for item in items:
        data = (tmp_path / item.path).read_bytes()
        assert item.digest == "sha256:" + hashlib.sha256(data).hexdigest()
        assert item.size == len(data)
    shared = [i for i in items if i.labels and i.labels[0].startswith("shared")]
    assert all(len(i.labels) == 1 for i in shared)  # same label from three writers, merged
    assert not (tmp_path / META_DIR).exists(), "sidecars are removed once indexed"
    assert not list(tmp_path.rglob(".tmp-*"))
    index = json.loads((tmp_path / INDEX_FILE).read_text("utf-8"))
    assert [e["digest"] for e in index["evidence"]] == sorted(expected)


def test_index_lists_a_file_whose_sidecar_line_was_torn(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    digest = store.put(b"payload", media_type="application/json", label="ok")
    (tmp_path / META_DIR / "dead-worker.jsonl").write_bytes(b'{"digest": "sha256:12')
    orphan = tmp_path / "evidence" / "sha256" / (hashlib.sha256(b"orphan").hexdigest() + ".bin")
    orphan.write_bytes(b"orphan")
    items = {i.digest: i for i in collect_evidence(tmp_path)}
    assert items[digest].media_type == "application/json"
    assert (
        items["sha256:" + hashlib.sha256(b"orphan").hexdigest()].media_type
        == "application/octet-stream"
    )
