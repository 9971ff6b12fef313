"""Drivers: http (against the running reference participant and against nothing), embedded,
folder, prompt; results are values with redacted evidence, never tracebacks."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config import load_participant, reference_participant_path
from harness.drivers import ExchangeRecord, make_driver
from harness.drivers.control_api import join_url, response_problem
from harness.drivers.embedded import EmbeddedDriver
from harness.drivers.folder import FolderDriver
from harness.drivers.http import HttpDriver
from harness.drivers.prompt import PromptDriver
from harness.errors import ConfigError
from harness.runtime.local import LocalRuntime

INVOICE = b"<?xml version='1.0'?><Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'/>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    with LocalRuntime(log_dir=tmp_path_factory.mktemp("logs")) as rt:
        yield rt


def participant_file(tmp_path: Path, driver: str, roles: str = '["sender", "receiver"]') -> Path:
    path = tmp_path / "p.toml"
    path.write_text(
        f"""
[participant]
name = "Driver test"
profiles = ["peppol-bis"]
[driver]
{driver}
[profiles.peppol-bis]
roles = {roles}
rulesets = ["peppol-ubl-3.0.19"]
"""
    )
    return path


# -- control API helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base",
    ["http://h:1", "http://h:1/", "http://h:1/conformance/v1", "http://h:1/conformance/v1/"],
)
def test_base_url_with_or_without_api_root(base: str) -> None:
    assert join_url(base, "/conformance/v1/health") == "http://h:1/conformance/v1/health"


def test_join_url_keeps_a_prefix_path() -> None:
    assert join_url("https://p.example/bank/x", "/conformance/v1/health") == "https://p.example/bank/x/conformance/v1/health"


def test_contract_problems_are_explained() -> None:
    docs = "/conformance/v1/peppol-bis/documents"
    inbound = "/conformance/v1/peppol-bis/inbound"
    assert response_problem("POST", docs, 200, "application/xml; charset=utf-8", b"<x/>") is None
    assert "Content-Type text/plain" in (response_problem("POST", docs, 200, "text/plain", b"<x/>") or "")
    assert "empty body" in (response_problem("POST", docs, 200, "application/xml", b"") or "")
    assert "does not define" in (response_problem("POST", docs, 418, "application/json", b"{}") or "")
    ok = json.dumps({"accepted": False, "rule_ids": ["BR-01"], "message": "no"}).encode()
    assert response_problem("POST", inbound, 200, "application/json", ok) is None
    wrong = json.dumps({"accepted": "yes", "rule_ids": [], "message": ""}).encode()
    assert "at accepted: 'yes' is not of type 'boolean'" in (response_problem("POST", inbound, 200, "application/json", wrong) or "")
    missing = json.dumps({"accepted": True}).encode()
    assert "'rule_ids' is a required property" in (response_problem("POST", inbound, 200, "application/json", missing) or "")
    assert "not JSON" in (response_problem("POST", inbound, 200, "application/json", b"yes") or "")


# -- http ---------------------------------------------------------------------------------------


def test_http_driver_against_the_running_reference(runtime: LocalRuntime) -> None:
    endpoint = runtime.start("peppol-participant")
    records: list[ExchangeRecord] = []
    with HttpDriver(endpoint.base_url + "/conformance/v1", trust_env=False, evidence_hook=records.append) as d:
        result = d.produce_document("invoice-standard", "peppol-ubl-3.0.19")
        assert result.document and result.document.startswith(b"<?xml")
        assert result.status == 200 and result.api_problem is None and not result.unreachable
        assert list(result.exchange) == records
        answer = d.deliver_inbound(result.document)
        assert answer.accepted is True and answer.rule_ids == () and answer.api_problem is None
        facts = d.describe()
    assert facts["kind"] == "http" and facts["health"]["status"] == 200
    assert facts["health"]["answer"]["status"] == "ok"


def test_http_driver_unknown_scenario_is_an_answer_not_an_exception(runtime: LocalRuntime) -> None:
    endpoint = runtime.start("peppol-participant")
    with HttpDriver(endpoint.base_url, trust_env=False) as d:
        result = d.produce_document("no-such-scenario", "peppol-ubl-3.0.19")
    assert result.document is None and result.status == 422 and not result.unreachable
    assert result.api_problem is None  # 422 problem+json is in the contract
    assert "HTTP 422" in (result.error or "") and "no-such-scenario" in (result.error or "")


def test_http_driver_unreachable_is_a_clear_error_quickly() -> None:
    port = free_port()
    started = time.monotonic()
    with HttpDriver(f"http://127.0.0.1:{port}", timeout=5, trust_env=False) as d:
        result = d.produce_document("invoice-standard", "peppol-ubl-3.0.19")
        answer = d.deliver_inbound(INVOICE)
        facts = d.describe()
    assert time.monotonic() - started < 5
    assert result.document is None and result.unreachable and not result.no_traffic
    assert f"could not reach the participant at http://127.0.0.1:{port}/conformance/v1/peppol-bis/documents" in (result.error or "")
    assert "is it running, and is driver.base_url right?" in (result.error or "")
    assert "Traceback" not in (result.error or "")
    assert answer.accepted is None and answer.unreachable
    assert "error" in facts["health"]
    # the request that could not be delivered is still evidence
    assert result.exchange and result.exchange[0].data.startswith(b"POST /conformance/v1/peppol-bis/documents")


def test_http_driver_timeout_is_reported(tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts, never answers
    port = server.getsockname()[1]
    try:
        with HttpDriver(f"http://127.0.0.1:{port}", timeout=0.5, trust_env=False) as d:
            result = d.produce_document("invoice-standard", "peppol-ubl-3.0.19")
    finally:
        server.close()
    assert result.unreachable
    assert "did not answer" in (result.error or "") and "within 0.5 s" in (result.error or "")


class _FakeParticipant:
    """A tiny HTTP server answering one canned response, to play a participant that breaks the contract."""

    def __init__(self, status: int, content_type: str, body: bytes) -> None:
        import http.server

        outer = self
        self.requests: list[bytes] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                outer.requests.append(str(self.headers).encode())
                self.rfile.read(length)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_http_driver_flags_contract_violations() -> None:
    fake = _FakeParticipant(200, "text/plain", b'{"accepted": "yes"}')
    try:
        with HttpDriver(fake.url, trust_env=False, token="tok-123456") as d:
            answer = d.deliver_inbound(INVOICE)
            document = d.produce_document("invoice-standard", "peppol-ubl-3.0.19")
    finally:
        fake.close()
    assert answer.accepted is None and not answer.unreachable
    assert "Content-Type text/plain" in (answer.api_problem or "")
    assert document.document == b'{"accepted": "yes"}'  # the body is handed over for judgement
    assert "Content-Type text/plain" in (document.api_problem or "")
    # the token went over the wire, and is redacted from the evidence
    assert any(b"tok-123456" in r for r in fake.requests)
    assert all(b"tok-123456" not in x.data for x in answer.exchange + document.exchange)


# -- embedded ------------------------------------------------------------------------------------


def test_make_driver_for_the_reference_participant_starts_it_on_first_use(runtime: LocalRuntime) -> None:
    participant = load_participant(reference_participant_path())
    before = len(runtime.endpoints)
    driver = make_driver(participant, runtime)
    assert isinstance(driver, EmbeddedDriver) and len(runtime.endpoints) == before
    result = driver.produce_document("pint-sg-gst", "pint-sg-ubl-1.4.1")
    assert result.document and result.api_problem is None
    assert len(runtime.endpoints) == before + 1
    facts = driver.describe()
    assert facts["variant"] == "good" and facts["runtime"] == "local"
    assert facts["base_url"].startswith("http://127.0.0.1:") and facts["health"]["status"] == 200
    assert Path(facts["log"]).is_file()
    driver.close()


def test_embedded_variant_is_the_one_started(runtime: LocalRuntime, tmp_path: Path) -> None:
    participant = load_participant(participant_file(tmp_path, 'kind = "embedded"\nvariant = "accepts-invalid-inbound"'))
    with make_driver(participant, runtime) as driver:
        answer = driver.deliver_inbound(b"<not-even-ubl/>")
    assert answer.accepted is True  # the fault of that variant


def test_embedded_start_failure_is_an_unreachable_result(tmp_path: Path) -> None:
    runtime = LocalRuntime(log_dir=tmp_path, python=str(tmp_path / "no-python-here"))
    driver = EmbeddedDriver(runtime)
    result = driver.produce_document("invoice-standard", "peppol-ubl-3.0.19")
    again = driver.deliver_inbound(INVOICE)
    assert result.unreachable and again.unreachable
    assert "the embedded reference participant did not start" in (result.error or "")
    assert driver.describe()["error"] == result.error


def test_embedded_needs_a_runtime() -> None:
    with pytest.raises(ConfigError, match="needs an endpoint runtime"):
        make_driver(load_participant(reference_participant_path()))


# -- folder --------------------------------------------------------------------------------------


def test_folder_driver_reads_documents_and_reports_missing_ones(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "peppol-ubl-3.0.19").mkdir(parents=True)
    (docs / "peppol-ubl-3.0.19" / "credit-note.xml").write_bytes(b"<CreditNote/>")
    (docs / "invoice-standard.xml").write_bytes(INVOICE)
    participant = load_participant(participant_file(tmp_path, 'kind = "folder"\nfolder = "docs"', roles='["sender"]'))
    driver = make_driver(participant)
    assert isinstance(driver, FolderDriver)
    assert driver.produce_document("credit-note", "peppol-ubl-3.0.19").document == b"<CreditNote/>"
    found = driver.produce_document("invoice-standard", "peppol-ubl-3.0.19")
    assert found.document == INVOICE and found.exchange[0].data == INVOICE
    missing = driver.produce_document("vat-K", "peppol-ubl-3.0.19")
    assert missing.document is None and missing.no_traffic and not missing.unreachable
    assert "vat-K.xml" in (missing.error or "")
    inbound = driver.deliver_inbound(INVOICE)
    assert inbound.no_traffic and inbound.accepted is None
    assert driver.describe()["documents"] == ["invoice-standard.xml", "peppol-ubl-3.0.19/credit-note.xml"]


# -- prompt --------------------------------------------------------------------------------------


def test_prompt_without_terminal_is_no_traffic_at_once(tmp_path: Path) -> None:
    participant = load_participant(participant_file(tmp_path, 'kind = "prompt"\ntimeout = 600'))
    driver = make_driver(participant)
    assert isinstance(driver, PromptDriver)
    assert driver.folder == tmp_path / "conformance-inbox"  # the default, next to the file
    started = time.monotonic()
    result = driver.produce_document("invoice-standard", "peppol-ubl-3.0.19")  # pytest: stdin is no TTY
    answer = driver.deliver_inbound(INVOICE)
    assert time.monotonic() - started < 1
    assert result.no_traffic and result.document is None and "no terminal" in (result.error or "")
    assert answer.no_traffic and answer.accepted is None


def test_prompt_with_a_person_waits_for_the_document(tmp_path: Path) -> None:
    out = io.StringIO()
    driver = PromptDriver(tmp_path, timeout=10, interactive=True, out=out, poll_interval=0.05)
    target = tmp_path / "peppol-ubl-3.0.19" / "invoice-standard.xml"

    def person() -> None:
        time.sleep(0.3)
        target.write_bytes(INVOICE)

    threading.Thread(target=person).start()
    result = driver.produce_document("invoice-standard", "peppol-ubl-3.0.19")
    assert result.document == INVOICE and not result.no_traffic
    assert str(target) in out.getvalue() and "Waiting up to 10 s" in out.getvalue()


def test_prompt_times_out_as_no_traffic(tmp_path: Path) -> None:
    driver = PromptDriver(tmp_path, timeout=0.3, interactive=True, out=io.StringIO(), poll_interval=0.05)
    result = driver.produce_document("vat-G", "peppol-ubl-3.0.19")
    assert result.no_traffic and "within 0.3 s" in (result.error or "")


def test_prompt_inbound_reads_the_decision_file(tmp_path: Path) -> None:
    out = io.StringIO()
    driver = PromptDriver(tmp_path, timeout=10, interactive=True, out=out, poll_interval=0.05)

    def person() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            docs = list((tmp_path / "inbound").glob("*.xml")) if (tmp_path / "inbound").is_dir() else []
            if docs:
                decision = docs[0].with_suffix(".decision.json")
                decision.write_text(json.dumps({"accepted": False, "rule_ids": ["BR-CO-15"], "message": "totals"}))
                return
            time.sleep(0.05)

    threading.Thread(target=person).start()
    answer = driver.deliver_inbound(INVOICE)
    assert answer.accepted is False and answer.rule_ids == ("BR-CO-15",) and answer.message == "totals"
    assert "decision.json" in out.getvalue()


def test_prompt_inbound_decision_with_wrong_shape_is_an_api_problem(tmp_path: Path) -> None:
    driver = PromptDriver(tmp_path, timeout=2, interactive=True, out=io.StringIO(), poll_interval=0.05)
    inbox = tmp_path / "inbound"
    inbox.mkdir()
    import hashlib

    digest = hashlib.sha256(INVOICE).hexdigest()[:16]
    (inbox / f"{digest}.decision.json").write_text('{"accepted": "no"}')
    answer = driver.deliver_inbound(INVOICE)
    assert answer.accepted is None
    assert "at accepted: 'no' is not of type 'boolean'" in (answer.api_problem or "")
    assert "'rule_ids' is a required property" in (answer.api_problem or "")
