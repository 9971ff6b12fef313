"""The shipped control API document is self-consistent and is what the reference app serves."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from harness.drivers import control_api
from harness.drivers.smp import SMP_UNPUBLISH


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
    assert set(spec["paths"]) == {
        control_api.HEALTH, control_api.PEPPOL_DOCUMENTS, control_api.PEPPOL_INBOUND,
        control_api.SMP_PUBLISH, SMP_UNPUBLISH, control_api.SMP_LOOKUP,
    }  # fmt: skip
    assert all(path.startswith("/conformance/v1/") for path in spec["paths"])
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids)) == 6
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


@pytest.mark.parametrize(
    "name",
    ["Health", "DocumentRequest", "InboundResult", "Problem", "Publication", "PublicationResult",
     "LookupRequest", "LookupResult"],
)
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
    documented = {
        (path, method.upper())
        for path, item in control_api.load_spec()["paths"].items()
        for method in item
        if not path.startswith("/conformance/v1/peppol-smp/")
    }
    assert documented <= served
    assert {(p, m) for p, m in served if m != "HEAD"} == documented


def test_reference_smp_apps_serve_the_documented_peppol_smp_operations() -> None:
    """The reference SMP answers publishParticipant (its management API is the embedded
    participant's); the reference lookup participant answers exactly health and lookupReceiver."""
    from starlette.routing import Route

    from harness.reference.smp import create_app, create_lookup_app

    spec = control_api.load_spec()["paths"]
    assert "post" in spec[control_api.SMP_PUBLISH] and "post" in spec[control_api.SMP_LOOKUP]
    assert "delete" in spec[SMP_UNPUBLISH]
    lookup = create_lookup_app()
    served = {(r.path, m) for r in lookup.routes if isinstance(r, Route) for m in r.methods or () if m != "HEAD"}
    assert served == {(control_api.HEALTH, "GET"), (control_api.SMP_LOOKUP, "POST")}
    smp = create_app().admin
    served = {(r.path, m) for r in smp.routes if isinstance(r, Route) for m in r.methods or ()}
    assert {(control_api.HEALTH, "GET"), (control_api.SMP_PUBLISH, "POST")} <= served
    # unpublishParticipant: the route's path parameter is the OpenAPI one (raw segment, see smp.py)
    assert (SMP_UNPUBLISH.replace("{participant}", "{participant:path}"), "DELETE") in served


def test_unpublish_participant_contract() -> None:
    """unpublishParticipant: 204 without a body, 404 / 401 / 400 as problems; nothing else."""
    op = control_api.operation("DELETE", SMP_UNPUBLISH)
    assert op["operationId"] == "unpublishParticipant"
    (param,) = op["parameters"]
    assert (param["name"], param["in"], param["required"]) == ("participant", "path", True)
    assert set(op["responses"]) == {"204", "400", "401", "404"}
    problem = b'{"title": "Not Found", "status": 404}'
    assert control_api.response_problem("DELETE", SMP_UNPUBLISH, 204, None, b"") is None
    for status in (400, 401, 404):
        ctype = control_api.PROBLEM_MEDIA_TYPE
        assert control_api.response_problem("DELETE", SMP_UNPUBLISH, status, ctype, problem) is None
    assert control_api.response_problem("DELETE", SMP_UNPUBLISH, 200, "text/plain", b"ok")
    assert control_api.response_problem("DELETE", SMP_UNPUBLISH, 404, "text/plain", b"no")


def test_lookup_request_schema_and_the_driver_agree(tmp_path: Any) -> None:
    """What the driver sends (``lookup_request_json``, every optional field given) is exactly
    what LookupRequest declares; ``smp_tls_trust_anchors`` is optional, non-empty when given."""
    from dataclasses import replace

    from harness.peppol.smp.client import LookupRequest
    from harness.peppol.smp.control import lookup_request_json
    from harness.peppol.smp.identifiers import (
        BIS_BILLING_INVOICE,
        BIS_BILLING_PROCESS,
        DocumentTypeIdentifier,
        ParticipantIdentifier,
        ProcessIdentifier,
    )  # fmt: skip
    from harness.peppol.smp.signing import TrustAnchors
    from harness.pki import init_pki

    pki = init_pki(tmp_path / "pki")
    spec = control_api.load_spec()["components"]["schemas"]["LookupRequest"]
    assert set(spec["required"]) <= set(spec["properties"])
    schema = control_api.operation("POST", control_api.SMP_LOOKUP)["requestBody"]["content"][
        "application/json"
    ]["schema"]
    request = LookupRequest(
        ParticipantIdentifier.peppol("0195:T08GB0001A"),
        DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE),
        "sml.conformance.test",
        "127.0.0.1:53",
        TrustAnchors((pki.authority("smp-ca").certificate,)),
        ("peppol-transport-as4-v2_0",),
        process=ProcessIdentifier.cenbii(BIS_BILLING_PROCESS),
        smp_crls=(pki.crl("smp-ca"),),
        smp_tls_trust_anchors=(pki.root.certificate,),
    )
    body = lookup_request_json(request)
    assert set(body) == set(spec["properties"])
    assert control_api.json_problem(schema, body) is None
    assert body["smp_tls_trust_anchors"][0].startswith("-----BEGIN CERTIFICATE-----")
    assert "smp_tls_trust_anchors" not in lookup_request_json(
        replace(request, smp_tls_trust_anchors=None)
    )
    assert control_api.json_problem(schema, {**body, "smp_tls_trust_anchors": []})
    assert control_api.json_problem(schema, {**body, "transport_profiles": []})
