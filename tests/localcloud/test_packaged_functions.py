"""The stack's packaging runs in the emulator as in Lambda: the one code asset every function
ships (``payment_core``), the layer of third-party packages, and a function's handler string
``payment_core.handlers.<function>.handler``."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from payment_core import contract
from payment_core.tenancy.merchants import MerchantDirectory

from lib.lambda_sources import handler_for
from lib.layer import function_code_dir, shared_layer_dir


def zip_tree(root: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, str(path.relative_to(root)))
    return buffer.getvalue()


def test_the_authorizer_runs_from_the_shared_code_asset_and_the_layer(
    aws: Callable[[str], Any], role_arn: str, table: str, unique: str
) -> None:
    # The test table's key is the merchants table's ("pk", a string): the authorizer reads it.
    api_key = "k" * 40
    MerchantDirectory(aws("dynamodb"), table).onboard("m-1", "standard", api_key, "key-id-1")
    layer = aws("lambda").publish_layer_version(
        LayerName=f"shared-{unique}",
        Content={"ZipFile": zip_tree(shared_layer_dir())},
        CompatibleRuntimes=["python3.12"],
    )
    function = aws("lambda").create_function(
        FunctionName=f"authorizer-{unique}",
        Runtime="python3.12",
        Role=role_arn,
        Handler=handler_for(contract.AUTHORIZER),
        Code={"ZipFile": zip_tree(function_code_dir())},
        Layers=[layer["LayerVersionArn"]],
        Environment={
            "Variables": {
                contract.MERCHANTS_TABLE_NAME: table,
                contract.POWERTOOLS_SERVICE_NAME: "payments",
                contract.POWERTOOLS_METRICS_NAMESPACE: "Payments",
                contract.POWERTOOLS_LOG_LEVEL: "INFO",
            }
        },
        Timeout=30,
        MemorySize=256,
    )
    method_arn = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/payments"

    def authorize(key: str | None) -> dict[str, Any]:
        event = {"type": "REQUEST", "methodArn": method_arn, "headers": {"x-api-key": key} if key else {}}
        response = aws("lambda").invoke(FunctionName=function["FunctionArn"], Payload=json.dumps(event).encode())
        assert "FunctionError" not in response, response["Payload"].read()
        answer: dict[str, Any] = json.loads(response["Payload"].read())
        return answer

    refused = authorize("not-a-key-of-anyone-here-0000000000000000")
    assert refused["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    allowed = authorize(api_key)
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert allowed["context"]["merchant_id"] == "m-1"
