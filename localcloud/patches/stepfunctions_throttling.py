"""Step Functions' token buckets: ``StartExecution`` calls and state transitions, per account.

Evidence (Step Functions developer guide, "Step Functions service quotas"): "Some Step
Functions API actions are throttled using a token bucket scheme to maintain service
bandwidth"; Standard workflows, ``StartExecution`` bucket 1,300 refilled at 300 per second in
US East (N. Virginia), US West (Oregon) and Europe (Ireland), 800 at 150 elsewhere; "Step
Functions state transitions are throttled using a token bucket scheme", ``StateTransition``
5,000 at 5,000 per second (800 at 800 elsewhere), and "New AWS accounts have reduced state
transition quotas"; "Throttling on the ``StateTransition`` service metric is reported as
``ExecutionThrottled`` in Amazon CloudWatch". A refused API call is HTTP 400
``ThrottlingException`` "Rate exceeded" (botocore retries it: ``_retry.json``).

moto 5.2.5 throttles nothing: any number of ``StartExecution`` calls a second succeed and every
execution runs its states as fast as the interpreter goes, so pacing (a file of 100,000 rows
becoming executions) cannot be shown or measured locally.

The patch keeps the two buckets of ``localcloud.stepfunctions_quotas`` (sizes and refill rates
configurable, AWS's values by default): a ``StartExecution`` request with no token left is
refused with ``ThrottlingException`` before anything starts; each state an execution enters
(the children of a Distributed Map included, as they are Standard executions) takes a
``StateTransition`` token and, when there is none, waits for the refill: a throttled transition
is delayed, not failed. The throttle counts are in ``GET /localcloud/stepfunctions``.
"""

from __future__ import annotations

import time
from typing import Any

from localcloud.stepfunctions_quotas import QUOTAS


def apply() -> None:
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
    from moto.stepfunctions.responses import StepFunctionResponse

    class ThrottlingException(AWSError):
        TYPE = "ThrottlingException"
        STATUS = 400

    start_execution = StepFunctionResponse.start_execution
    if getattr(start_execution, "_localcloud_throttled", False):
        return

    def throttled_start_execution(self: Any) -> Any:
        if not QUOTAS.buckets["start_execution"].try_take():
            raise ThrottlingException("Rate exceeded")
        return start_execution(self)

    enter_state = CommonStateField._eval_body

    def throttled_transition(self: Any, env: Any) -> None:
        delay = QUOTAS.buckets["state_transition"].wait_time()
        if delay:
            time.sleep(delay)
        enter_state(self, env)

    throttled_start_execution._localcloud_throttled = True  # type: ignore[attr-defined]
    StepFunctionResponse.start_execution = throttled_start_execution  # type: ignore[method-assign]
    CommonStateField._eval_body = throttled_transition  # type: ignore[method-assign]
