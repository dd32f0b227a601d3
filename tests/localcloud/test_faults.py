"""LOCALCLOUD_FAULTS: a planned fraction of our Lambda code's AWS calls fail as AWS throttles them."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.faults import (
    LAMBDA_ACCESS_KEY_ID,
    STATUS_PATH,
    FaultConfigError,
    FaultPlan,
    operation,
    parse,
    signer,
)
from tests.localcloud.conftest import LAMBDA_TRUST, clients, cloud_with_faults, create_items_table, make_zip


def test_an_unset_or_empty_switch_means_no_faults() -> None:
    assert parse(None).rates == {}
    assert parse("  ").rates == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{",
            "LOCALCLOUD_FAULTS is not JSON: Expecting property name enclosed in double quotes:"
            " line 1 column 2 (char 1)",
        ),
        ('{"seed": 1, "rate": {}}', 'LOCALCLOUD_FAULTS must be an object with keys "seed" and "rates"'),
        ('{"seed": "7"}', "LOCALCLOUD_FAULTS.seed must be an integer, got '7'"),
        ('{"rates": []}', "LOCALCLOUD_FAULTS.rates must be an object"),
        (
            '{"rates": {"StartExecution": 0.1}}',
            "LOCALCLOUD_FAULTS.rates key 'StartExecution' must be \"<service>:<Operation>\"",
        ),
        (
            '{"rates": {"lambda:Timeout:": 0.1}}',
            "LOCALCLOUD_FAULTS.rates key 'lambda:Timeout:' must be \"lambda:Timeout:<function>\"",
        ),
        (
            '{"rates": {"lambda:InitError:": 0.1}}',
            "LOCALCLOUD_FAULTS.rates key 'lambda:InitError:' must be \"lambda:InitError:<function>\"",
        ),
        (
            '{"rates": {"sqs:SendMessage": 1.5}}',
            "LOCALCLOUD_FAULTS.rates['sqs:SendMessage'] must be a number from 0 to 1, got 1.5",
        ),
        (
            '{"rates": {"sqs:SendMessage": true}}',
            "LOCALCLOUD_FAULTS.rates['sqs:SendMessage'] must be a number from 0 to 1, got True",
        ),
    ],
)
def test_a_bad_switch_is_refused_with_an_exact_message(text: str, message: str) -> None:
    with pytest.raises(FaultConfigError) as raised:
        parse(text)
    assert str(raised.value) == message


def _decisions(plan: FaultPlan, key: str, calls: int) -> list[bool]:
    return [plan.should_fail(key) for _ in range(calls)]


def test_decisions_are_deterministic_per_seed_and_near_the_rate() -> None:
    text = '{"seed": 7, "rates": {"states:StartExecution": 0.3}}'

    first = _decisions(parse(text), "states:StartExecution", 1000)
    again = _decisions(parse(text), "states:StartExecution", 1000)
    other_seed = _decisions(parse(text.replace("7", "8")), "states:StartExecution", 1000)

    assert first == again
    assert first != other_seed
    assert 250 <= sum(first) <= 350  # 0.3 of 1000, within about 3.5 standard deviations
    assert _decisions(parse(text), "sqs:SendMessage", 50) == [False] * 50


def test_requests_are_recognised_by_signer_and_operation() -> None:
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={LAMBDA_ACCESS_KEY_ID}/20261123/us-east-1/states/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    environ = {"HTTP_AUTHORIZATION": authorization, "HTTP_X_AMZ_TARGET": "AWSStepFunctions.StartExecution"}

    assert signer(environ) == (LAMBDA_ACCESS_KEY_ID, "states")
    assert operation("states", environ) == "StartExecution"
    assert operation("lambda", {"REQUEST_METHOD": "POST", "PATH_INFO": "/2015-03-31/functions/f/invocations"}) == (
        "Invoke"
    )
    assert signer({"HTTP_AUTHORIZATION": ""}) is None


# Calls each service once with botocore's retries off, so the test sees the raw error.
PROBE_HANDLER = """
import os, boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ONCE = Config(retries={"total_max_attempts": 1})

def attempt(call):
    try:
        call()
        return "ok"
    except ClientError as error:
        return [error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]]

