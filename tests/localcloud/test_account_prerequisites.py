"""The emulator refuses what a new AWS account refuses (evidence: localcloud/README.md, "Account prerequisites").

* API Gateway: logging on a stage needs the account's CloudWatch Logs role; the role must be one
  API Gateway can assume.
* Lambda: reservations must leave min(100, quota) executions unreserved; GetAccountSettings
  reports the quota the emulator was started with; unreserved invocations run within that quota.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud, LocalCloudError
from localcloud.account import DEFAULT_LAMBDA_CONCURRENCY_LIMIT, NEW_ACCOUNT_LAMBDA_CONCURRENCY_LIMIT
from tests.localcloud.conftest import REGION, make_zip
from tests.localcloud.test_warm_runtime import COUNTING_HANDLER, without_retries
from tests.localcloud.test_warm_runtime import _concurrent as concurrent_invokes

NO_ROLE = "CloudWatch Logs role ARN must be set in account settings to enable logging"
NOT_ASSUMABLE = "The role ARN does not have required permissions set to API Gateway"


def refused_below(minimum: int) -> str:
    return (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        f"UnreservedConcurrentExecution below its minimum value of [{minimum}]."
    )


def client_for(endpoint: str) -> Callable[[str], Any]:
    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


def trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def deployed_stage(apigw: Any, name: str) -> str:
    api_id = str(apigw.create_rest_api(name=name)["id"])
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigw.create_deployment(restApiId=api_id)["id"]
    apigw.create_stage(restApiId=api_id, stageName="live", deploymentId=deployment)
    return api_id


ACCESS_LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:access"
ACCESS_LOGS = [
    {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": ACCESS_LOG_GROUP},
    {"op": "replace", "path": "/accessLogSettings/format", "value": '{"requestId":"$context.requestId"}'},
]
EXECUTION_LOGS_INFO = [{"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}]
EXECUTION_LOGS_OFF = [{"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"}]


@pytest.fixture(scope="module")
def new_account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Any]]:
    """An emulator of its own: this module sets the account's role, which other tests must not see."""
    state = tmp_path_factory.mktemp("new-account")
    with LocalCloud(state, lambda_concurrency_limit=NEW_ACCOUNT_LAMBDA_CONCURRENCY_LIMIT) as cloud:
        yield client_for(cloud.endpoint)


def test_stage_logging_is_refused_until_the_account_has_a_cloudwatch_role(new_account: Callable[[str], Any]) -> None:
    apigw, iam = new_account("apigateway"), new_account("iam")
    api_id = deployed_stage(apigw, "logs")
    assert apigw.get_account().get("cloudwatchRoleArn") is None

    for operations in (ACCESS_LOGS, EXECUTION_LOGS_INFO):
        with pytest.raises(ClientError) as refused:
            apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=operations)
        assert refused.value.response["Error"] == {"Code": "BadRequestException", "Message": NO_ROLE}
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Logging off needs no role.
    apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=EXECUTION_LOGS_OFF)

    # A role API Gateway cannot assume (missing, or trusting another service) is refused.
    lambda_role = iam.create_role(RoleName="not-for-apigw", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))
    for role_arn in ("arn:aws:iam::123456789012:role/missing", lambda_role["Role"]["Arn"]):
        with pytest.raises(ClientError) as not_assumable:
            apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}])
        assert not_assumable.value.response["Error"] == {"Code": "BadRequestException", "Message": NOT_ASSUMABLE}
    assert apigw.get_account().get("cloudwatchRoleArn") is None

    role = iam.create_role(RoleName="apigw-cloudwatch", AssumeRolePolicyDocument=trust("apigateway.amazonaws.com"))
    role_arn = role["Role"]["Arn"]
    apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}])

    assert apigw.get_account()["cloudwatchRoleArn"] == role_arn
    apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=ACCESS_LOGS + EXECUTION_LOGS_INFO)
    stage = apigw.get_stage(restApiId=api_id, stageName="live")
    assert stage["accessLogSettings"]["destinationArn"] == ACCESS_LOGS[0]["value"]
    assert stage["methodSettings"]["*/*"]["loggingLevel"] == "INFO"


def test_a_new_account_reserves_nothing_and_reports_its_quota(new_account: Callable[[str], Any]) -> None:
    lam, iam = new_account("lambda"), new_account("iam")
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))["Role"]["Arn"]
    lam.create_function(
        FunctionName="reserving",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": "def handler(e, c):\n    return 1\n"})},
    )

    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == NEW_ACCOUNT_LAMBDA_CONCURRENCY_LIMIT
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == NEW_ACCOUNT_LAMBDA_CONCURRENCY_LIMIT
    assert settings["AccountUsage"]["FunctionCount"] == 1
    # Below a quota of 100 the whole quota must stay unreserved: even 1 is refused, 0 is not.
    with pytest.raises(ClientError) as refused:
        lam.put_function_concurrency(FunctionName="reserving", ReservedConcurrentExecutions=1)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert refused.value.response["Error"]["Message"] == refused_below(NEW_ACCOUNT_LAMBDA_CONCURRENCY_LIMIT)
    assert "Concurrency" not in lam.get_function(FunctionName="reserving")
    lam.put_function_concurrency(FunctionName="reserving", ReservedConcurrentExecutions=0)
    assert lam.get_function_concurrency(FunctionName="reserving")["ReservedConcurrentExecutions"] == 0


