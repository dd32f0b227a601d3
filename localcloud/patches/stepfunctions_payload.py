"""Step Functions' payload quota: 262,144 bytes of UTF-8 JSON, measured where AWS measures it.

Evidence (Step Functions developer guide):

* "Quotas for Standard Workflows": "Maximum input or output size for a task, state, or
  execution: 262,144 bytes of data as a UTF-8 encoded string. This quota affects tasks
  (activity, Lambda function, or integrated service), state or execution output, and input data
  when scheduling a task, entering a state, or starting an execution." (The API reference gives
  ``StateEnteredEventDetails.input`` "Maximum length of 262144": 262,144 bytes is allowed.)
* "Error handling", ``States.DataLimitExceeded``: reported "when the output of a connector is
  larger than payload size quota; when the output of a state is larger than payload size quota".
* The cause AWS writes, recorded against AWS in LocalStack's validated snapshots
  (``tests/aws/services/stepfunctions/v2/error_handling/test_states_errors.snapshot.json``):
  "The state/task '<Lambda ARN or state name>' returned a result with a size exceeding the
  maximum number of bytes service limit."; the same text in the wild for a Map state
  (aws-samples/review-and-assessment-powered-by-intelligent-documentation#58: "The state/task
  'ProcessAllItems' returned a result ...").
* A Distributed Map's collected results count before ``ResultSelector``/``ResultPath``/
  ``OutputPath``: aws/aws-cdk#24799 ("always generates the output payload, causing the whole
  execution to fail due to States.DataLimitExceeded exception even though the OutputPath
  property is set to null"); the ResultWriter page: "Exporting the results to an Amazon S3
  bucket is helpful if your output payload size exceeds 256 KiB".

What moto 5.2.5 does (``stepfunctions/parser/quotas.py``): it checks a Lambda task's result, a
service integration's output and every state's output, but (1) with ``len(...) < 262144`` on
``json.dumps`` with its default ``", "``/``": "`` separators and ASCII escapes, so the count is
not AWS's (``"é"`` counts 6 bytes instead of 2, every separator one more, and exactly 262,144
fails), (2) for a task whose ``Resource`` is a function ARN, the whole Invoke response
(``Payload`` plus ``StatusCode``, ``ExecutedVersion``...) instead of the function's result, and
(3) never the array a Map state collects from its iterations: a Map whose
``ResultSelector`` keeps a marker passes with results of any size.

The patch measures compact UTF-8 JSON against ``QUOTAS.payload_limit_bytes`` (AWS's value; the
emulator's control route can only lower it, for scale models: ``localcloud.stepfunctions_quotas``)
in all three of moto's checks (a function-ARN task: its payload), and checks a Map state's
collected results (when it has no ``ResultWriter``) before its ``ResultSelector``. The Map's
failure goes through the state's ``Retry``/``Catch`` like a task result that is too large
(AWS's recorded behaviour for a Lambda task: caught, even by ``States.ALL``, although the
error-handling page calls the error terminal); a state *output* that is too large still fails
the execution outright, as moto did and as AWS recorded for a ``Pass`` state.
"""

from __future__ import annotations

import json
from typing import Any

from localcloud.stepfunctions_failures import task_failed
from localcloud.stepfunctions_quotas import QUOTAS


def payload_bytes(value: Any) -> int:
    """Size of ``value`` as Step Functions counts it: UTF-8 bytes of its compact JSON text."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8"))


def within_payload_limit(value: Any) -> bool:
    return payload_bytes(value) <= QUOTAS.payload_limit_bytes


def data_limit_exceeded_cause(name: str) -> str:
    return f"The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.state import state
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_lambda
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

    # Each module imported moto's function by name; replace it where it is called.
    for module in (state, state_task_lambda, state_task_service):
        module.is_within_size_quota = within_payload_limit  # type: ignore[attr-defined]

    original = StateMap._eval_execution
    if getattr(original, "_localcloud_payload", False):
        return

    # A function-ARN task measured Lambda's whole Invoke response ({"Payload", "StatusCode",
    # ...}); its result, what the quota and the cause speak of, is the payload.
    verify_lambda_result = StateTaskLambda._verify_size_quota

    def _verify_size_quota(self: Any, env: Any, value: Any) -> None:
        verify_lambda_result(self, env, value["Payload"] if isinstance(value, dict) and "Payload" in value else value)

    StateTaskLambda._verify_size_quota = _verify_size_quota  # type: ignore[method-assign]

    def _eval_execution(self: Any, env: Any) -> None:
        original(self, env)
        # Without a ResultWriter the collected results are the state's result (top of the
        # stack), measured before ResultSelector and ResultPath are applied.
        if self.result_writer is None and env.stack and not within_payload_limit(env.stack[-1]):
            raise task_failed(env, "StatesStatesDataLimitExceeded", data_limit_exceeded_cause(self.name))

    _eval_execution._localcloud_payload = True  # type: ignore[attr-defined]
    StateMap._eval_execution = _eval_execution  # type: ignore[method-assign]
