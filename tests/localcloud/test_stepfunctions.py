"""Step Functions: the patched API gaps, and executions that call the subprocess Lambda."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import execution_result

WORKFLOW_HANDLER = """
import os

class TransientProcessorError(Exception):
    pass

class PaymentDeclined(Exception):
    pass

def handler(event, context):
    step = event["step"]
    if step == "process":
        counter = os.path.join(os.environ["COUNTER_DIR"], event["payment_id"])
        attempts = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
        with open(counter, "w") as handle:
            handle.write(str(attempts))
        if attempts <= event["transient_failures"]:
            raise TransientProcessorError(f"processor timeout on attempt {attempts}")
        if event["decline"]:
            raise PaymentDeclined("insufficient funds")
        return {"payment_id": event["payment_id"], "status": "AUTHORIZED", "attempts": attempts}
    if step == "compensate":
        return {"payment_id": event["payment_id"], "status": "FAILED", "reason": event["error"]["Error"]}
    raise ValueError(step)
"""


PASS_ONLY = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


def definition(function_arn: str) -> dict[str, Any]:
    return {
        "StartAt": "Process",
        "States": {
            "Process": {
                "Type": "Task",
                "Resource": function_arn,
                "Parameters": {
                    "step": "process",
                    "payment_id.$": "$.payment_id",
                    "transient_failures.$": "$.transient_failures",
                    "decline.$": "$.decline",
                },
                "Retry": [
                    {
                        "ErrorEquals": ["TransientProcessorError"],
                        "IntervalSeconds": 1,
                        "BackoffRate": 2.0,
                        "MaxAttempts": 2,
                    }
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Compensate"}],
                "End": True,
            },
            "Compensate": {
                "Type": "Task",
                "Resource": function_arn,
                "Parameters": {"step": "compensate", "payment_id.$": "$.payment_id", "error.$": "$.error"},
                "Next": "FailureHandled",
            },
            "FailureHandled": {"Type": "Succeed"},
        },
    }


@pytest.fixture
def state_machine(
    aws: Callable[[str], Any],
    create_function: Callable[..., str],
    role_arn: str,
    unique: str,
    tmp_path: Any,
) -> str:
    function_arn = create_function({"handler.py": WORKFLOW_HANDLER}, environment={"COUNTER_DIR": str(tmp_path)})
    created = aws("stepfunctions").create_state_machine(
        name=f"flow-{unique}", definition=json.dumps(definition(function_arn)), roleArn=role_arn
    )
    return str(created["stateMachineArn"])


def run(aws: Callable[[str], Any], machine: str, payload: dict[str, Any]) -> dict[str, Any]:
    sfn = aws("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))
    return execution_result(sfn, execution["executionArn"], timeout=30)


def test_validate_state_machine_definition_answers(aws: Callable[[str], Any], unique: str) -> None:
    sfn = aws("stepfunctions")
    good = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}

    assert sfn.validate_state_machine_definition(definition=json.dumps(good))["result"] == "OK"
    bad = sfn.validate_state_machine_definition(definition=json.dumps({"StartAt": "Missing"}))
    assert bad["result"] == "FAIL"
    assert bad["diagnostics"][0]["severity"] == "ERROR"


def test_list_state_machine_versions_answers(aws: Callable[[str], Any], role_arn: str, unique: str) -> None:
    sfn = aws("stepfunctions")
    good = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    unpublished = sfn.create_state_machine(name=f"plain-{unique}", definition=good, roleArn=role_arn)
    published = sfn.create_state_machine(name=f"pub-{unique}", definition=good, roleArn=role_arn, publish=True)

    assert sfn.list_state_machine_versions(stateMachineArn=unpublished["stateMachineArn"])["stateMachineVersions"] == []
    versions = sfn.list_state_machine_versions(stateMachineArn=published["stateMachineArn"])
    assert [v["stateMachineVersionArn"] for v in versions["stateMachineVersions"]] == [
        published["stateMachineVersionArn"]
    ]


def test_retry_on_the_exception_class_name_then_success(aws: Callable[[str], Any], state_machine: str) -> None:
    started = time.monotonic()
    result = run(aws, state_machine, {"payment_id": "p-retry", "transient_failures": 2, "decline": False})

    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"payment_id": "p-retry", "status": "AUTHORIZED", "attempts": 3}
    assert time.monotonic() - started >= 3  # backoff: 1 s then 2 s


def test_catch_all_puts_the_error_at_result_path_and_compensates(aws: Callable[[str], Any], state_machine: str) -> None:
    result = run(aws, state_machine, {"payment_id": "p-declined", "transient_failures": 0, "decline": True})

    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"payment_id": "p-declined", "status": "FAILED", "reason": "PaymentDeclined"}


def test_retries_exhausted_are_caught_with_the_python_error_name(aws: Callable[[str], Any], state_machine: str) -> None:
    result = run(aws, state_machine, {"payment_id": "p-flaky", "transient_failures": 9, "decline": False})

    assert json.loads(result["output"])["reason"] == "TransientProcessorError"
    history = aws("stepfunctions").get_execution_history(executionArn=result["executionArn"])["events"]
    failures = [e["lambdaFunctionFailedEventDetails"] for e in history if e["type"] == "LambdaFunctionFailed"]
    assert [f["error"] for f in failures] == ["TransientProcessorError"] * 3
    assert json.loads(failures[-1]["cause"])["errorMessage"] == "processor timeout on attempt 3"


def test_unnamed_executions_get_distinct_names(aws: Callable[[str], Any], state_machine: str) -> None:
    sfn = aws("stepfunctions")
    payload = json.dumps({"payment_id": "p-unnamed", "transient_failures": 0, "decline": True})
    first = sfn.start_execution(stateMachineArn=state_machine, input=payload)["executionArn"]
    second = sfn.start_execution(stateMachineArn=state_machine, input=payload)["executionArn"]
    assert first != second


def test_a_named_execution_is_started_once(aws: Callable[[str], Any], state_machine: str) -> None:
    sfn = aws("stepfunctions")
    payload = json.dumps({"payment_id": "p-named", "transient_failures": 0, "decline": True})
    sfn.start_execution(stateMachineArn=state_machine, name="p-named", input=payload)
    run_result = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        executions = sfn.list_executions(stateMachineArn=state_machine)["executions"]
        if executions[0]["status"] != "RUNNING":
            run_result = executions
            break
        time.sleep(0.25)
    assert run_result is not None
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=state_machine, name="p-named", input=payload)


def test_a_machine_encrypted_with_a_customer_managed_key_runs_and_reads_back_its_setting(
    aws: Callable[[str], Any], role_arn: str, unique: str
) -> None:
    """What the stack's state machines ask for (lib/components/base.py): CUSTOMER_MANAGED_KMS_KEY."""
    sfn = aws("stepfunctions")
    key = aws("kms").create_key(Description="state machine data")["KeyMetadata"]["Arn"]
    encryption = {"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": key, "kmsDataKeyReusePeriodSeconds": 900}
    machine = sfn.create_state_machine(
        name=f"encrypted-{unique}", definition=PASS_ONLY, roleArn=role_arn, encryptionConfiguration=encryption
    )["stateMachineArn"]

    assert sfn.describe_state_machine(stateMachineArn=machine)["encryptionConfiguration"] == encryption
    assert run(aws, machine, {"payment_id": "p-encrypted"})["status"] == "SUCCEEDED"
    owned = {"type": "AWS_OWNED_KEY"}
    sfn.update_state_machine(stateMachineArn=machine, encryptionConfiguration=owned)
    assert sfn.describe_state_machine(stateMachineArn=machine)["encryptionConfiguration"] == owned


