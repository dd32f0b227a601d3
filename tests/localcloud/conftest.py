"""One emulator for the whole localcloud suite (a server start costs ~1 s, a reset less)."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from localcloud import LocalCloud

REGION = "us-east-1"


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, interval: float = 0.2) -> Any:
    """Poll until ``condition()`` is truthy; return its value or fail the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path_factory.mktemp("localcloud-state")) as running:
        yield running


@pytest.fixture(scope="session")
def aws(cloud: LocalCloud) -> Callable[[str], Any]:
    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=cloud.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


@pytest.fixture(scope="session")
def role_arn(aws: Callable[[str], Any]) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = aws("iam").create_role(RoleName="localcloud-test", AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def table(aws: Callable[[str], Any], unique: str) -> str:
    name = f"items-{unique}"
    aws("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def create_function(aws: Callable[[str], Any], role_arn: str, unique: str) -> Callable[..., str]:
    """Create a python3.12 function from {filename: source}; return its ARN."""

    def create(
        files: dict[str, str],
        name: str | None = None,
        environment: dict[str, str] | None = None,
        layers: list[str] | None = None,
        timeout: int = 10,
    ) -> str:
        response = aws("lambda").create_function(
            FunctionName=name or f"fn-{unique}",
            Runtime="python3.12",
            Role=role_arn,
            Handler="handler.handler",
            Code={"ZipFile": make_zip(files)},
            Environment={"Variables": environment or {}},
            Layers=layers or [],
            Timeout=timeout,
            MemorySize=256,
        )
        return str(response["FunctionArn"])

    return create


def item(aws: Callable[[str], Any], table: str, key: str) -> dict[str, Any] | None:
    found = aws("dynamodb").get_item(TableName=table, Key={"pk": {"S": key}})
    return found.get("Item")


FIXTURES = Path(__file__).parent / "fixtures"
