"""The control API contract (``harness/data/control-api.openapi.yaml``) as code.

Paths, and :func:`response_problem`, which says whether an answer is one the OpenAPI document
allows (status code defined for the operation, Content-Type one the status defines, JSON body valid
against the operation's schema). This is how BIS-API-001 is judged, by the drivers and by the
harness's own tests of the reference participant.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

API_ROOT = "/conformance/v1"
HEALTH = f"{API_ROOT}/health"
PEPPOL_DOCUMENTS = f"{API_ROOT}/peppol-bis/documents"
PEPPOL_INBOUND = f"{API_ROOT}/peppol-bis/inbound"
SMP_PUBLISH = f"{API_ROOT}/peppol-smp/participants"
SMP_LOOKUP = f"{API_ROOT}/peppol-smp/lookup"
PROBLEM_MEDIA_TYPE = "application/problem+json"


@lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    """The OpenAPI 3.1 document shipped in the package, parsed."""
    import yaml

    text = resources.files("harness").joinpath("data/control-api.openapi.yaml").read_text("utf-8")
    spec: dict[str, Any] = yaml.safe_load(text)
    return spec


def operation(method: str, path: str) -> dict[str, Any]:
    """The OpenAPI operation object of ``method path``; KeyError if the contract has none."""
    op: dict[str, Any] = load_spec()["paths"][path][method.lower()]
    return op


def schema_of(ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    """A standalone JSON Schema (draft 2020-12) for an OpenAPI schema object (``$ref`` resolvable)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": load_spec()["components"],
        **ref_or_schema,
    }


def join_url(base_url: str, path: str) -> str:
    """``base_url`` + ``path`` where path starts with ``/conformance/v1``; a base URL that
    already ends in ``/conformance/v1`` (as in DESIGN.md's example) is not doubled."""
    base = base_url.rstrip("/")
    if base.endswith(API_ROOT) and path.startswith(API_ROOT):
        base = base[: -len(API_ROOT)]
    return base + path


def media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def response_problem(
    method: str, path: str, status: int, content_type: str | None, body: bytes
) -> str | None:
    """``None`` if the contract allows this answer to ``method path``; else what is wrong."""
    op = operation(method, path)
    responses: dict[str, Any] = op["responses"]
    name = f"{method.upper()} {path}"
    spec_response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if spec_response is None:
        return f"{name} answered HTTP {status}, which the control API does not define (defined: {', '.join(responses)})"
    content: dict[str, Any] = spec_response.get("content", {})
    if not content:
        return None
    got = media_type(content_type)
    if got not in content:
        return (
            f"{name} answered HTTP {status} with Content-Type {content_type or '(none)'};"
            f" the control API defines {', '.join(content)} for it"
        )
    schema = content[got].get("schema")
    if got.endswith("json"):
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return f"{name} answered HTTP {status} with a body that is not JSON ({exc})"
        if schema:
            problem = json_problem(schema, value)
            if problem:
                return f"{name} answered HTTP {status} with JSON the control API does not allow: {problem}"
        return None
    if schema and schema.get("minLength") and not body:
        return f"{name} answered HTTP {status} with an empty body"
    return None


def json_problem(schema: dict[str, Any], value: Any) -> str | None:
    """How ``value`` breaks ``schema`` (an OpenAPI schema object; first three ways), or ``None``."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema_of(schema))
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    shown = [f"at {'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors[:3]]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(shown) + more
