"""Throttling in Step Functions: a throttled Lambda step fails with Lambda.TooManyRequestsException and
retriers cap and jitter their waits; the account's StartExecution and state-transition token buckets."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from localcloud.stepfunctions_quotas import ROUTE, BucketQuota, QuotaConfigError, StepFunctionsQuotas, TokenBucket
from tests.localcloud.conftest import clients, execution_result, wait_for

HANDLER = "def handler(event, context):\n    return {'ran': True}\n"


def test_a_throttled_step_is_retried_with_capped_jittered_backoff_then_caught(
    aws: Callable[[str], Any], create_function: Callable[..., str], role_arn: str, unique: str
) -> None:
    function_arn = create_function({"handler.py": HANDLER})
    aws("lambda").put_function_concurrency(FunctionName=function_arn, ReservedConcurrentExecutions=0)
    definition = {
        "StartAt": "Step",
        "States": {
            "Step": {
                "Type": "Task",
                "Resource": function_arn,
                "Retry": [
                    {
                        "ErrorEquals": ["Lambda.TooManyRequestsException"],
                        "IntervalSeconds": 1,
                        # Uncapped, the two waits would be 1 s and 10 s.
                        "BackoffRate": 10.0,
                        "MaxAttempts": 2,
                        "MaxDelaySeconds": 1,
                        "JitterStrategy": "FULL",
                    }
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    machine = aws("stepfunctions").create_state_machine(
        name=f"throttled-{unique}", definition=json.dumps(definition), roleArn=role_arn
    )
    started = time.monotonic()
    execution = aws("stepfunctions").start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")
    described = execution_result(aws("stepfunctions"), execution["executionArn"], timeout=30)
    elapsed = time.monotonic() - started

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["error"]["Error"] == "Lambda.TooManyRequestsException"
    history = aws("stepfunctions").get_execution_history(executionArn=execution["executionArn"])["events"]
    failures = [e["lambdaFunctionFailedEventDetails"] for e in history if e["type"] == "LambdaFunctionFailed"]
    assert [f["error"] for f in failures] == ["Lambda.TooManyRequestsException"] * 3  # 1 try + 2 retries
    assert "Error Code: TooManyRequestsException" in failures[0]["cause"]
    assert elapsed < 8  # two waits of at most MaxDelaySeconds (1 s) each, not 1 s + 10 s


# --- the account's token buckets (localcloud/README.md, "Step Functions token buckets") ----------


def set_quotas(cloud: LocalCloud, document: dict[str, Any] | None) -> dict[str, Any]:
    """POST ``document`` to the quotas route (None: GET); the quotas and counts it answers."""
    data = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(cloud.endpoint + ROUTE, data=data, method="GET" if data is None else "POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


@pytest.fixture
def quotas(cloud: LocalCloud) -> Iterator[Callable[[dict[str, Any] | None], dict[str, Any]]]:
    yield lambda document: set_quotas(cloud, document)
    set_quotas(cloud, {"reset": True})


def test_a_bucket_refills_continuously_up_to_its_size() -> None:
    now = [0.0]
    bucket = TokenBucket(BucketQuota(bucket=2, refill=4), clock=lambda: now[0])

    assert [bucket.try_take() for _ in range(3)] == [True, True, False]
    now[0] = 0.25  # one token back
    assert [bucket.try_take(), bucket.try_take()] == [True, False]
    now[0] = 10.0  # never more than the bucket
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]
    assert (bucket.taken, bucket.throttled) == (5, 3)
    # A transition does not fail: it is told how long to wait for its token.
    assert bucket.wait_time() == pytest.approx(0.25)
    assert bucket.wait_time() == pytest.approx(0.5)


def test_the_documented_profiles_and_bad_values() -> None:
    quotas = StepFunctionsQuotas()
    assert quotas.describe()["start_execution"]["bucket"] == 1300
    assert quotas.describe()["state_transition"]["refill"] == 5000
    quotas.update({"profile": "other-regions"})
    assert (quotas.buckets["start_execution"].quota, quotas.buckets["state_transition"].quota) == (
        BucketQuota(800, 150),
        BucketQuota(800, 800),
    )
    with pytest.raises(QuotaConfigError, match=r"^state_transition.refill must be a positive number"):
        quotas.update({"state_transition": {"bucket": 10, "refill": 0}})
    with pytest.raises(QuotaConfigError, match=r"^profile must be one of \['other-regions', 'us-east-1'\]"):
        quotas.update({"profile": "new-account"})


def start_many(cloud: LocalCloud, machine_arn: str, count: int) -> list[str]:
    """``count`` StartExecution calls, one attempt each; the error code of each (``""``: started)."""
    sfn = clients(cloud.endpoint, Config(retries={"total_max_attempts": 1}))("stepfunctions")
    codes = []
    for _ in range(count):
        try:
            sfn.start_execution(stateMachineArn=machine_arn, input="{}")
            codes.append("")
        except ClientError as error:
            codes.append(f"{error.response['Error']['Code']}: {error.response['Error']['Message']}")
    return codes


def test_start_execution_past_the_bucket_is_throttled_until_it_refills(
    aws: Callable[[str], Any], cloud: LocalCloud, role_arn: str, unique: str, quotas: Callable[..., Any]
) -> None:
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    machine = aws("stepfunctions").create_state_machine(
        name=f"starts-{unique}", definition=json.dumps(definition), roleArn=role_arn
    )["stateMachineArn"]

    assert start_many(cloud, machine, 20) == [""] * 20  # AWS's bucket (1,300) takes a burst of 20

    # A token every 4 s: on a loaded machine (load 18 on 2 cores) a refill of 1/s let a call pass
    # that the test expected throttled, when two calls took more than the 0.8 s it left them.
    quotas({"start_execution": {"bucket": 3, "refill": 0.25}})
    assert start_many(cloud, machine, 5) == ["", "", ""] + ["ThrottlingException: Rate exceeded"] * 2
    time.sleep(4.2)
    assert start_many(cloud, machine, 2) == ["", "ThrottlingException: Rate exceeded"]


def test_state_transitions_past_the_bucket_wait_for_the_refill(
    aws: Callable[[str], Any], cloud: LocalCloud, role_arn: str, unique: str, quotas: Callable[..., Any]
) -> None:
    steps = 16
    states: dict[str, dict[str, Any]] = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(steps - 1)}
    states[f"S{steps - 1}"] = {"Type": "Pass", "End": True}
    sfn = aws("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"steps-{unique}", definition=json.dumps({"StartAt": "S0", "States": states}), roleArn=role_arn
    )["stateMachineArn"]

    def run() -> float:
        started = time.monotonic()
        execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        wait_for(lambda: sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED", timeout=30)
        return time.monotonic() - started

    assert run() < 1.5  # 16 transitions out of 5,000

    quotas({"state_transition": {"bucket": 4, "refill": 4}})
    elapsed = run()
    throttled = quotas(None)["state_transition"]["throttled"]

    assert elapsed >= (steps - 4) / 4 - 0.2  # 12 transitions waited for tokens at 4 a second
    assert throttled == steps - 4