def handler(event, context):
    table, queue = os.environ["TABLE"], os.environ["QUEUE_URL"]
    dynamodb = boto3.client("dynamodb", config=ONCE)
    retrying = boto3.client("dynamodb", config=Config(retries={"mode": "legacy", "total_max_attempts": 10}))
    return {
        "put_item": attempt(lambda: dynamodb.put_item(TableName=table, Item={"pk": {"S": "once"}})),
        "put_item_retried": attempt(lambda: retrying.put_item(TableName=table, Item={"pk": {"S": "retried"}})),
        "get_item": attempt(lambda: dynamodb.get_item(TableName=table, Key={"pk": {"S": "x"}})),
        "send_message": attempt(lambda: boto3.client("sqs", config=ONCE).send_message(QueueUrl=queue, MessageBody="m")),
        "start_execution": attempt(lambda: boto3.client("stepfunctions", config=ONCE).start_execution(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:none", input="{}")),
    }
"""


@pytest.fixture(scope="module")
def faulty_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    rates = {
        "dynamodb:PutItem": 0.5,
        "sqs:SendMessage": 1.0,
        "states:StartExecution": 1.0,
        "lambda:Timeout:timing-out": 1.0,
        "lambda:InitError:crashing": 1.0,
    }
    with cloud_with_faults(tmp_path_factory.mktemp("faulty-state"), seed=3, rates=rates) as cloud:
        yield cloud


@pytest.fixture(scope="module")
def faulty_aws(faulty_cloud: LocalCloud) -> Callable[[str], Any]:
    client = clients(faulty_cloud.endpoint)
    client("iam").create_role(RoleName="probe", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    create_items_table(client("dynamodb"), "t")
    return client


ROLE = "arn:aws:iam::123456789012:role/probe"


def test_faults_hit_lambda_code_only_with_the_errors_aws_throttles_with(
    faulty_cloud: LocalCloud, faulty_aws: Callable[[str], Any]
) -> None:
    aws = faulty_aws
    queue_url = aws("sqs").create_queue(QueueName="q")["QueueUrl"]
    # The test's own calls (key "testing") are never faulted, whatever the rate.
    for n in range(20):
        aws("dynamodb").put_item(TableName="t", Item={"pk": {"S": f"test-{n}"}})
    aws("sqs").send_message(QueueUrl=queue_url, MessageBody="from the test")
    function = _create_function(
        aws, "probe", PROBE_HANDLER, Environment={"Variables": {"TABLE": "t", "QUEUE_URL": queue_url}}
    )

    results = [
        json.loads(aws("lambda").invoke(FunctionName=function["FunctionArn"])["Payload"].read()) for _ in range(4)
    ]

    assert {json.dumps(r["send_message"]) for r in results} == {'["RequestThrottled", 403]'}
    assert {json.dumps(r["start_execution"]) for r in results} == {'["ThrottlingException", 400]'}
    assert {r["get_item"] for r in results} == {"ok"}  # not in the plan
    once = [r["put_item"] for r in results]
    assert ["ProvisionedThroughputExceededException", 400] in once  # rate 0.5 over 4 tries, seed 3
    assert {r["put_item_retried"] for r in results} == {"ok"}  # botocore's own retries ride it out
    with urllib.request.urlopen(faulty_cloud.endpoint + STATUS_PATH) as response:
        status = json.loads(response.read())
    assert status["seed"] == 3
    assert status["failed"]["sqs:SendMessage"] == status["calls"]["sqs:SendMessage"] == 4


def test_a_planned_lambda_timeout_keeps_side_effects_and_loses_the_result(faulty_aws: Callable[[str], Any]) -> None:
    aws = faulty_aws
    source = (
        "import boto3\ndef handler(event, context):\n"
        "    boto3.client('dynamodb').update_item(TableName='t', Key={'pk': {'S': 'ran'}},\n"
        "        UpdateExpression='ADD n :one', ExpressionAttributeValues={':one': {'N': '1'}})\n"
        "    return 'done'\n"
    )
    _create_function(aws, "timing-out", source, Timeout=3)

    response = aws("lambda").invoke(FunctionName="timing-out")

    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "Sandbox.Timedout"
    ran = aws("dynamodb").get_item(TableName="t", Key={"pk": {"S": "ran"}})["Item"]
    assert ran["n"] == {"N": "1"}


def test_a_planned_init_error_fails_the_invocation_before_any_of_its_code_runs(
    faulty_cloud: LocalCloud, faulty_aws: Callable[[str], Any]
) -> None:
    aws = faulty_aws
    source = (
        "import boto3\nboto3.client('dynamodb').put_item(TableName='t', Item={'pk': {'S': 'initialized'}})\n"
        "def handler(event, context):\n"
        "    boto3.client('dynamodb').put_item(TableName='t', Item={'pk': {'S': 'handled'}})\n"
        "    return 'done'\n"
    )
    _create_function(aws, "crashing", source)

    response = aws("lambda").invoke(FunctionName="crashing")

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "Runtime.ExitError"
    message = r"RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 1"
    assert re.fullmatch(message, error["errorMessage"])
    for key in ("initialized", "handled"):  # neither its init code nor its handler ran
        assert "Item" not in aws("dynamodb").get_item(TableName="t", Key={"pk": {"S": key}})
    status = json.loads(urllib.request.urlopen(faulty_cloud.endpoint + STATUS_PATH).read())
    assert status["failed"]["lambda:InitError:crashing"] == status["calls"]["lambda:InitError:crashing"] >= 1


def _create_function(aws: Callable[[str], Any], name: str, source: str, **settings: Any) -> dict[str, Any]:
    """A python3.12 function named ``name`` whose handler.py is ``source``."""
    function: dict[str, Any] = aws("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": source})},
        **settings,
    )
    return function


def _post_plan(endpoint: str, document: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(endpoint + STATUS_PATH, data=document.encode(), method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_plan_can_be_replaced_at_run_time_and_a_bad_one_is_refused(cloud: LocalCloud) -> None:
    status, plan = _post_plan(cloud.endpoint, '{"seed": 5, "rates": {"states:StartExecution": 0.3}}')
    assert (status, plan["seed"], plan["rates"], plan["calls"]) == (200, 5, {"states:StartExecution": 0.3}, {})

    status, refused = _post_plan(cloud.endpoint, '{"rates": {"sqs:SendMessage": 2}}')
    assert (status, refused) == (
        400,
        {"message": "LOCALCLOUD_FAULTS.rates['sqs:SendMessage'] must be a number from 0 to 1, got 2"},
    )

    status, cleared = _post_plan(cloud.endpoint, "{}")
    assert (status, cleared["rates"]) == (200, {})
