"""The Step Functions interpreter reuses its AWS clients instead of building one per task.

Evidence (``moto/stepfunctions/parser/asl/utils/boto_client.py``, ``boto_client_for``): every
Lambda task of every execution calls ``boto3.client(...)``, about 25 ms of CPU here, in the
server process and so under its GIL. Measured on the chaos load (workflow reserved at 2, 140
payments): 557 step invocations ran and 6,701 were throttled in 7 minutes, each throttled
attempt building a new client, so the retries of waiting executions took the CPU the running
steps needed (warm step p50 600 ms, p90 3.3 s, for a handler that takes ~50 ms alone).

The patch keeps one client per (region, service) with moto's exact configuration (one attempt,
no retries: Step Functions reports a throttle to the state machine's ``Retry`` rather than
retrying it itself). botocore clients are thread-safe. Emulator overhead only: every call
still reaches the server and is throttled, faulted and answered exactly as before.
"""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import boto_client

    build = boto_client.boto_client_for
    if getattr(build, "_localcloud_cached", False):
        return

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service)
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = build(region=region, service=service, state_credentials=state_credentials)
        return client

    boto_client_for._localcloud_cached = True  # type: ignore[attr-defined]
    boto_client.boto_client_for = boto_client_for
    lambda_eval_utils.boto_client_for = boto_client_for  # type: ignore[attr-defined]
