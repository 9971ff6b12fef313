"""The shipped control API document is self-consistent and is what the reference app serves."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from harness.drivers import control_api


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_openapi_document_basics() -> None:
    spec = control_api.load_spec()
    assert spec["openapi"].startswith("3.1.")
    assert set(spec["paths"]) == {control_api.HEALTH, control_api.PEPPOL_DOCUMENTS, control_api.PEPPOL_INBOUND}
    assert all(path.startswith("/conformance/v1/") for path in spec["paths"])
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids)) == 3
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "The value of `driver.token` in the participant file."
    }


def test_every_ref_resolves() -> None:
    spec = control_api.load_spec()
    for ref in refs(spec):
        assert ref.startswith("#/")
        node: Any = spec
        for part in ref[2:].split("/"):
            node = node[part]
        assert isinstance(node, dict)


@pytest.mark.parametrize("name", ["Health", "DocumentRequest", "InboundResult", "Problem"])
def test_component_schemas_are_valid_json_schema(name: str) -> None:
    schema = control_api.schema_of({"$ref": f"#/components/schemas/{name}"})
    jsonschema.Draft202012Validator.check_schema(schema)


def test_inbound_result_examples_match_their_schema() -> None:
    content = control_api.operation("POST", control_api.PEPPOL_INBOUND)["responses"]["200"]["content"]["application/json"]
    for example in content["examples"].values():
        assert control_api.json_problem(content["schema"], example["value"]) is None


def test_reference_app_serves_exactly_the_documented_operations() -> None:
    from starlette.routing import Route

    from harness.reference.peppol_participant import create_app

    app = create_app(warm_up=False)
    served = {(route.path, method) for route in app.routes if isinstance(route, Route) for method in route.methods or ()}
    documented = {(path, method.upper()) for path, item in control_api.load_spec()["paths"].items() for method in item}
    assert documented <= served
    assert {(p, m) for p, m in served if m != "HEAD"} == documented
