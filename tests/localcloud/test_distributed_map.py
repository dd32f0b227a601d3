"""Distributed Map in the emulator, as the per-file batch workflow uses it.

The workflow maps over chunk descriptors that a planner wrote to S3 as a JSON array
(``ItemReader`` ``arn:aws:states:::s3:getObject`` with ``InputType: JSON``), at most
``MaxConcurrency`` child executions at a time, each retried with backoff, ``MaxDelaySeconds``
and full jitter. ``ItemBatcher`` is not used: moto 5.2.5's ASL grammar has no such field, which
the last test pins (localcloud/README.md, "Batch files on a Distributed Map").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.localcloud.conftest import execution_result

CHUNK_HANDLER = """
import json, os, time

class ChunkIncomplete(Exception):
    pass

def handler(event, context):
    index = event["chunk"]["index"]
    marks = os.environ["MARK_DIR"]
    attempt_file = os.path.join(marks, f"attempts-{index}")
    attempts = int(open(attempt_file).read()) + 1 if os.path.exists(attempt_file) else 1
    open(attempt_file, "w").write(str(attempts))
    running = os.path.join(marks, f"running-{index}-{attempts}")
    open(running, "w").write(str(time.time()))
    time.sleep(0.3)
    os.rename(running, os.path.join(marks, f"ran-{index}-{attempts}-{time.time()}"))
    if index in event["fail_first"] and attempts == 1:
        raise ChunkIncomplete(f"chunk {index}: 0 rows queued")
    return {"index": index, "job": event["job_id"], "attempts": attempts}
