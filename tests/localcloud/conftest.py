"""One emulator for the whole localcloud suite (a server start costs ~1 s, a reset less)."""

from __future__ import annotations

import io
import json
import subprocess
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

from localcloud import LocalCloud
from localcloud.provider import TEST_ACCESS_KEY, TEST_REGION, TEST_SECRET_KEY

if TYPE_CHECKING:
    from lib.components.batch_file_workflow import BatchFileWorkflowSpec

REGION = TEST_REGION
# What a Lambda execution role trusts: the Lambda service assumes it for the function.
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def make_zip(files: Mapping[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def run_command(
    command: Sequence[str], *, cwd: Path, timeout: float, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to its end, its output captured as text; the test judges its exit status."""
    return subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


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


def execution_result(sfn: Any, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
    """``DescribeExecution`` of ``execution_arn`` once it is no longer ``RUNNING``, or fail the test."""

    def ended() -> dict[str, Any] | None:
        described = dict(sfn.describe_execution(executionArn=execution_arn))
        return described if described["status"] != "RUNNING" else None

    result: dict[str, Any] = wait_for(ended, timeout=timeout, interval=0.25)
    return result


def clients(endpoint: str, config: Config | None = None) -> Callable[[str], Any]:
    """A client factory for the emulator at ``endpoint``, signed with the test credentials."""

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=TEST_ACCESS_KEY,
            aws_secret_access_key=TEST_SECRET_KEY,
            config=config,
        )

    return client


def create_items_table(dynamodb: Any, name: str, key: str = "pk") -> None:
    """An on-demand table keyed by the string ``key``: the tests' generic store."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def create_python_function(
    lambda_client: Any,
    name: str,
    role_arn: str,
    code: bytes,
    *,
    environment: Mapping[str, str] | None = None,
    layers: Sequence[str] = (),
    timeout: int = 10,
    memory_mb: int = 256,
) -> str:
    """A python3.12 function running ``handler.handler`` from the zip ``code``; returns its ARN."""
    response = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": code},
        Environment={"Variables": dict(environment or {})},
        Layers=list(layers),
        Timeout=timeout,
        MemorySize=memory_mb,
    )
    return str(response["FunctionArn"])


@contextmanager
def cloud_with_faults(state_dir: Path, seed: int, rates: Mapping[str, float]) -> Iterator[LocalCloud]:
    """An emulator of its own with LOCALCLOUD_FAULTS set: the switch is read once, at start."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCALCLOUD_FAULTS", json.dumps({"seed": seed, "rates": dict(rates)}))
        with LocalCloud(state_dir) as cloud:
            yield cloud


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path_factory.mktemp("localcloud-state")) as running:
        yield running


@pytest.fixture(scope="session")
def aws(cloud: LocalCloud) -> Callable[[str], Any]:
    return clients(cloud.endpoint)


@pytest.fixture(scope="session")
def role_arn(aws: Callable[[str], Any]) -> str:
    role = aws("iam").create_role(RoleName="localcloud-test", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    return str(role["Role"]["Arn"])


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def table(aws: Callable[[str], Any], unique: str) -> str:
    name = f"items-{unique}"
    create_items_table(aws("dynamodb"), name)
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
        return create_python_function(
            aws("lambda"),
            name or f"fn-{unique}",
            role_arn,
            make_zip(files),
            environment=environment,
            layers=layers or [],
            timeout=timeout,
        )

    return create


def item(aws: Callable[[str], Any], table: str, key: str) -> dict[str, Any] | None:
    found = aws("dynamodb").get_item(TableName=table, Key={"pk": {"S": key}})
    return found.get("Item")


def notify_of_uploads(s3: Any, bucket: str, function_arn: str, prefix: str = "incoming/", suffix: str = ".csv") -> None:
    """The bucket invokes the function for each object created under ``prefix`` ending in
    ``suffix`` (the stack's batch trigger: contract.BATCH_INCOMING_PREFIX, BATCH_FILE_SUFFIX)."""
    rules = {"FilterRules": [{"Name": "prefix", "Value": prefix}, {"Name": "suffix", "Value": suffix}]}
    trigger = {"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": rules}}
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [trigger]}
    )


def lambda_uri(function_arn: str) -> str:
    """What API Gateway calls to invoke ``function_arn`` (an integration's or authorizer's URI)."""
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def root_resource(apigw: Any, api_id: str) -> str:
    return str(next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/"))


def proxy_route(apigw: Any, api_id: str, resource: str, http_method: str, function_arn: str, **method: Any) -> None:
    """``http_method`` on ``resource`` (``method`` adds to put_method), proxied to the function (AWS_PROXY)."""
    apigw.put_method(restApiId=api_id, resourceId=resource, httpMethod=http_method, **method)
    apigw.put_integration(
        restApiId=api_id,
        resourceId=resource,
        httpMethod=http_method,
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=lambda_uri(function_arn),
    )


FIXTURES = Path(__file__).parent / "fixtures"


def local_batch_spec(function_arn: str, bucket: str) -> BatchFileWorkflowSpec:
    """The batch-file workflow as the emulator tests run it: short retries, 2 chunks at once."""
    # Here, not at the top: lib.components loads the AWS provider bindings (~10 CPU-s), which a
    # worker that runs no batch-file test should not pay for this conftest.
    from lib.components.batch_file_workflow import BatchFileWorkflowSpec, BatchRetry

    return BatchFileWorkflowSpec(
        function_arn=function_arn,
        bucket=bucket,
        partition="aws",
        max_concurrency=2,
        retry=BatchRetry(interval_seconds=1, backoff_rate=2.0, max_delay_seconds=4, max_attempts=2),
        chunk_retry_errors=("ChunkIncomplete", "ClaimContention"),
        chunk_progress_attempts=5,
        file_failed_error="BatchFileFailed",
        timeout_seconds=600,
        throttled_retry={
            "ErrorEquals": ["Lambda.TooManyRequestsException"],
            "IntervalSeconds": 1,
            "BackoffRate": 1.5,
            "MaxAttempts": 5,
            "MaxDelaySeconds": 2,
            "JitterStrategy": "FULL",
        },
    )


# Tests that mostly wait on a clock AWS sets (a rate schedule fires once a minute at the most
# often) run first: their wait then overlaps the other worker's CPU-bound tests, instead of
# ending the suite with one worker idle (test_scheduler waited ~61 s at the end of a run).
WAIT_BOUND_MODULES = ("test_scheduler.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Stable: the rest keep their order. Every xdist worker collects the same order.
    items.sort(key=lambda item: item.path.name not in WAIT_BOUND_MODULES)
