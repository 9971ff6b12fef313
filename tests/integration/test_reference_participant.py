"""The reference participant behind the control API, started as `conformance serve` through the local
runtime and driven over HTTP; every answer is checked against the shipped OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.drivers import control_api
from harness.drivers.http import HttpDriver
from harness.peppol.inspect import document_facts
from harness.peppol.judge import rule_ids_named
from harness.peppol.mutations import get_mutation, mutations_for
from harness.peppol.rulesets import expand
from harness.peppol.scenarios import build_document, check_document, scenarios_for
from harness.peppol.validation import get_validator
from harness.reference.peppol_participant import REFERENCE_RULESETS
from harness.runtime.base import RunningEndpoint
from harness.runtime.local import LocalRuntime

CASES = [(rs, s.id) for rs in REFERENCE_RULESETS for s in scenarios_for(rs)]
TOKEN = "reference-token-5d1e"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    with LocalRuntime(log_dir=tmp_path_factory.mktemp("endpoint-logs")) as rt:
        yield rt


@pytest.fixture(scope="module")
def endpoint(runtime: LocalRuntime) -> RunningEndpoint:
    return runtime.start("peppol-participant")


@pytest.fixture(scope="module")
def client(endpoint: RunningEndpoint) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=endpoint.base_url, timeout=120, trust_env=False) as c:
        yield c


@pytest.fixture(scope="module")
def driver(endpoint: RunningEndpoint) -> Iterator[HttpDriver]:
    with HttpDriver(endpoint.base_url, timeout=120, trust_env=False) as d:
        yield d


def contract(method: str, path: str, response: httpx.Response) -> str | None:
    return control_api.response_problem(
        method, path, response.status_code, response.headers.get("content-type"), response.content
    )


def test_health_answers_per_contract(client: httpx.Client) -> None:
    response = client.get(control_api.HEALTH)
    assert response.status_code == 200
    assert contract("GET", control_api.HEALTH, response) is None
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(("ruleset", "scenario"), CASES, ids=[f"{r}-{s}" for r, s in CASES])
def test_document_for_every_scenario_is_that_scenario_and_valid(
    driver: HttpDriver, ruleset: str, scenario: str
) -> None:
    result = driver.produce_document(scenario, ruleset)
    assert result.error is None and result.api_problem is None
    assert result.status == 200 and result.document
    validation = get_validator().validate(result.document, name=f"{scenario}.xml", rulesets=expand([ruleset]))
    assert validation.error is None
    assert [a for a in validation.failed_asserts if a.flag != "warning"] == []
    assert validation.valid
    assert check_document(scenario, ruleset, document_facts(result.document)) == ()


def test_the_same_request_gives_the_same_document(driver: HttpDriver) -> None:
    a = driver.produce_document("invoice-standard", "peppol-ubl-3.0.19").document
    b = driver.produce_document("invoice-standard", "peppol-ubl-3.0.19").document
    assert a is not None and a == b


def test_unknown_scenario_is_a_422_problem(client: httpx.Client) -> None:
    response = client.post(control_api.PEPPOL_DOCUMENTS, json={"scenario": "no-such", "ruleset": "peppol-ubl-3.0.19"})
    assert response.status_code == 422
    assert response.headers["content-type"] == control_api.PROBLEM_MEDIA_TYPE
    assert contract("POST", control_api.PEPPOL_DOCUMENTS, response) is None
    assert "no-such" in response.json()["detail"]


def test_scenario_of_another_rule_set_is_a_422_problem(client: httpx.Client) -> None:
    response = client.post(control_api.PEPPOL_DOCUMENTS, json={"scenario": "pint-sg-gst", "ruleset": "peppol-ubl-3.0.19"})
    assert response.status_code == 422
    assert contract("POST", control_api.PEPPOL_DOCUMENTS, response) is None


def test_unsupported_rule_set_is_a_422_problem(client: httpx.Client) -> None:
    response = client.post(control_api.PEPPOL_DOCUMENTS, json={"scenario": "invoice-standard", "ruleset": "cen-cii-1.3.16"})
    assert response.status_code == 422
    assert "not supported" in response.json()["detail"]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"scenario": "invoice-standard"}', b'{"scenario": 1, "ruleset": "x"}'])
def test_malformed_document_request_is_a_400_problem(client: httpx.Client, body: bytes) -> None:
    response = client.post(control_api.PEPPOL_DOCUMENTS, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert contract("POST", control_api.PEPPOL_DOCUMENTS, response) is None


@pytest.mark.parametrize(("ruleset", "scenario"), CASES, ids=[f"{r}-{s}" for r, s in CASES])
def test_valid_inbound_document_is_accepted(driver: HttpDriver, ruleset: str, scenario: str) -> None:
    result = driver.deliver_inbound(build_document(scenario, ruleset, seed=11))
    assert result.api_problem is None and result.error is None
    assert result.accepted is True, result.message
    assert result.rule_ids == ()


def mutated_cases() -> list[tuple[str, str]]:
    return [(rs, m.id) for rs in REFERENCE_RULESETS for m in mutations_for(rs)]


@pytest.mark.parametrize(("ruleset", "mutation_id"), mutated_cases(), ids=[f"{r}-{m}" for r, m in mutated_cases()])
def test_invalid_inbound_document_is_rejected_naming_a_broken_rule(
    driver: HttpDriver, ruleset: str, mutation_id: str
) -> None:
    from harness.peppol.cases import mutated_document

    document = mutated_document(mutation_id, ruleset, seed=11)
    declared = get_mutation(mutation_id).declared
    result = driver.deliver_inbound(document)
    assert result.api_problem is None and result.error is None
    assert result.accepted is False
    assert rule_ids_named(result.rule_ids) & rule_ids_named(declared), (result.rule_ids, sorted(declared))
    assert result.message.startswith("rejected: ")


@pytest.mark.parametrize(
    "document",
    [b"", b"<Invoice", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", b"<note>hello</note>"],
    ids=["empty", "malformed", "doctype", "not-ubl"],
)
def test_unreadable_inbound_document_is_rejected_not_a_crash(driver: HttpDriver, document: bytes) -> None:
    result = driver.deliver_inbound(document)
    assert result.api_problem is None and result.error is None
    assert result.accepted is False
    assert result.message


def test_not_ubl_rejection_names_the_schema(driver: HttpDriver) -> None:
    result = driver.deliver_inbound(b"<note>hello</note>")
    assert "XSD" in result.rule_ids


def test_unknown_path_is_a_problem(client: httpx.Client) -> None:
    response = client.get("/conformance/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == control_api.PROBLEM_MEDIA_TYPE


def test_exchange_is_recorded_as_http_messages(driver: HttpDriver, endpoint: RunningEndpoint) -> None:
    result = driver.produce_document("credit-note", "peppol-ubl-3.0.19")
    request, response = result.exchange
    assert request.media_type == response.media_type == "message/http"
    assert request.data.startswith(b"POST /conformance/v1/peppol-bis/documents HTTP/1.1\r\n")
    assert json.loads(request.data.split(b"\r\n\r\n", 1)[1]) == {"scenario": "credit-note", "ruleset": "peppol-ubl-3.0.19"}
    assert response.data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert response.data.endswith(result.document or b"-")


# -- bearer token ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(runtime: LocalRuntime) -> RunningEndpoint:
    return runtime.start("peppol-participant", token=TOKEN)


def test_token_is_required_when_configured(guarded: RunningEndpoint) -> None:
    with httpx.Client(base_url=guarded.base_url, trust_env=False, timeout=60) as c:
        assert c.get(control_api.HEALTH).status_code == 200  # the health check is open
        response = c.post(control_api.PEPPOL_DOCUMENTS, json={"scenario": "invoice-standard", "ruleset": "peppol-ubl-3.0.19"})
        assert response.status_code == 401
        assert contract("POST", control_api.PEPPOL_DOCUMENTS, response) is None
        wrong = c.post(control_api.PEPPOL_INBOUND, content=b"<x/>", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401


def test_driver_with_token_is_let_in_and_token_is_redacted(guarded: RunningEndpoint) -> None:
    with HttpDriver(guarded.base_url, token=TOKEN, trust_env=False, timeout=60) as d:
        result = d.produce_document("invoice-standard", "peppol-ubl-3.0.19")
    assert result.document and result.error is None
    for record in result.exchange:
        assert TOKEN.encode() not in record.data
    assert b"Authorization: Bearer [REDACTED]" in result.exchange[0].data.replace(b"authorization", b"Authorization")


def test_driver_with_wrong_token_cannot_drive(guarded: RunningEndpoint) -> None:
    with HttpDriver(guarded.base_url, token="wrong-token", trust_env=False, timeout=60) as d:
        result = d.produce_document("invoice-standard", "peppol-ubl-3.0.19")
    assert result.document is None and result.unreachable
    assert "refused the harness's credentials (HTTP 401" in (result.error or "")
    assert all(b"wrong-token" not in r.data for r in result.exchange)


def test_endpoint_log_is_kept(endpoint: RunningEndpoint) -> None:
    assert endpoint.log_path is not None
    assert Path(endpoint.log_path).is_file()
