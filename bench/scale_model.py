"""The pacing scale model: a batch file far larger than the workflow can take at once, on the emulator.

What it models: a ``REAL_ROWS``-row file on an account at Step Functions' documented
us-east-1 quotas (``StartExecution`` bucket 1,300 refilled at 300/s, ``StateTransition`` 5,000
at 5,000/s) with the prod preset's reservations (workflow 100, starter 10). Everything that sets
a rate is divided by ``--scale``: the emulator's token buckets (the account's quotas, set through
``/localcloud/stepfunctions``), the workflow's and the starter's reserved concurrency and the
pacing's quota refills (config knobs every environment has), and the file's rows. Time is not
scaled: the payment execution's 900 s ``TimeoutSeconds`` and a step's duration stay as they are
(the emulator's steps are slower than AWS's, and vary with the machine's load), so the model
meets the same question the real file does: does every execution finish within its timeout while
the backlog waits for start slots, and does every row settle without a redrive? The start slots
(payment_core/payments/admission.py) follow from the scaled workflow reservation: nothing assumes
how long a step takes.

The stack deployed is the dev preset with those knobs changed (``scaled_config``). Nothing
emulator-only is set on the stack.

Run: ``make scale-model [SCALE=50] [ROWS=<rows>]`` (deploys; prints the ratios first, then
progress each minute, then the time, throughput, in-flight peak and timed-out executions).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from payment_core.payments.admission import StartSlots, parked_ids

from lib.config import PlatformConfig
from lib.config.presets import config_for
from localcloud import LocalCloud
from testkit.deployment import StackDeployment
from testkit.traffic import PlatformClient

REAL_ROWS = 100_000
REAL = {
    "start_execution": {"bucket": 1_300, "refill": 300},
    "state_transition": {"bucket": 5_000, "refill": 5_000},
}
REAL_WORKFLOW_CONCURRENCY = 100
REAL_STARTER_CONCURRENCY = 10
MERCHANT = "merchant-scale"
SUFFIX = "scale"


def scaled(value: float, scale: int) -> int:
    return max(1, round(value / scale))


def scaled_quotas(scale: int) -> dict[str, dict[str, float]]:
    return {name: {"bucket": scaled(q["bucket"], scale), "refill": q["refill"] / scale} for name, q in REAL.items()}


def scaled_config(scale: int) -> PlatformConfig:
    """The dev preset with the rates of an account and of the prod reservations divided by ``scale``."""
    dev = config_for("dev")
    workflow, starter = scaled(REAL_WORKFLOW_CONCURRENCY, scale), scaled(REAL_STARTER_CONCURRENCY, scale)
    functions = replace(
        dev.functions,
        workflow=replace(dev.functions.workflow, reserved_concurrency=workflow),
        workflow_starter=replace(dev.functions.workflow_starter, reserved_concurrency=starter),
    )
    quotas = scaled_quotas(scale)
    pacing = replace(
        config_for("prod").pacing,
        start_execution_refill_per_second=quotas["start_execution"]["refill"],
        state_transition_refill_per_second=quotas["state_transition"]["refill"],
    )
    queues = replace(
        dev.queues, consumer_maximum_concurrency=max(2, min(dev.queues.consumer_maximum_concurrency, workflow))
    )
    return replace(dev, functions=functions, pacing=pacing, queues=queues)


def _synth(deployment: StackDeployment, config: PlatformConfig) -> None:
    from cdktf import App

    from lib.app import build_app
    from lib.settings import read_settings
    from localcloud.provider import provider_overrides

    environ = {"ENVIRONMENT": "dev", "ENVIRONMENT_SUFFIX": SUFFIX, "LOCAL_CLOUD_ENDPOINT": deployment.endpoint}
    settings = replace(read_settings(environ), config=config)
    build_app(settings, emulator_provider=provider_overrides, app=App(outdir=str(deployment.workdir))).synth()


def _post(endpoint: str, route: str, document: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(f"{endpoint}{route}", data=json.dumps(document).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def _executions(platform: PlatformClient, status: str) -> int:
    sfn = platform.client("stepfunctions")
    arn = platform.outputs["state_machine_arn"]
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, statusFilter=status)
    return sum(len(page["executions"]) for page in pages)


def _slots(platform: PlatformClient) -> tuple[int, int]:
    """(payments holding a start slot, payments waiting for one), read from the start slots table.
    Waiting counts payments, not parked items: a stream batch retried after a throttled start
    parks its later records again (each park is harmless: a woken payment that holds a slot or
    has ended already starts nothing), so one payment can stand in the queue more than once."""
    dynamodb = platform.client("dynamodb")
    (table,) = [name for name in dynamodb.list_tables()["TableNames"] if name.startswith("payment-start-slots")]
    slots = StartSlots(dynamodb, table, limit=0)  # read only: the limit is the stack's, not ours
    return len(slots.holders()), len(set(parked_ids(slots)))


def _wait_for_final(
    platform: PlatformClient, payment_ids: list[str], began: float, timeout: float, peak: dict[str, int]
) -> dict[str, dict[str, Any] | None]:
    """``wait_for_final`` 20 s at a time, printing how many are final, running and waiting, and
    keeping the peaks of slots held, running executions and waiting payments in ``peak``. Running
    may exceed the slots by executions past Notify (their slot freed, their last transition not
    yet recorded): they hold no step of the workflow function."""
    final: dict[str, dict[str, Any] | None] = {}
    while True:
        waiting = [pid for pid in payment_ids if pid not in final]
        found = platform.wait_for_final(waiting, timeout=20)
        final |= {pid: item for pid, item in found.items() if item and item.get("status") in ("SETTLED", "FAILED")}
        elapsed = time.monotonic() - began
        running, (holding, parked) = _executions(platform, "RUNNING"), _slots(platform)
        for name, value in (("holding", holding), ("running", running), ("waiting", parked)):
            peak[name] = max(peak[name], value)
        print(
            f"  {elapsed:5.0f} s: {len(final)}/{len(payment_ids)} final, {running} executions running, "
            f"{holding} slots held, {parked} waiting",
            flush=True,
        )
        if len(final) == len(payment_ids) or elapsed > timeout:
            return {pid: final.get(pid) for pid in payment_ids}


def run(scale: int, rows: int) -> int:
    config = scaled_config(scale)
    pacing = config.start_pacing
    quotas = scaled_quotas(scale)
    print(
        f"scale 1:{scale}: {rows} rows stand for {rows * scale:,} (a {REAL_ROWS:,}-row file is {REAL_ROWS // scale:,})"
    )
    print(f"  StartExecution bucket {REAL['start_execution']} -> {quotas['start_execution']}")
    print(f"  StateTransition bucket {REAL['state_transition']} -> {quotas['state_transition']}")
    print(
        f"  workflow reserved {REAL_WORKFLOW_CONCURRENCY} -> {config.functions.workflow.reserved_concurrency}, "
        f"starter reserved {REAL_STARTER_CONCURRENCY} -> {config.functions.workflow_starter.reserved_concurrency}"
    )
    print(
        f"  start slots {pacing.in_flight_limit} (workflow reserved x {config.pacing.workflow_utilization}); "
        f"starts at most {pacing.starts_per_second:.3g}/s (limited by {pacing.limited_by}), "
        f"{pacing.starts_per_second_per_starter:.3g} per starter, stream batch {pacing.batch_size}"
    )
    with tempfile.TemporaryDirectory(prefix="scale-model-") as scratch, LocalCloud(Path(scratch) / "state") as cloud:
        print("  quotas:", _post(cloud.endpoint, "/localcloud/stepfunctions", quotas))
        deployment = StackDeployment(endpoint=cloud.endpoint, workdir=Path(scratch) / "cdktf.out", suffix=SUFFIX)
        began = time.monotonic()
        _synth(deployment, config)
        deployment.apply()
        print(f"  deployed in {time.monotonic() - began:.0f} s")
        platform = PlatformClient(cloud.endpoint, deployment.outputs)
        platform.onboard(MERCHANT)
        tag = uuid.uuid4().hex[:6]
        payment_ids = [f"pay_scale_{tag}_{n:06d}" for n in range(rows)]
        lines = [[pid, MERCHANT, "12.50", "USD", f"scale-{n}"] for n, pid in enumerate(payment_ids)]
        began = time.monotonic()
        key = platform.upload_batch(f"scale-{tag}.csv", lines)
        job = platform.wait_for_batch(key, timeout=3600)
        queued_at = time.monotonic() - began
        peak = {"holding": 0, "running": 0, "waiting": 0}
        final = _wait_for_final(platform, payment_ids, began, timeout=rows * 10 + 900, peak=peak)
        seconds = time.monotonic() - began
        settled = sum(1 for item in final.values() if item and item.get("status") == "SETTLED")
        done = sum(1 for item in final.values() if item and item.get("status") in ("SETTLED", "FAILED"))
        timed_out, failed = _executions(platform, "TIMED_OUT"), _executions(platform, "FAILED")
        with urllib.request.urlopen(f"{cloud.endpoint}/localcloud/stepfunctions", timeout=30) as answer:
            throttles = json.loads(answer.read())
    print(
        f"  file queued ({job.queued} rows) in {queued_at:.0f} s; "
        f"{done}/{rows} final, {settled} SETTLED, in {seconds:.0f} s"
    )
    print(
        f"  = {done / seconds:.3g} payments/s with {pacing.in_flight_limit} slots "
        f"({done / seconds / pacing.in_flight_limit:.3g} per slot); "
        f"slots held at most {peak['holding']}, executions running at most {peak['running']}, "
        f"waiting at most {peak['waiting']}"
    )
    print(
        f"  executions TIMED_OUT {timed_out}, FAILED {failed}; throttled by the emulator: "
        f"StartExecution {throttles['start_execution']['throttled']}, "
        f"transitions {throttles['state_transition']['throttled']}"
    )
    # Rows per concurrent slot are the same at 1:1, and time is not scaled.
    print(f"  so a {rows * scale:,}-row file at 1:1 takes the same {seconds / 60:.0f} min at these step times")
    in_bounds = peak["holding"] <= pacing.in_flight_limit
    return 0 if done == rows and timed_out == 0 and failed == 0 and in_bounds else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=50)
    parser.add_argument("--rows", type=int, default=REAL_ROWS // 50)
    args = parser.parse_args()
    return run(args.scale, args.rows)


if __name__ == "__main__":
    sys.exit(main())
