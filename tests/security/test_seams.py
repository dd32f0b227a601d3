"""The seams stay code: lib/ depends on nothing below it, and the facts it shares with the
handlers (index names, S3 prefixes) are written once, in the contract."""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from payment_core import contract
from payment_core.api.requests import IDEMPOTENCY_HEADER
from payment_core.errors import InvalidRequest
from payment_core.payments.currency_limits import CurrencyLimits
from payment_core.payments.validation import payment_request
from payment_core.rules import BusinessRules

from testkit.account import create_tables
from testkit.environment import HANDLER_ENVIRONMENT, REGION, TABLES
from testkit.handlers import load_handler
from tests.unit.synth import SynthesizedStack

ROOT = Path(__file__).resolve().parents[2]


def _string_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def _shared_facts(stack: SynthesizedStack) -> set[str]:
    """Every index name and S3 prefix/suffix the synthesized stack carries."""
    indexes = {
        index["name"]
        for table in stack.resources("aws_dynamodb_table").values()
        for index in table.get("global_secondary_index", [])
    }
    (notification,) = stack.resources("aws_s3_bucket_notification").values()
    filters = {
        value
        for target in notification["lambda_function"]
        for value in (target["filter_prefix"], target["filter_suffix"])
    }
    # IAM scopes inside the bucket: "${aws_s3_bucket.<id>.arn}/<prefix>*".
    # (Only the bucket's: a table's "<arn>/stream/*" is AWS's ARN format, not a shared fact.)
    scoped = set(re.findall(r"aws_s3_bucket\.[A-Za-z0-9_]+\.arn\}/([a-z0-9-]+/)\*", stack.text))
    return indexes | filters | scoped


