"""Step Functions' 262,144-byte payload quota and the Distributed Map's ResultWriter, both sides.

A state output, a Lambda task's result and a Map's collected results of exactly 262,144 bytes
(compact UTF-8 JSON) pass; one byte more fails with ``States.DataLimitExceeded`` and AWS's
cause. A Map whose ``ResultSelector`` keeps a marker still fails on its collected results;
with a ``ResultWriter`` the same Map succeeds and its results are in S3 as AWS lays them out
(localcloud/README.md, "Step Functions payload quota and ResultWriter").
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.patches.stepfunctions_payload import payload_bytes
from localcloud.stepfunctions_quotas import AWS_PAYLOAD_LIMIT_BYTES, ROUTE
from tests.localcloud.conftest import execution_result

LIMIT = AWS_PAYLOAD_LIMIT_BYTES


def finished(sfn: Any, machine_arn: str, payload: dict[str, Any] | None = None, timeout: float = 60) -> dict[str, Any]:
    execution = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(payload or {}))
    return execution_result(sfn, execution["executionArn"], timeout)


@pytest.fixture
def run(aws: Callable[[str], Any], role_arn: str, unique: str) -> Callable[..., dict[str, Any]]:
    sfn = aws("stepfunctions")
    count = iter(range(100))

    def run_definition(definition: dict[str, Any], payload: dict[str, Any] | None = None) -> dict[str, Any]:
        machine = sfn.create_state_machine(
            name=f"payload-{unique}-{next(count)}", definition=json.dumps(definition), roleArn=role_arn
        )["stateMachineArn"]
        return finished(sfn, machine, payload)

    return run_definition


def padded(total: int, wrapper: Callable[[str], Any]) -> Any:
    """``wrapper(pad)`` whose compact JSON is exactly ``total`` bytes (the pad is ASCII)."""
    overhead = payload_bytes(wrapper(""))
    value = wrapper("x" * (total - overhead))
    assert payload_bytes(value) == total
    return value


def cause(name: str) -> str:
    return f"The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."


def test_sizes_are_utf8_bytes_of_compact_json() -> None:
    assert payload_bytes({"a": "é", "b": [1, 2]}) == len('{"a":"é","b":[1,2]}'.encode())
    assert payload_bytes({"a": "é"}) == 10


@pytest.mark.parametrize("size, status", [(LIMIT, "SUCCEEDED"), (LIMIT + 1, "FAILED")])
def test_a_state_output_of_the_limit_passes_and_one_byte_more_fails(
    run: Callable[..., dict[str, Any]], size: int, status: str
) -> None:
    output = padded(size, lambda pad: {"pad": pad})
    described = run({"StartAt": "Big", "States": {"Big": {"Type": "Pass", "Result": output, "End": True}}})

    assert described["status"] == status
    if status == "FAILED":
        assert described["error"] == "States.DataLimitExceeded"
        assert described["cause"] == cause("Big")


@pytest.mark.parametrize("size, status", [(LIMIT, "SUCCEEDED"), (LIMIT + 1, "FAILED")])
def test_a_lambda_result_of_the_limit_passes_and_one_byte_more_is_caught(
    run: Callable[..., dict[str, Any]], create_function: Callable[..., str], size: int, status: str
) -> None:
    # A multi-byte character: the quota counts UTF-8 bytes, not characters or \\u escapes.
    result = padded(size, lambda pad: {"name": "é", "pad": pad})
    function_arn = create_function({"handler.py": f"def handler(event, context):\n    return {result!r}\n"})
    described = run(
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": function_arn,
                    "ResultSelector": {"ok": True},
                    "Catch": [{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "TooLarge"}],
                    "End": True,
                },
                "TooLarge": {"Type": "Pass", "End": True},
            },
        }
    )

    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    if status == "SUCCEEDED":
        assert output == {"ok": True}
    else:
        assert output == {"Error": "States.DataLimitExceeded", "Cause": cause(function_arn)}


CHILDREN = 3


def map_state(results_bytes: int, **fields: Any) -> dict[str, Any]:
    """A Distributed Map over ``$.items`` (``CHILDREN`` small items) whose children return pads
    from the definition, so that their collected results are exactly ``results_bytes`` (the
    execution input stays small: it has a quota of its own)."""
    other = "x" * (results_bytes // CHILDREN)
    # [first,other,other]: brackets, commas, and {"pad":""} around each pad.
    first = "y" * (results_bytes - 2 - (CHILDREN - 1) - CHILDREN * len('{"pad":""}') - (CHILDREN - 1) * len(other))
    assert payload_bytes([{"pad": first}] + [{"pad": other}] * (CHILDREN - 1)) == results_bytes
    return {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"i.$": "$$.Map.Item.Value"},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Child",
            "States": {
                "Child": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.i", "NumericEquals": 0, "Next": "First"}],
                    "Default": "Other",
                },
                "First": {"Type": "Pass", "Result": {"pad": first}, "End": True},
                "Other": {"Type": "Pass", "Result": {"pad": other}, "End": True},
            },
        },
        "Label": "Chunks",
        "ResultSelector": {"done": True},
        "ResultPath": "$.map",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
        "End": True,
        **fields,
    }


ITEMS = {"items": list(range(CHILDREN))}


def map_machine(state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "Map", "States": {"Map": state, "Caught": {"Type": "Pass", "End": True}}}


def test_collected_map_results_count_before_result_selector(run: Callable[..., dict[str, Any]]) -> None:
    at_limit = run(map_machine(map_state(LIMIT)), ITEMS)
    over = run(map_machine(map_state(LIMIT + 1)), ITEMS)

    assert at_limit["status"] == "SUCCEEDED"
    assert json.loads(at_limit["output"]) == {**ITEMS, "map": {"done": True}}
    assert over["status"] == "SUCCEEDED"  # caught by the Map's Catch
    assert json.loads(over["output"])["error"] == {"Error": "States.DataLimitExceeded", "Cause": cause("Map")}


def test_a_result_writer_keeps_the_results_out_of_the_state_and_writes_them_as_aws_does(
    run: Callable[..., dict[str, Any]], aws: Callable[[str], Any], unique: str
) -> None:
    bucket = f"results-{unique}"
    aws("s3").create_bucket(Bucket=bucket)
    # The prefix is a path into the Map state's input, as the batch workflow gives it.
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix.$": "$.prefix"}}
    state = map_state(LIMIT + 1, ResultWriter=writer, ResultSelector={"manifest.$": "$.ResultWriterDetails"})
    described = run(map_machine(state), {**ITEMS, "prefix": "jobs/7/results"})

    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert "error" not in output
    manifest_key = output["map"]["manifest"]["Key"]
    assert output["map"]["manifest"]["Bucket"] == bucket
    assert manifest_key.startswith("jobs/7/results/") and manifest_key.endswith("/manifest.json")
    s3 = aws("s3")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    assert manifest["DestinationBucket"] == bucket
    assert manifest["MapRunArn"].split(":")[-1] == manifest_key.split("/")[-2]
    assert manifest["ResultFiles"]["FAILED"] == [] and manifest["ResultFiles"]["PENDING"] == []
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    assert succeeded["Key"] == manifest_key.replace("manifest.json", "SUCCEEDED_0.json")
    body = s3.get_object(Bucket=bucket, Key=succeeded["Key"])["Body"].read()
    assert succeeded["Size"] == len(body)
    records = json.loads(body)
    children = state["ItemProcessor"]["States"]
    expected = [children["First"]["Result"]] + [children["Other"]["Result"]] * (CHILDREN - 1)
    assert [json.loads(r["Output"]) for r in records] == expected
    assert [json.loads(r["Input"]) for r in records] == [{"i": i} for i in range(CHILDREN)]
    assert {r["Status"] for r in records} == {"SUCCEEDED"}
    assert all(":execution:" in r["ExecutionArn"] for r in records)
    assert all(r["ExecutionArn"].endswith(f"/Chunks:{r['Name']}") for r in records)
    assert all(r["StateMachineArn"].endswith("/Chunks") for r in records)


def test_failed_children_go_to_the_failed_file(
    run: Callable[..., dict[str, Any]], aws: Callable[[str], Any], unique: str
) -> None:
    bucket = f"failures-{unique}"
    aws("s3").create_bucket(Bucket=bucket)
    state = map_state(
        100,
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": ""}},
        ToleratedFailurePercentage=100.0,
    )
    state["ItemSelector"] = {"pad.$": "$$.Map.Item.Value"}
    state["ItemProcessor"]["States"] = {
        "Child": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.pad", "StringEquals": "bad", "Next": "Refuse"}],
            "Default": "Accept",
        },
        "Accept": {"Type": "Pass", "End": True},
        "Refuse": {"Type": "Fail", "Error": "BadItem", "Cause": "refused"},
    }
    described = run(map_machine(state), {"items": ["good", "bad"]})

    assert described["status"] == "SUCCEEDED", described
    s3 = aws("s3")
    keys = [listed["Key"] for listed in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    [manifest_key] = [key for key in keys if key.endswith("manifest.json")]
    files = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())["ResultFiles"]
    [failed] = json.loads(s3.get_object(Bucket=bucket, Key=files["FAILED"][0]["Key"])["Body"].read())
    [succeeded] = json.loads(s3.get_object(Bucket=bucket, Key=files["SUCCEEDED"][0]["Key"])["Body"].read())
    assert (failed["Status"], failed["Error"], failed["Cause"]) == ("FAILED", "BadItem", "refused")
    assert json.loads(failed["Input"]) == {"pad": "bad"} and "Output" not in failed
    assert json.loads(succeeded["Output"]) == {"pad": "good"}


def test_a_result_writer_that_cannot_write_fails_the_state_with_result_writer_failed(
    run: Callable[..., dict[str, Any]], unique: str
) -> None:
    bucket = f"missing-{unique}"  # never created: S3 refuses every put
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": bucket, "Prefix": "out"}}
    described = run(map_machine(map_state(100, ResultWriter=writer)), ITEMS)

    assert described["status"] == "SUCCEEDED"  # caught by the Map's Catch
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "States.ResultWriterFailed"
    assert error["Cause"].startswith(f"Could not write the Map Run results to s3://{bucket}/out/: ")


def post_quotas(cloud: LocalCloud, document: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(cloud.endpoint + ROUTE, data=json.dumps(document).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_limit_can_be_lowered_for_a_scale_model_but_never_raised(
    cloud: LocalCloud, run: Callable[..., dict[str, Any]]
) -> None:
    small = {"StartAt": "Small", "States": {"Small": {"Type": "Pass", "Result": {"pad": "x" * 100}, "End": True}}}
    try:
        status, quotas = post_quotas(cloud, {"payload_limit_bytes": 100})
        assert (status, quotas["payload_limit_bytes"]) == (200, 100)
        assert run(small)["error"] == "States.DataLimitExceeded"
        status, refusal = post_quotas(cloud, {"payload_limit_bytes": LIMIT + 1})
        assert status == 400
        assert refusal["message"] == (
            f"payload_limit_bytes must be an integer from 1 to {LIMIT} "
            f"(AWS's quota; the emulator is never more lenient), got {LIMIT + 1}"
        )
    finally:
        status, quotas = post_quotas(cloud, {"reset": True})
        assert (status, quotas["payload_limit_bytes"]) == (200, LIMIT)
    assert run(small)["status"] == "SUCCEEDED"