def _refusal(call: Callable[..., Any], **arguments: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call(**arguments)
    error = refused.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_an_encryption_setting_aws_refuses_is_refused(aws: Callable[[str], Any], role_arn: str, unique: str) -> None:
    """localcloud/patches/state_machine_encryption.py: moto stores any setting unchecked."""
    sfn, kms = aws("stepfunctions"), aws("kms")
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    disabled = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    missing = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    cmk = "CUSTOMER_MANAGED_KMS_KEY"
    invalid = "InvalidEncryptionConfiguration"
    cases = {
        "keyless": ({"type": cmk}, invalid),
        "signing": ({"type": cmk, "kmsKeyId": signing}, invalid),
        "disabled": ({"type": cmk, "kmsKeyId": disabled["Arn"]}, invalid),
        "missing": ({"type": cmk, "kmsKeyId": missing}, "KmsAccessDeniedException"),
    }
    for case, (encryption, code) in cases.items():
        name = f"{case}-{unique}"
        refusal = _refusal(
            sfn.create_state_machine,
            name=name,
            definition=PASS_ONLY,
            roleArn=role_arn,
            encryptionConfiguration=encryption,
        )
        assert refusal[0] == code, case
        assert not [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == name], case
        if case == "signing":
            assert refusal[1] == (
                f"Invalid Encryption Configuration: KMS key {signing} is RSA_2048 for SIGN_VERIFY, "
                "not a symmetric encryption key"
            )
    plain = sfn.create_state_machine(name=f"plain-enc-{unique}", definition=PASS_ONLY, roleArn=role_arn)
    assert _refusal(
        sfn.update_state_machine,
        stateMachineArn=plain["stateMachineArn"],
        encryptionConfiguration=cases["disabled"][0],
    ) == (invalid, f"Invalid Encryption Configuration: KMS key {disabled['Arn']} is not enabled")
