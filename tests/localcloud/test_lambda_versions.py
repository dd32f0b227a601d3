"""Versions and aliases run as on Lambda: a version keeps the code it was published with, an alias
invoke runs the version the alias points to at that moment, and an SQS event source mapping on an
alias follows the alias (patches/lambda_aliases.py; evidence in localcloud/README.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from payment_core.contract import LIVE_ALIAS

from ops.rollback import RollbackError, rollback
from tests.localcloud.conftest import execution_result, make_zip, wait_for

SOURCE = """
import json, os
def handler(event, context):
    print(json.dumps({"marker": "%s", "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]}))
    return {"marker": "%s", "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]}
"""


def _code(marker: str) -> bytes:
    return make_zip({"handler.py": SOURCE % (marker, marker)})


def _create(lam: Any, name: str, role_arn: str, marker: str) -> dict[str, Any]:
    """Create the function with version 1 published, its code marked `marker`."""
    response: dict[str, Any] = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": _code(marker)},
        Publish=True,
    )
    return response


def _invoke(lam: Any, name: str) -> tuple[dict[str, Any], str]:
    response = lam.invoke(FunctionName=name, Payload=b"{}")
    return json.loads(response["Payload"].read()), response["ExecutedVersion"]


def test_an_alias_runs_the_version_it_points_to_and_a_version_keeps_its_code(
    aws: Callable[[str], Any], role_arn: str, unique: str
) -> None:
    lam = aws("lambda")
    name = f"versions-{unique}"
    created = _create(lam, name, role_arn, "one")
    assert created["Version"] == "1"
    second = lam.update_function_code(FunctionName=name, ZipFile=_code("two"), Publish=True)
    assert second["Version"] == "2"
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")

    assert _invoke(lam, f"{name}:live") == ({"marker": "one", "version": "1"}, "1")
    assert _invoke(lam, f"{name}:2") == ({"marker": "two", "version": "2"}, "2")
    assert _invoke(lam, f"{name}:1") == ({"marker": "one", "version": "1"}, "1")
    assert _invoke(lam, name) == ({"marker": "two", "version": "$LATEST"}, "$LATEST")

    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")  # a deploy (or a rollback, the other way)
    assert _invoke(lam, f"{name}:live") == ({"marker": "two", "version": "2"}, "2")


def test_a_queue_mapping_on_an_alias_names_the_alias_and_follows_it(
    aws: Callable[[str], Any], role_arn: str, unique: str
) -> None:
    lam, sqs, logs = aws("lambda"), aws("sqs"), aws("logs")
    name = f"versions-esm-{unique}"
    _create(lam, name, role_arn, "old")
    lam.update_function_code(FunctionName=name, ZipFile=_code("new"), Publish=True)
    alias_arn = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")["AliasArn"]
    queue_url = sqs.create_queue(QueueName=f"versions-{unique}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    mapping = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=alias_arn, BatchSize=1)
    # AWS answers with the ARN it was given (moto: the version the alias named at create time).
    assert mapping["FunctionArn"] == alias_arn
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["FunctionArn"] == alias_arn

    def markers() -> list[str]:
        # The log group exists only once the first invocation has written to it (as on AWS).
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}").get("events", [])
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [json.loads(e["message"])["marker"] for e in events if e["message"].startswith("{")]

    sqs.send_message(QueueUrl=queue_url, MessageBody="first")
    wait_for(lambda: markers() == ["old"], timeout=30)
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    sqs.send_message(QueueUrl=queue_url, MessageBody="second")
    wait_for(lambda: sorted(markers()) == ["new", "old"], timeout=30)
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_rollback_while_an_execution_runs_leaves_it_on_the_version_it_started_with(
    aws: Callable[[str], Any], role_arn: str, unique: str
) -> None:
    """The stack's shape: the state machine names the version the deploy published (not the alias).
    `make rollback` (ops.rollback) moves the alias and the definition back; the running execution
    finishes on its version, the next one starts on the previous version."""
    lam, sfn = aws("lambda"), aws("stepfunctions")
    name = f"versions-sfn-{unique}"
    function_arn = _create(lam, name, role_arn, "previous")["FunctionArn"]
    lam.update_function_code(FunctionName=name, ZipFile=_code("current"), Publish=True)
    lam.create_alias(FunctionName=name, Name=LIVE_ALIAS, FunctionVersion="2")  # the deploy of version 2

    def definition(version: str) -> str:
        return json.dumps(
            {
                "StartAt": "Hold",
                "States": {
                    "Hold": {"Type": "Wait", "Seconds": 4, "Next": "Step"},
                    "Step": {"Type": "Task", "Resource": f"{function_arn}:{version}", "End": True},
                },
            }
        )

    machine = sfn.create_state_machine(name=f"versions-{unique}", definition=definition("2"), roleArn=role_arn)
    started_before = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]

    rolled = rollback(lam, sfn, name)
    assert rolled == {"function": name, "from": "2", "to": "1", "state_machines": [f"versions-{unique}"]}
    assert lam.get_alias(FunctionName=name, Name=LIVE_ALIAS)["FunctionVersion"] == "1"
    started_after = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]

    before, after = execution_result(sfn, started_before), execution_result(sfn, started_after)
    assert (before["status"], json.loads(before["output"])) == ("SUCCEEDED", {"marker": "current", "version": "2"})
    assert (after["status"], json.loads(after["output"])) == ("SUCCEEDED", {"marker": "previous", "version": "1"})

    with pytest.raises(RollbackError, match=r"^no published version before 1 to roll back to$"):
        rollback(lam, sfn, name)
