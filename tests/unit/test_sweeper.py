"""The sweeper on the synthesized stack: its schedule, its sparse index and its alarm; its config's checks."""

from __future__ import annotations

from dataclasses import replace

import pytest
from payment_core import contract

from lib.config import SweeperConfig, config_for
from tests.unit.synth import SynthesizedStack


def _suffix(stack: SynthesizedStack) -> str:
    return str(stack.stack.node.id).removeprefix("TapStack")


def test_the_schedule_invokes_the_sweeper_every_interval(env_stack: SynthesizedStack) -> None:
    s = _suffix(env_stack)
    schedule = env_stack.only("aws_scheduler_schedule")
    minutes = config_for(s).sweeper.interval_minutes
    sweeper = env_stack.named("aws_lambda_function", "function_name", f"payment-sweeper-{s}")
    assert schedule["name"] == f"payment-sweeper-{s}"
    # Scheduler's rate() takes the singular unit for 1 (the dev preset's interval).
    assert schedule["schedule_expression"] == (f"rate({minutes} minutes)" if minutes > 1 else "rate(1 minute)")
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    assert schedule["target"]["arn"] == env_stack.live_reference(sweeper, "arn")


def test_the_sweeper_never_redrives_before_an_execution_timeout_has_passed(env_stack: SynthesizedStack) -> None:
    from lib.components.sweeper import STALE_AFTER_SECONDS
    from lib.components.workflow import EXECUTION_TIMEOUT_SECONDS

    sweeper = env_stack.named("aws_lambda_function", "function_name", f"payment-sweeper-{_suffix(env_stack)}")
    stale_after = int(sweeper["environment"]["variables"][contract.SWEEP_STALE_AFTER_SECONDS])
    assert stale_after == STALE_AFTER_SECONDS > EXECUTION_TIMEOUT_SECONDS
    machine = env_stack.named("aws_sfn_state_machine", "name", f"payment-workflow-{_suffix(env_stack)}")
    # The active steps' bound, plus the window a manual payment may rest authorized (its payment
    # leaves the open index while it rests: capture.CaptureRequests.store_token).
    window = config_for(_suffix(env_stack)).processor.authorization_window_seconds
    assert f'"TimeoutSeconds" = {EXECUTION_TIMEOUT_SECONDS + window},' in machine["definition"]


def test_non_final_payments_are_in_a_sparse_keys_only_index(dev: SynthesizedStack) -> None:
    payments = dev.named("aws_dynamodb_table", "name", "payments-dev")
    [index] = [i for i in payments["global_secondary_index"] if i["name"] == contract.OPEN_PAYMENTS_INDEX]
    assert (index["hash_key"], index["range_key"], index["projection_type"]) == (
        contract.OPEN_SHARD_ATTRIBUTE,
        "created_at",
        "KEYS_ONLY",
    )
    assert {"name": contract.OPEN_SHARD_ATTRIBUTE, "type": "S"} in payments["attribute"]


def test_the_oldest_open_payment_alarms_once_its_recovery_had_its_time(dev: SynthesizedStack) -> None:
    from lib.components.sweeper import oldest_open_alarm_seconds
    from lib.components.workflow import EXECUTION_TIMEOUT_SECONDS

    [alarm] = [
        a
        for a in dev.resources("aws_cloudwatch_metric_alarm").values()
        if a["alarm_name"] == "payment-oldest-open-age-dev"
    ]
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == (
        "PaymentPlatform",
        contract.OLDEST_OPEN_PAYMENT_AGE_METRIC,
        "Maximum",
    )
    assert alarm["dimensions"] == {"service": "payment-platform"}
    minutes = config_for("dev").sweeper.interval_minutes
    assert alarm["threshold"] == oldest_open_alarm_seconds(minutes) == 2 * EXECUTION_TIMEOUT_SECONDS + 60 + minutes * 60
    assert alarm["alarm_actions"] and alarm["alarm_actions"] == alarm["ok_actions"]


@pytest.mark.parametrize("minutes", [0, 1_441])
def test_the_interval_is_refused_outside_schedulers_range(minutes: int) -> None:
    with pytest.raises(ValueError) as refused:
        SweeperConfig(interval_minutes=minutes)
    assert str(refused.value) == f"sweeper.interval_minutes must be between 1 and 1440, got {minutes}"


def test_a_sweep_must_end_before_the_next_starts() -> None:
    prod = config_for("prod")  # its sweeps may last 300 s
    with pytest.raises(ValueError) as refused:
        replace(prod, sweeper=SweeperConfig(interval_minutes=2))
    assert str(refused.value) == (
        "functions.sweeper.timeout_seconds must be at most sweeper.interval_minutes x 60 (120), got 300"
    )
