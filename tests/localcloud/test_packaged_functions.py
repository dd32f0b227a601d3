"""The stack's packaging runs in the emulator as in Lambda: the one code asset every function
ships (``payment_core``), the layer of third-party packages, and a function's handler string
``payment_core.handlers.<function>.handler``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from payment_core import contract
from payment_core.tenancy.merchants import MerchantDirectory
from payment_core.tenancy.secret_keys import SecretKey, new_secret_key, secret_digest

from tests.localcloud.packaged import create_packaged_function


def test_the_authorizer_runs_from_the_shared_code_asset_and_the_layer(
    aws: Callable[[str], Any], role_arn: str, table: str, unique: str
) -> None:
    # The test table's key is the merchants table's ("pk", a string): the authorizer reads it.
    secret, now = new_secret_key(), datetime.now(UTC)
    key = SecretKey("key_1", secret_digest(secret), now, now + timedelta(days=1))
    MerchantDirectory(aws("dynamodb"), table).onboard("m-1", "standard", "u" * 40, "key-id-1", key)
    function_arn = create_packaged_function(
        aws("lambda"), role_arn, contract.AUTHORIZER, unique, {contract.MERCHANTS_TABLE_NAME: table}, timeout=30
    )
    method_arn = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/payments"

    def authorize(key: str) -> dict[str, Any]:
        headers = {contract.CREDENTIAL_HEADER: f"Bearer {key}"}
        event = {"type": "REQUEST", "methodArn": method_arn, "headers": headers}
        response = aws("lambda").invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
        assert "FunctionError" not in response, response["Payload"].read()
        answer: dict[str, Any] = json.loads(response["Payload"].read())
        return answer

    refused = authorize(new_secret_key())
    assert refused["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    allowed = authorize(secret)
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert allowed["context"]["merchant_id"] == "m-1"
