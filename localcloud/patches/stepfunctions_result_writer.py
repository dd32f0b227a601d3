"""A Distributed Map's ``ResultWriter`` writes the child results to S3, as AWS does.

Evidence:

* Step Functions developer guide, "ResultWriter (Map)": Step Functions "consolidates all child
  workflow execution data, such as execution input and output, ARN, and execution status. It
  then exports executions with the same status to their respective files in the specified
  Amazon S3 location"; the Map state's result is then ``{"MapRunArn": ...,
  "ResultWriterDetails": {"Bucket": ..., "Key": "<Prefix>/<map run id>/manifest.json"}}``
  instead of the array; "Exporting the results to an Amazon S3 bucket is helpful if your
  output payload size exceeds 256 KiB"; a bucket Step Functions cannot write fails the
  execution with ``States.ResultWriterFailed``. Without ``WriterConfig`` the files hold the
  ``NONE`` transformation: each child's "output ... unchanged, in addition to the workflow
  metadata", as a JSON array.
* A real manifest (quoted in localstack/localstack#11381, written by AWS):
  ``{"DestinationBucket": ..., "MapRunArn": ..., "ResultFiles": {"FAILED": [], "PENDING": [],
  "SUCCEEDED": [{"Key": "mapJobs/<map run id>/SUCCEEDED_0.json", "Size": 43915718}]}}``.
  A record carries ``ExecutionArn``, ``Input``, ``InputDetails``, ``Name``, ``Output``
  (JSON text), ``OutputDetails``, ``RedriveCount``, ``RedriveStatus``, ``RedriveStatusReason``,
  ``StartDate``, ``StateMachineArn``, ``Status``, ``StopDate`` (``Error``/``Cause`` instead of
  ``Output`` for a failed child).

moto 5.2.5 parses ``ResultWriter`` and writes ``manifest.json`` (``result_writer/
resource_eval/resource_eval_s3.py``), but with ``ResultFiles`` always empty ("TODO: generate
result files"): the children's results are dropped, so nothing downstream could read them.

moto also evaluates the writer's ``Parameters`` (``"Prefix.$": "$.x"``) against the collected
results (the top of its stack) instead of the Map state's input, so a path that names
the state input fails with ``NoSuchJsonPathError`` (AWS resolves ``Bucket``/``Prefix`` paths
against the state input, as for ``ItemReader``'s ``Key.$``; AWS CDK's ``ResultWriterV2`` renders
``bucketNamePath``/JSONPath prefixes that way).

The patch records each child of a Distributed Map (its input after ``ItemSelector``, output or
error, status, start and stop times) on the Map Run's record while it runs, and the writer
puts ``SUCCEEDED_0.json`` / ``FAILED_0.json`` / ``PENDING_0.json`` (only the statuses that
have children; one file each, where AWS splits files of many GB) before the manifest that
lists them with their sizes. A write that S3 refuses fails the state with
``States.ResultWriterFailed``. Not emulated: ``WriterConfig`` (moto's grammar has no such
field, so a definition using it is refused at creation) and the exact date format of
``StartDate``/``StopDate`` (ISO 8601 UTC here).
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from localcloud.stepfunctions_failures import task_failed

SUCCEEDED: Final = "SUCCEEDED"
FAILED: Final = "FAILED"
PENDING: Final = "PENDING"
RESULT_GROUPS: Final = (FAILED, PENDING, SUCCEEDED)


@dataclass(frozen=True)
class ChildResult:
    index: int
    name: str
    input: Any
    status: str  # SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    output: Any
    error: str | None
    cause: str | None
    start: datetime
    stop: datetime

    @property
    def group(self) -> str:
        return SUCCEEDED if self.status == SUCCEEDED else FAILED

    def document(self, map_state_machine_arn: str) -> dict[str, Any]:
        """The record AWS writes for one child execution (``NONE`` transformation)."""
        execution_arn = map_state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{self.name}"
        record: dict[str, Any] = {
            "ExecutionArn": execution_arn,
            "Input": _compact(self.input),
            "InputDetails": {"Included": True},
            "Name": self.name,
        }
        if self.status == SUCCEEDED:
            record["Output"] = _compact(self.output)
            record["OutputDetails"] = {"Included": True}
        else:
            record["Error"] = self.error or ""
            record["Cause"] = self.cause or ""
        record.update(
            {
                "RedriveCount": 0,
                "RedriveStatus": "NOT_REDRIVABLE",
                "RedriveStatusReason": f"Execution is {self.status} and cannot be redriven",
                "StartDate": _timestamp(self.start),
                "StateMachineArn": map_state_machine_arn,
                "Status": self.status,
                "StopDate": _timestamp(self.stop),
            }
        )
        return record


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_lock = threading.Lock()


# The attribute of moto's map run record where this patch keeps its children's results.
_CHILDREN: Final = "_localcloud_children"


def children_of(map_run_record: Any) -> list[ChildResult]:
    with _lock:
        return sorted(getattr(map_run_record, _CHILDREN, []), key=lambda child: child.index)


def _remember(map_run_record: Any, child: ChildResult) -> None:
    with _lock:
        children = getattr(map_run_record, _CHILDREN, None)
        if children is None:
            children = []
            setattr(map_run_record, _CHILDREN, children)
        children.append(child)


def _outcome(env: Any, job: Any) -> tuple[str, Any, str | None, str | None]:
    from moto.stepfunctions.parser.asl.eval.program_state import (
        ProgramError,
        ProgramStopped,
        ProgramTimedOut,
    )

    state = env.program_state()
    if isinstance(state, ProgramError):
        details = state.error or {}
        return FAILED, None, details.get("error"), details.get("cause")
    if isinstance(state, ProgramTimedOut):
        return "TIMED_OUT", None, "States.Timeout", None
    if isinstance(state, ProgramStopped):
        return "ABORTED", None, state.error, state.cause
    # moto's worker counts every other end as a success (ProgramEnded, or a frame still marked
    # running once its last state is done).
    return SUCCEEDED, job.job_output, None, None


def _write_results(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    """``arn:aws:states:::s3:putObject`` as a ResultWriter: the result files, then the manifest."""
    from botocore.exceptions import BotoCoreError, ClientError
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3,
    )

    parameters = env.stack.pop()
    env.stack.pop()  # the collected outputs: the records below carry them, with their metadata
    bucket = parameters["Bucket"]
    prefix = parameters.get("Prefix", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    map_run_record = env.map_run_record_pool_manager.get_all().pop()
    map_run_id = map_run_record.map_run_arn.split(":")[-1]
    s3 = resource_eval_s3.ResourceEvalS3._get_s3_client(
        resource_runtime_part=resource_runtime_part, state_credentials=state_credentials
    )
    children = children_of(map_run_record)
    files: dict[str, list[dict[str, Any]]] = {group: [] for group in RESULT_GROUPS}
    manifest_key = f"{prefix}{map_run_id}/manifest.json"
    try:
        for group in RESULT_GROUPS:
            documents = [c.document(map_run_record.map_state_machine_arn) for c in children if c.group == group]
            if not documents:
                continue
            key = f"{prefix}{map_run_id}/{group}_0.json"
            body = _compact(documents).encode("utf-8")
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[group].append({"Key": key, "Size": len(body)})
        manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_record.map_run_arn, "ResultFiles": files}
        s3.put_object(Bucket=bucket, Key=manifest_key, Body=_compact(manifest).encode("utf-8"))
    except (ClientError, BotoCoreError) as error:
        cause = f"Could not write the Map Run results to s3://{bucket}/{prefix}: {error}"
        raise task_failed(env, "StatesResultWriterFailed", cause) from error
    env.stack.append(
        {"MapRunArn": map_run_record.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}
    )


# Attributes this patch sets on moto's execution frames: a child's own input, the Map state's input.
_CHILD_INPUT: Final = "_localcloud_child_input"
_MAP_INPUT: Final = "_localcloud_map_input"


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer import result_writer_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap

    DistributedItemProcessorWorker = distributed_item_processor_worker.DistributedItemProcessorWorker

    original_eval_job = DistributedItemProcessorWorker._eval_job
    if getattr(original_eval_job, "_localcloud_results", False):
        return
    original_eval_input = DistributedItemProcessorWorker._eval_input

    def _eval_input(self: Any, env_frame: Any) -> None:
        original_eval_input(self, env_frame)
        # The child execution's input: the item after ItemSelector/Parameters.
        setattr(env_frame, _CHILD_INPUT, env_frame.states.get_input())

    def _eval_job(self: Any, env: Any, job: Any) -> None:
        start = datetime.now(UTC)
        original_eval_job(self, env, job)
        status, output, error, cause = _outcome(env, job)
        child_input = getattr(env, _CHILD_INPUT, job.job_input)
        child = ChildResult(
            job.job_index, str(uuid.uuid4()), child_input, status, output, error, cause, start, datetime.now(UTC)
        )
        _remember(self._map_run_record, child)

    map_execution = StateMap._eval_execution
    write = result_writer_decl.ResultWriter._eval_body

    def _eval_execution(self: Any, env: Any) -> None:
        setattr(env, _MAP_INPUT, env.states.get_input())
        map_execution(self, env)

    def _write(self: Any, env: Any) -> None:
        # moto's ResultWriter evaluates its Parameters against the top of the stack, the
        # collected results; they must see the Map state's input, with the results left below.
        if not hasattr(env, _MAP_INPUT):
            write(self, env)
            return
        env.stack.append(getattr(env, _MAP_INPUT))
        self.parargs.eval(env=env)
        parameters = env.stack.pop()
        env.stack.pop()  # the Map state's input
        env.stack.append(parameters)
        self.resource_eval.eval_resource(env=env)

    StateMap._eval_execution = _eval_execution  # type: ignore[method-assign]
    result_writer_decl.ResultWriter._eval_body = _write  # type: ignore[method-assign]
    _eval_job._localcloud_results = True  # type: ignore[attr-defined]
    DistributedItemProcessorWorker._eval_input = _eval_input  # type: ignore[method-assign]
    DistributedItemProcessorWorker._eval_job = _eval_job  # type: ignore[method-assign]
    resource_eval_s3.ResourceEvalS3._handle_put_object = staticmethod(_write_results)  # type: ignore[method-assign]
