"""The published OpenAPI document: generated from the route table the stack is built from, never stale."""

from __future__ import annotations

import json

import jsonschema
from payment_core import api_contract, contract
from payment_core.api.errors import HTTP_ERRORS

from lib.gateway_responses import GATEWAY_ANSWERS
from lib.openapi import (
    DOCUMENT_PATH,
    GATEWAY_STATUSES,
    README_PATH,
    REGENERATE,
    TABLE_BEGIN,
    TABLE_END,
    document,
    main,
    render,
    routes_table,
)
from tests.unit.synth import SynthesizedStack


def test_the_committed_document_and_readme_table_are_the_generated_ones() -> None:
    assert main(["--check"]) == 0, f"docs/openapi.json or README.md is stale: run `{REGENERATE}` and commit them"
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == render(document())
    readme = README_PATH.read_text(encoding="utf-8")
    assert readme.count(TABLE_BEGIN) == readme.count(TABLE_END) == 1
    assert routes_table(document()) in readme


def test_the_check_mode_names_the_command_when_stale(tmp_path, monkeypatch, capsys) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(f"# API\n{TABLE_BEGIN}\n| old |\n{TABLE_END}\nmore\n", encoding="utf-8")
    monkeypatch.setattr("lib.openapi.DOCUMENT_PATH", stale)
    monkeypatch.setattr("lib.openapi.README_PATH", readme)
    assert main(["--check"]) == 1
    assert capsys.readouterr().err == (
        f"openapi.json is stale: run `{REGENERATE}` and commit it\n"
        f"README.md is stale: run `{REGENERATE}` and commit it\n"
    )
    assert main([]) == 0 and main(["--check"]) == 0
    assert readme.read_text(encoding="utf-8") == f"# API\n{routes_table(document())}\nmore\n"


def test_api_gateway_models_are_the_documents_request_bodies(dev: SynthesizedStack) -> None:
    """One schema object each: API Gateway validates with exactly what merchants are shown."""
    from lib.components.api import DRAFT_04

    schemas = document()["components"]["schemas"]
    models = {model["name"]: json.loads(model["schema"]) for model in dev.resources("aws_api_gateway_model").values()}
    assert set(models) == set(api_contract.REQUEST_MODELS)
    for name, model in models.items():
        assert model == {"$schema": DRAFT_04, "title": name, **schemas[name]}
        jsonschema.Draft4Validator.check_schema(model)


def test_every_route_of_the_contract_is_a_method_of_the_stack_and_no_other(dev: SynthesizedStack) -> None:
    def shape(verb: str, required: list[str], models: dict[str, str] | None) -> tuple[str, list[str], list[str]]:
        return verb, sorted(required), sorted(models or {})

    methods = sorted(
        shape(
            method["http_method"],
            [name for name, needed in (method.get("request_parameters") or {}).items() if needed],
            method.get("request_models"),
        )
        for method in dev.resources("aws_api_gateway_method").values()
    )
    routes = sorted(
        shape(
            route.method,
            [f"method.request.{p.gateway_location}.{p.name}" for p in route.parameters if p.required],
            {"application/json": route.request_model} if route.request_model else None,
        )
        for route in api_contract.ROUTES
    )
    assert methods == routes
    documented = [(verb.upper(), path) for path, operations in document()["paths"].items() for verb in operations]
    assert sorted(documented) == sorted((route.method, route.path) for route in api_contract.ROUTES)


def test_every_error_code_of_the_handler_and_the_gateway_is_documented() -> None:
    text = DOCUMENT_PATH.read_text(encoding="utf-8")
    documented = {
        code
        for path in json.loads(text)["paths"].values()
        for operation in path.values()
        for answer in operation["responses"].values()
        for code in answer["content"]["application/json"]["schema"]
        .get("properties", {})
        .get("error", {})
        .get("properties", {})
        .get("code", {})
        .get("enum", [])
    }
    assert documented == {answer.code for answer in HTTP_ERRORS.values()} | {
        answer.code for answer in GATEWAY_ANSWERS.values()
    }
    assert set(GATEWAY_STATUSES) == set(GATEWAY_ANSWERS)


def test_security_idempotency_and_version_are_declared() -> None:
    spec = document()
    assert spec["components"]["securitySchemes"] == {
        "secretKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "the merchant's secret key, `Authorization: Bearer sk_...`",
        }
    }
    assert spec["security"] == [{"secretKey": []}]
    create = spec["paths"]["/payments"]["post"]
    headers = {p["name"]: p for p in create["parameters"] if p["in"] == "header"}
    assert headers["Idempotency-Key"]["required"] is True
    assert headers[contract.API_VERSION_HEADER]["schema"]["enum"] == list(contract.API_VERSIONS)
    assert set(create["responses"]["202"]["headers"]) == {contract.API_VERSION_HEADER}