def test_reservations_must_leave_100_unreserved(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "state", lambda_concurrency_limit=150) as cloud:
        lam, iam = client_for(cloud.endpoint)("lambda"), client_for(cloud.endpoint)("iam")
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))["Role"]["Arn"]
        for name in ("first", "second"):
            lam.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="handler.handler",
                Code={"ZipFile": make_zip({"handler.py": "def handler(e, c):\n    return 1\n"})},
            )

        lam.put_function_concurrency(FunctionName="first", ReservedConcurrentExecutions=30)
        # The function's own reservation is replaced, not added: 150 - 50 = 100 is allowed.
        lam.put_function_concurrency(FunctionName="first", ReservedConcurrentExecutions=50)
        assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
        with pytest.raises(ClientError) as refused:
            lam.put_function_concurrency(FunctionName="second", ReservedConcurrentExecutions=1)
        assert refused.value.response["Error"]["Message"] == refused_below(100)

        lam.delete_function_concurrency(FunctionName="first")
        lam.put_function_concurrency(FunctionName="second", ReservedConcurrentExecutions=50)
        assert lam.get_account_settings()["AccountLimit"] == {
            "TotalCodeSize": 75 * 1024**3,
            "CodeSizeUnzipped": 250 * 1024**2,
            "CodeSizeZipped": 50 * 1024**2,
            "ConcurrentExecutions": 150,
            "UnreservedConcurrentExecutions": 100,
        }


def test_the_default_quota_is_the_aws_default(aws: Callable[[str], Any]) -> None:
    limit = aws("lambda").get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
    assert limit == DEFAULT_LAMBDA_CONCURRENCY_LIMIT


def test_a_bad_quota_stops_the_emulator_at_start(tmp_path: Path) -> None:
    with pytest.raises(LocalCloudError, match="exited"):
        LocalCloud(tmp_path / "state", startup_timeout=30, lambda_concurrency_limit=0).start()
    assert (
        "LOCALCLOUD_LAMBDA_CONCURRENCY_LIMIT must be a whole number of at least 1, got '0'"
        in (tmp_path / "state" / "server.log").read_text()
    )


def test_a_service_quotas_increase_raises_the_lambda_quota(tmp_path: Path) -> None:
    with LocalCloud(tmp_path / "state", lambda_concurrency_limit=NEW_ACCOUNT_LAMBDA_CONCURRENCY_LIMIT) as cloud:
        quotas, lam = client_for(cloud.endpoint)("service-quotas"), client_for(cloud.endpoint)("lambda")
        code = {"ServiceCode": "lambda", "QuotaCode": "L-B99A9384"}
        assert quotas.get_service_quota(**code)["Quota"]["Value"] == 50.0
        with pytest.raises(ClientError) as not_higher:
            quotas.request_service_quota_increase(**code, DesiredValue=50.0)
        assert not_higher.value.response["Error"]["Code"] == "IllegalArgumentException"

        granted = quotas.request_service_quota_increase(**code, DesiredValue=1000.0)["RequestedQuota"]

        assert (granted["QuotaCode"], granted["DesiredValue"], granted["Status"]) == ("L-B99A9384", 1000.0, "APPROVED")
        assert quotas.get_service_quota(**code)["Quota"]["Value"] == 1000.0
        assert lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 1000


def test_unreserved_invocations_share_the_quota_as_raised(tmp_path: Path) -> None:
    """The quota PutFunctionConcurrency checks is the one invocations run under, raised or not."""
    with LocalCloud(tmp_path / "state", lambda_concurrency_limit=2) as cloud:
        client = client_for(cloud.endpoint)
        role = client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))
        arn = client("lambda").create_function(
            FunctionName="sleeper",
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="handler.handler",
            Code={"ZipFile": make_zip({"handler.py": COUNTING_HANDLER})},
        )["FunctionArn"]

        def throttle_reasons() -> list[str | None]:  # three at once: None when it ran, else the 429's Reason
            outcomes = concurrent_invokes(without_retries(cloud), arn, [{"sleep": 1.5}] * 3)
            return [o.response["Reason"] if isinstance(o, ClientError) else None for o in outcomes]

        on_two = throttle_reasons()
        client("service-quotas").request_service_quota_increase(
            ServiceCode="lambda", QuotaCode="L-B99A9384", DesiredValue=3.0
        )
        on_three = throttle_reasons()

    assert sorted(on_two, key=str) == sorted([None, None, "ConcurrentInvocationLimitExceeded"], key=str)
    assert on_three == [None, None, None]