def test_lib_imports_nothing_below_it() -> None:
    found = subprocess.run(
        ["git", "grep", "-nE", r"^(from|import) (localcloud|scripts|demo|bench|tests)", "--", "lib/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert found.returncode == 1, found.stdout  # 1: no match


def test_shared_facts_are_literals_of_the_contract_only(dev: SynthesizedStack) -> None:
    facts = _shared_facts(dev)
    # merchant-created-index and open-payments-index; incoming/ and .csv (trigger); incoming/,
    # reports/ and batch-work/ (IAM scopes).
    assert len(facts) == 6, facts
    assert facts <= _string_literals(Path(contract.__file__))
    in_lib = {
        str(path.relative_to(ROOT)): sorted(facts & _string_literals(path)) for path in (ROOT / "lib").rglob("*.py")
    }
    assert {path: literals for path, literals in in_lib.items() if literals} == {}


# --- Step names, request limits, headers, table keys: each written once, in the contract ----

# Literals that may appear only in the contract: the request patterns and the header name. (The
# step names and key attribute names are also ordinary words and field names, so they are
# checked where they are used as such below, not as bare literals.)
CONTRACT_ONLY_LITERALS = {
    contract.IDEMPOTENCY_KEY_HEADER,
    contract.MERCHANT_ID_PATTERN,
    contract.PAYMENT_ID_PATTERN,
    contract.CURRENCY_PATTERN,
    contract.AMOUNT_PATTERN,
    contract.MERCHANT_ID_PATTERN.strip("^$"),  # the same pattern, unanchored
}
SEAM_SOURCES = ("lib", "lambda/payment_core", "testkit")


def _sources() -> list[Path]:
    contract_file = Path(contract.__file__).resolve()
    return [path for top in SEAM_SOURCES for path in (ROOT / top).rglob("*.py") if path.resolve() != contract_file]


def _steps_written_as_literals(path: Path) -> list[str]:
    """Where a step name is sent (``{"step": "..."}``) or matched (``step == "..."``) as a literal."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "step" and isinstance(value, ast.Constant):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} step={value.value!r}")
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Call | ast.Name):
            left = ast.unparse(node.left)
            if "step" in left and any(isinstance(each, ast.Constant) for each in node.comparators):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_request_patterns_and_headers_are_literals_of_the_contract_only() -> None:
    found = {
        str(path.relative_to(ROOT)): sorted(CONTRACT_ONLY_LITERALS & _string_literals(path)) for path in _sources()
    }
    assert {path: literals for path, literals in found.items() if literals} == {}


def test_no_step_name_is_sent_or_matched_as_a_literal() -> None:
    assert [hit for path in _sources() for hit in _steps_written_as_literals(path)] == []


def _machine_steps(stack: SynthesizedStack, start_state: str) -> set[str]:
    (definition,) = (
        machine["definition"]
        for machine in stack.resources("aws_sfn_state_machine").values()
        if f'\\"StartAt\\" = \\"{start_state}\\"' in json.dumps(machine["definition"])
    )
    return set(re.findall(r'"step" = "([a-z_]+)"', definition))


def test_the_state_machines_and_the_handlers_dispatch_the_contracts_steps(
    dev: SynthesizedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in HANDLER_ENVIRONMENT.items():  # the handler module's Powertools read them at import
        monkeypatch.setenv(name, value)
    from payment_core.batch.workflow import STEPS as BATCH_STEPS

    workflow_steps = load_handler(contract.WORKFLOW).STEPS
    assert _machine_steps(dev, "Kind") == set(contract.WORKFLOW_STEPS) == set(workflow_steps)
    assert _machine_steps(dev, "Plan") == set(contract.BATCH_FILE_STEPS) == set(BATCH_STEPS)


def test_the_api_model_and_the_handler_share_every_request_limit(dev: SynthesizedStack) -> None:
    model = dev.named("aws_api_gateway_model", "name", "CreatePayment")
    properties = json.loads(model["schema"])["properties"]
    assert properties["merchant_id"]["pattern"] == contract.MERCHANT_ID_PATTERN
    assert properties["amount"]["pattern"] == contract.AMOUNT_PATTERN
    assert properties["currency"]["pattern"] == contract.CURRENCY_PATTERN
    assert properties["customer_ref"]["maxLength"] == contract.MAX_CUSTOMER_REF_LENGTH
    assert properties["description"]["maxLength"] == contract.MAX_DESCRIPTION_LENGTH
    # The handler takes exactly as much as the edge lets through, and no more.
    rules = BusinessRules(CurrencyLimits.parse("USD=100", frozenset({"USD"})), frozenset({"USD"}))
    longest = {"merchant_id": "m" * 64, "amount": "1.00", "currency": "USD", "customer_ref": "c" * 128}
    accepted = payment_request(longest | {"description": "d" * contract.MAX_DESCRIPTION_LENGTH}, rules)
    assert accepted.description is not None and len(accepted.description) == contract.MAX_DESCRIPTION_LENGTH
    for field, too_long in (
        ("description", "d" * (contract.MAX_DESCRIPTION_LENGTH + 1)),
        ("customer_ref", "c" * (contract.MAX_CUSTOMER_REF_LENGTH + 1)),
        ("merchant_id", "m" * 65),
    ):
        with pytest.raises(InvalidRequest) as refused:
            payment_request(longest | {field: too_long}, rules)
        assert refused.value.field == field


def test_the_api_requires_the_idempotency_header_the_handler_reads(dev: SynthesizedStack) -> None:
    required = {
        name
        for method in dev.resources("aws_api_gateway_method").values()
        for name, needed in (method.get("request_parameters") or {}).items()
        if needed and name.startswith("method.request.header.")
    }
    assert required == {f"method.request.header.{contract.IDEMPOTENCY_KEY_HEADER}"}
    assert IDEMPOTENCY_HEADER == contract.IDEMPOTENCY_KEY_HEADER


def _declared_key(table: dict[str, Any]) -> tuple[str, str | None, set[tuple[str, str]]]:
    return table["hash_key"], table.get("range_key"), {(each["name"], each["type"]) for each in table["attribute"]}


def _contract_key(
    key: contract.KeySchema, *indexes: contract.KeySchema
) -> tuple[str, str | None, set[tuple[str, str]]]:
    attributes = {(each.name, each.type) for schema in (key, *indexes) for each in schema.attributes}
    return key.hash_key.name, key.range_key_name, attributes


def test_the_stack_and_the_test_account_key_every_table_as_the_contract_does(dev: SynthesizedStack) -> None:
    tables = dev.resources("aws_dynamodb_table")
    (api,) = (f for f in dev.resources("aws_lambda_function").values() if f["handler"].endswith(".api.handler"))
    variables = dict(api["environment"]["variables"])
    (ingest,) = (f for f in dev.resources("aws_lambda_function").values() if ".batch_ingest." in f["handler"])
    variables |= ingest["environment"]["variables"]
    (starter,) = (f for f in dev.resources("aws_lambda_function").values() if ".workflow_starter." in f["handler"])
    variables |= starter["environment"]["variables"]  # the start slots table's
    declared = {}
    for variable in contract.TABLE_KEYS:
        (table_id,) = re.findall(r"aws_dynamodb_table\.([^.]+)\.name", variables[variable])
        declared[variable] = _declared_key(tables[table_id])
    payment_indexes = {
        contract.MERCHANT_TIME_INDEX: contract.MERCHANT_TIME_INDEX_KEY,
        contract.OPEN_PAYMENTS_INDEX: contract.OPEN_PAYMENTS_INDEX_KEY,
    }
    expected = {
        variable: _contract_key(key, *(payment_indexes.values() if variable == contract.PAYMENTS_TABLE_NAME else ()))
        for variable, key in contract.TABLE_KEYS.items()
    }
    assert declared == expected
    (payments_id,) = re.findall(r"aws_dynamodb_table\.([^.]+)\.name", variables[contract.PAYMENTS_TABLE_NAME])
    indexes = {
        index["name"]: (index["hash_key"], index["range_key"])
        for index in tables[payments_id]["global_secondary_index"]
    }
    assert indexes == {name: (key.hash_key.name, key.range_key_name) for name, key in payment_indexes.items()}

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_tables(dynamodb)
        for variable in contract.TABLE_KEYS:
            described = dynamodb.describe_table(TableName=TABLES[variable])["Table"]
            kinds = {each["KeyType"]: each["AttributeName"] for each in described["KeySchema"]}
            attributes = {(each["AttributeName"], each["AttributeType"]) for each in described["AttributeDefinitions"]}
            assert (kinds["HASH"], kinds.get("RANGE"), attributes) == expected[variable], variable