"""


def map_definition(function_arn: str, bucket: str) -> dict[str, Any]:
    return {
        "StartAt": "IngestChunks",
        "States": {
            "IngestChunks": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": bucket, "Key.$": "$.manifest_key"},
                },
                "ItemSelector": {
                    "chunk.$": "$$.Map.Item.Value",
                    "job_id.$": "$.job_id",
                    "fail_first.$": "$.fail_first",
                },
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "IngestChunk",
                    "States": {
                        "IngestChunk": {
                            "Type": "Task",
                            "Resource": function_arn,
                            "Retry": [
                                {
                                    "ErrorEquals": ["ChunkIncomplete"],
                                    "IntervalSeconds": 1,
                                    "BackoffRate": 2.0,
                                    "MaxAttempts": 3,
                                    "MaxDelaySeconds": 4,
                                    "JitterStrategy": "FULL",
                                }
                            ],
                            "End": True,
                        }
                    },
                },
                "ResultPath": None,
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


def run_to_end(sfn: Any, machine: str, payload: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    execution = sfn.start_execution(stateMachineArn=machine, name=payload["job_id"], input=json.dumps(payload))
    return execution_result(sfn, execution["executionArn"], timeout)


@pytest.fixture
def bucket(aws: Callable[[str], Any], unique: str) -> str:
    name = f"batch-{unique}"
    aws("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def run_map(aws: Callable[[str], Any], role_arn: str, unique: str, bucket: str) -> Callable[..., dict[str, Any]]:
    """Run ``definition`` as a new state machine over ``items`` (job ``job``'s chunk list in the
    bucket), failing the first attempt of the chunks in ``fail_first``; the finished execution."""
    sfn = aws("stepfunctions")

    def run(definition: dict[str, Any], job: str, items: list[dict[str, int]], fail_first: list[int]) -> dict[str, Any]:
        machine = sfn.create_state_machine(
            name=f"batch-{job}-{unique}", definition=json.dumps(definition), roleArn=role_arn
        )["stateMachineArn"]
        key = f"work/{job}/chunks.json"
        aws("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(items).encode())
        return run_to_end(sfn, machine, {"job_id": f"{job}-{unique}", "manifest_key": key, "fail_first": fail_first})

    return run


@pytest.fixture
def always_failing_map(create_function: Callable[..., str], bucket: str, tmp_path: Any) -> dict[str, Any]:
    """The map over a chunk function that fails every attempt (its marks in ``tmp_path``)."""
    always = CHUNK_HANDLER.replace("and attempts == 1", "")
    function_arn = create_function({"handler.py": always}, environment={"MARK_DIR": str(tmp_path)})
    return map_definition(function_arn, bucket)


def test_a_distributed_map_reads_its_items_from_s3_and_retries_a_chunk(
    aws: Callable[[str], Any],
    create_function: Callable[..., str],
    run_map: Callable[..., dict[str, Any]],
    unique: str,
    bucket: str,
    tmp_path: Any,
) -> None:
    function_arn = create_function({"handler.py": CHUNK_HANDLER}, environment={"MARK_DIR": str(tmp_path)})
    chunks = [
        {"index": i, "start": i * 100, "end": i * 100 + 100, "first_row": 2 + i * 5, "records": 5} for i in range(5)
    ]

    result = run_map(map_definition(function_arn, bucket), "job-1", chunks, fail_first=[3])

    assert result["status"] == "SUCCEEDED", result
    # ResultPath null: the map's per-item results are not carried in the 256 KiB state payload.
    assert json.loads(result["output"]) == {
        "job_id": f"job-1-{unique}",
        "manifest_key": "work/job-1/chunks.json",
        "fail_first": [3],
    }
    ran = sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("ran-"))
    assert sorted((int(name.split("-")[1]), int(name.split("-")[2])) for name in ran) == [
        (0, 1),
        (1, 1),
        (2, 1),
        (3, 1),
        (3, 2),
        (4, 1),
    ]
    # MaxConcurrency 2: never more than two chunk invocations overlapped.
    spans = []
    for name in ran:
        finished = float(name.split("-", 3)[3])
        spans.append((finished - 0.3, finished))
    overlap = max(sum(1 for s, e in spans if s < t <= e) for _, t in spans)
    assert overlap <= 2, spans

    sfn = aws("stepfunctions")
    map_runs = sfn.list_map_runs(executionArn=result["executionArn"])["mapRuns"]
    assert len(map_runs) == 1
    described = sfn.describe_map_run(mapRunArn=map_runs[0]["mapRunArn"])
    assert described["status"] == "SUCCEEDED"
    assert described["maxConcurrency"] == 2
    assert described["itemCounts"]["succeeded"] == 5


def test_a_chunk_that_keeps_failing_fails_the_map_run_and_the_execution(
    aws: Callable[[str], Any],
    run_map: Callable[..., dict[str, Any]],
    always_failing_map: dict[str, Any],
    tmp_path: Any,
) -> None:
    definition = always_failing_map
    definition["States"]["IngestChunks"]["Catch"] = [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}
    ]
    definition["States"]["Failed"] = {"Type": "Fail", "Error": "BatchFileFailed"}

    chunk = {"index": 0, "start": 0, "end": 10, "first_row": 2, "records": 1}
    result = run_map(definition, "job-2", [chunk], fail_first=[0])

    assert result["status"] == "FAILED"
    assert result.get("error") == "BatchFileFailed"
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("ran-")]) == 4  # 1 + MaxAttempts 3 retries
    sfn = aws("stepfunctions")
    history = sfn.get_execution_history(executionArn=result["executionArn"])["events"]
    [map_failed] = [e["mapRunFailedEventDetails"] for e in history if e["type"] == "MapRunFailed"]
    assert map_failed["error"] == "States.ExceedToleratedFailureThreshold"
    [map_run] = sfn.list_map_runs(executionArn=result["executionArn"])["mapRuns"]
    described = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert (described["status"], described["itemCounts"]["failed"]) == ("FAILED", 1)


def test_failures_within_the_tolerated_percentage_let_the_map_run_succeed(
    run_map: Callable[..., dict[str, Any]], always_failing_map: dict[str, Any]
) -> None:
    definition = always_failing_map
    # moto's grammar takes only a decimal here ("50" is "no viable alternative"); AWS takes both.
    definition["States"]["IngestChunks"]["ToleratedFailurePercentage"] = 50.0
    definition["States"]["IngestChunks"]["ItemProcessor"]["States"]["IngestChunk"]["Retry"] = []

    result = run_map(definition, "job-3", [{"index": i} for i in range(4)], fail_first=[1, 2])

    assert result["status"] == "SUCCEEDED"  # 2 of 4 failed = 50 %, not more than tolerated


@pytest.mark.parametrize(
    ("failed", "total", "count", "percentage", "fails"),
    [
        (0, 5, 0, 0.0, False),
        (1, 5, 0, 0.0, True),  # the default: any failure fails the run
        (2, 5, 2, 0.0, False),
        (3, 5, 2, 0.0, True),
        (2, 4, 0, 50.0, False),
        (3, 4, 0, 50.0, True),
        (3, 4, 5, 50.0, True),  # both given: either exceeded fails
    ],
)
def test_tolerance_rule(failed: int, total: int, count: int, percentage: float, fails: bool) -> None:
    from localcloud.patches.stepfunctions_map_run import exceeds_tolerance

    assert exceeds_tolerance(failed, total, count, percentage) is fails


def test_moto_has_no_item_batcher_in_its_grammar(aws: Callable[[str], Any]) -> None:
    """AWS accepts ``ItemBatcher`` (MaxItemsPerBatch) on a Distributed Map; moto 5.2.5 cannot
    parse it. If this starts passing validation, the emulator gained it and the design could use it."""
    definition = map_definition("arn:aws:lambda:us-east-1:123456789012:function:x", "b")
    definition["States"]["IngestChunks"]["ItemBatcher"] = {"MaxItemsPerBatch": 100}
    answer = aws("stepfunctions").validate_state_machine_definition(definition=json.dumps(definition))
    assert answer["result"] == "FAIL"
    assert "ItemBatcher" in answer["diagnostics"][0]["message"]
