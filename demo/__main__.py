"""``make demo``: the platform end to end on this machine.

Starts the emulator, synthesizes the chosen environment aimed at it, ``terraform apply``,
sends real API requests and a real batch file, waits for every payment's final state,
prints what happened, then destroys the stack and stops the emulator. Exit status 1 if
anything did not reach its expected state.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass

from localcloud import LocalCloud
from testkit.alarms import subscribe_queue, trip_alarm, wait_for_alarm
from testkit.deployment import ROOT, StackDeployment, environment_variables
from testkit.fault_switch import fault_switch
from testkit.money_moves import run_money_moves
from testkit.scenarios import (
    API_SCENARIOS,
    BATCH_EXPECTED_FINAL,
    BATCH_EXPECTED_REJECTED,
    BATCH_NAME,
    BATCH_ROWS,
    ApiScenario,
)
from testkit.tenants import MERCHANT_A, MERCHANT_B, onboard_merchants, run_tenant_checks
from testkit.traffic import PlatformClient
from testkit.webhooks import run_webhooks

STARTED = time.monotonic()
DEMO_SUFFIX = "demo"


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


@dataclass
class ApiResult:
    scenario: ApiScenario
    answer: str
    payment_id: str | None
    final: str = ""


def run_api(client: PlatformClient) -> tuple[list[ApiResult], list[str]]:
    results, problems = [], []
    for scenario in API_SCENARIOS:
        response = client.create_payment(scenario.body, scenario.idempotency_key)
        body = response.json() if response.body.startswith("{") else {}
        code = body.get("error", {}).get("code") or body.get("status") or body.get("message", "")
        results.append(ApiResult(scenario, f"{response.status_code} {code}", body.get("payment_id")))
        if response.status_code != scenario.expected_http:
            problems.append(f"{scenario.label}: HTTP {response.status_code}, expected {scenario.expected_http}")
    finals = client.wait_for_final([r.payment_id for r in results if r.payment_id])
    for result in results:
        if result.payment_id:
            result.final = str((finals.get(result.payment_id) or {}).get("status", "missing"))
        if result.final != (result.scenario.expected_final or ""):
            problems.append(
                f"{result.scenario.label}: final {result.final!r}, expected {result.scenario.expected_final!r}"
            )
    return results, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--environment", default="dev", choices=["dev", "staging", "prod"])
    parser.add_argument("--keep", action="store_true", help="leave the stack and the emulator running")
    args = parser.parse_args(argv)

    state_dir = ROOT / ".localcloud" / "demo"
    # The emulator is the account as a newcomer gets it: no API Gateway logging role (TapAccount
    # sets it), and the Lambda quota of LOCALCLOUD_LAMBDA_CONCURRENCY_LIMIT (default 1000).
    cloud = LocalCloud(state_dir)
    outputs_file = state_dir / "outputs.json"
    problems: list[str] = []
    say("starting the emulator")
    endpoint = cloud.start()
    say(f"emulator at {endpoint} (logs: {state_dir / 'server.log'})")
    try:
        # What a deploy of the environment sets (staging and prod: alarm subscribers; prod: its domain).
        variables = environment_variables(endpoint, args.environment, DEMO_SUFFIX)
    except BaseException:
        cloud.stop()
        raise
    deployment = StackDeployment(
        endpoint=endpoint,
        workdir=state_dir / "cdktf.out",
        environment=args.environment,
        suffix=DEMO_SUFFIX,
        progress=say,
        variables=variables,
    )
    try:
        deployment.synth()
        deployment.preflight()
        deployment.apply()
        # `make merchant` reads this file (and the emulator's endpoint file) to reach this stack.
        outputs_file.write_text(json.dumps(deployment.outputs, indent=2, sort_keys=True))
        client = PlatformClient(endpoint, deployment.outputs)
        say(f"deployed: API {deployment.outputs['api_endpoint_url']}, bucket {deployment.outputs['batch_bucket_name']}")

        # Every API request and batch row names an onboarded merchant (batch rows of any other
        # merchant are rejected in the report).
        api_merchants = {s.body["merchant_id"] for s in API_SCENARIOS if isinstance(s.body, dict)}
        merchants = sorted(api_merchants | {row[1] for row in BATCH_ROWS})
        say(f"onboarding merchants with `make merchant`: {', '.join(merchants)}")
        client.onboard(*merchants)

        say("sending API requests")
        api_rows, api_problems = run_api(client)
        problems += api_problems

        say(f"uploading incoming/{BATCH_NAME} ({len(BATCH_ROWS)} rows)")
        key = client.upload_batch(BATCH_NAME, BATCH_ROWS)
        job = client.wait_for_batch(key)
        finals = client.wait_for_final(list(BATCH_EXPECTED_FINAL))
        for payment_id, expected in BATCH_EXPECTED_FINAL.items():
            status = (finals.get(payment_id) or {}).get("status", "missing")
            if status != expected:
                problems.append(f"batch row {payment_id} ended {status}, expected {expected}")
        if job.rejected != BATCH_EXPECTED_REJECTED or job.queued != len(BATCH_EXPECTED_FINAL):
            expected = f"{len(BATCH_EXPECTED_FINAL)}/{BATCH_EXPECTED_REJECTED}"
            problems.append(f"batch queued/rejected {job.queued}/{job.rejected}, expected {expected}")

        say(f"merchants as tenants: onboarding {MERCHANT_A} and {MERCHANT_B}")
        keys = onboard_merchants(endpoint, deployment.outputs, [MERCHANT_A, MERCHANT_B])
        tenant_checks = run_tenant_checks(endpoint, deployment.outputs, client.api_id, client.stage, keys)
        problems += [f"tenant check failed: {c.label} ({c.answer})" for c in tenant_checks if not c.ok]

        say("money both ways: manual capture in part, two refunds and a third refused, a void, a declined refund")
        money = run_money_moves(client)
        problems += money.problems

        say("webhooks: endpoints on local receivers reached through the emulator's network and TLS")
        webhooks = run_webhooks(endpoint, deployment.outputs, client.api_id, client.stage)
        problems += webhooks.problems

        print("\nAPI requests")
        print(f"  {'request':34} {'payment_id':38} {'answer':24} final")
        for row in api_rows:
            print(f"  {row.scenario.label:34} {row.payment_id or '-':38} {row.answer:24} {row.final}")
        print("\nMerchants as tenants (each request with one of the merchant's own secret keys)")
        for check in tenant_checks:
            print(f"  {check.label:34} {check.answer:40} {'ok' if check.ok else 'NOT OK'}")
        print("\nMoney both ways (capture, void, refunds; each answer, then GET /payments/{id} once final)")
        print("\n".join(money.table()))
        print(f"\nBatch {key}: {job.state}, rows {job.rows}, queued {job.queued}, rejected {job.rejected}")
        run = client.map_run(job.job_id)
        print(
            f"  map run: {run['status']}, {run['batches']} batches ({run['succeeded']} succeeded, "
            f"{run['failed']} failed), rows {job.rows}, rejected {job.rejected}"
        )
        for payment_id in BATCH_EXPECTED_FINAL:
            print(f"  {payment_id:12} {(finals.get(payment_id) or {}).get('status', 'missing')}")
        print("  error report:")
        for line in (job.report or "").splitlines():
            print(f"    {line}")
        print("\nWebhooks (a merchant's receiver on this machine, https through the emulator's network)")
        if webhooks.skipped:
            print(f"  skipped: {webhooks.skipped}")
        for webhook_line in webhooks.rows:
            print(f"  {webhook_line}")
        if os.environ.get("LOCALCLOUD_FAULTS"):
            injected = fault_switch(endpoint)
            print(f"\nFaults injected (LOCALCLOUD_FAULTS, seed {injected['seed']}):")
            for key, calls in sorted(injected["calls"].items()):
                print(f"  {key:40} {injected['failed'].get(key, 0)} of {calls} calls failed")
        dlq = client.queue_depth("payment_dlq_url")
        print(f"\nDead-letter queue depth: {dlq}")
        if dlq:
            problems.append(f"{dlq} message(s) in the dead-letter queue")

        say("alarm delivery: a queue subscribed to the alarm topic, one alarm set to ALARM")
        inbox = subscribe_queue(client)
        alarm_name = trip_alarm(
            client, f"payment-dlq-not-empty-{deployment.suffix}", "make demo: testing the alarm wiring"
        )
        delivered = wait_for_alarm(client, inbox, alarm_name)
        print(f"\nAlarm notification delivered to the subscribed queue: {delivered.subject}")
        print(f"  {delivered.alarm_name}: {delivered.new_state} ({delivered.reason})")
    except Exception as error:  # the demo reports, tears down, and fails
        problems.append(f"{type(error).__name__}: {error}")
    finally:
        if args.keep:
            say(f"--keep: emulator left at {endpoint}; stack in {deployment.stack_dir}")
            say(f"onboard a merchant on it: make merchant MERCHANT=<id> (outputs in {outputs_file})")
        else:
            try:
                deployment.destroy()
                outputs_file.unlink(missing_ok=True)
            except Exception as error:
                problems.append(f"destroy failed: {error}")
            cloud.stop()
            say("emulator stopped")
    if problems:
        print("\nNOT OK:\n  " + "\n  ".join(problems))
        return 1
    print(f"\nOK: every payment reached its expected final state ({time.monotonic() - STARTED:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
