"""Pacing: the start slots, the starter's rate cap, its share and the stream batch size, derived from config."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from payment_core import contract

from lib.config import config_for
from lib.config.pacing import PacingConfig, start_pacing
from lib.config.platform_config import TRANSITIONS_PER_PAYMENT
from tests.unit.config_refusal import refusal
from tests.unit.synth import SynthesizedStack
from tests.unit.test_functions import _function, _mapping_of


def _pacing(**changes: Any) -> PacingConfig:
    return replace(config_for("prod").pacing, **changes)


def test_the_slots_are_the_workflow_concurrency_at_its_utilization_and_the_pace_the_lesser_quota() -> None:
    pacing = _pacing(account_share=0.5, workflow_utilization=0.5)
    # Slots: 100 x 0.5 = 50. Rates: 300 x 0.5 = 150 starts; 5,000 x 0.5 / 6 = 416.7.
    paced = start_pacing(pacing, workflow_concurrency=100, starter_concurrency=10, transitions_per_payment=6)
    assert (paced.in_flight_limit, paced.starts_per_second, paced.starts_per_second_per_starter) == (50, 150, 15)
    assert (paced.limited_by, paced.batch_size) == ("start_execution", 75)  # 15 a second for 5 s

    transitions = start_pacing(
        _pacing(state_transition_refill_per_second=120, account_share=1.0),
        workflow_concurrency=3,
        starter_concurrency=2,
        transitions_per_payment=6,
    )
    # 3 x 0.7 = 2.1: rounded down, never above what the function can run.
    assert (transitions.starts_per_second, transitions.limited_by, transitions.in_flight_limit) == (
        20,
        "state_transition",
        2,
    )


def test_unreserved_functions_count_the_configured_concurrency_and_one_slot_at_least() -> None:
    paced = start_pacing(
        _pacing(unreserved_workflow_concurrency=1, unreserved_starter_concurrency=2, workflow_utilization=0.5),
        workflow_concurrency=None,
        starter_concurrency=None,
        transitions_per_payment=6,
    )
    assert (paced.in_flight_limit, paced.starts_per_second_per_starter) == (1, 120)


def test_the_presets_slots_and_paces() -> None:
    paces = {env: config_for(env).start_pacing for env in ("dev", "staging", "prod")}
    assert {env: (p.in_flight_limit, p.starts_per_second, p.batch_size, p.limited_by) for env, p in paces.items()} == {
        "dev": (25, 30.0, 60, "start_execution"),
        "staging": (14, 150.0, 150, "start_execution"),
        "prod": (70, 240.0, 120, "start_execution"),
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start_execution_refill_per_second": 0}, "pacing.start_execution_refill_per_second must be positive, got 0"),
        (
            {"state_transition_refill_per_second": -1},
            "pacing.state_transition_refill_per_second must be positive, got -1",
        ),
        ({"account_share": 1.5}, "pacing.account_share must be above 0 and at most 1, got 1.5"),
        ({"workflow_utilization": 0}, "pacing.workflow_utilization must be above 0 and at most 1, got 0"),
        ({"unreserved_workflow_concurrency": 0}, "pacing.unreserved_workflow_concurrency must be at least 1, got 0"),
        ({"unreserved_starter_concurrency": 0}, "pacing.unreserved_starter_concurrency must be at least 1, got 0"),
        ({"starter_batch_seconds": 0}, "pacing.starter_batch_seconds must be positive, got 0"),
        (
            {"throttle_retry_base_ms": 6_000},
            "pacing.throttle_retry_base_ms must be at least 1 and at most pacing.throttle_retry_max_ms (5000), "
            "got 6000",
        ),
    ],
)
def test_each_knob_is_checked_with_a_message_naming_it(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        _pacing(**changes)
    assert str(refused.value) == message


def test_a_batch_that_cannot_start_within_half_the_starter_timeout_is_refused() -> None:
    assert refusal("prod", "pacing", starter_batch_seconds=20) == (
        "pacing: a starter batch of 480 at 24 starts/s takes 20 s, more than half the workflow_starter timeout (30 s): "
        "raise functions.workflow_starter.timeout_seconds or the pace"
    )


@pytest.mark.stacks
def test_the_transitions_per_payment_are_the_definitions() -> None:
    from lib.components.workflow import workflow_definition

    states = workflow_definition(
        "arn:aws:lambda:us-east-1:123456789012:function:f", partition="aws", authorization_window_seconds=60
    )["States"]
    path, state = [], "Validate"
    while state:
        path.append(state)
        state = states[state].get("Next") or states[state].get("Default")
    assert path == ["Validate", "Process", "CaptureMethod", "Record", "Notify"]
    assert len(path) + 1 == TRANSITIONS_PER_PAYMENT  # the states entered, and the start


def test_the_starter_gets_its_pace_and_the_mapping_its_batch(env_stack: SynthesizedStack) -> None:
    config = config_for(env_stack.stack.node.id.removeprefix("TapStack"))
    paced = config.start_pacing
    variables = _function(env_stack, "workflow_starter")["environment"]["variables"]
    assert {name: variables[name] for name in variables if name.startswith("START_")} == {
        "START_INTERVAL_MS": str(math.ceil(1000 / paced.starts_per_second_per_starter)),  # 200, 358, 143
        "START_RETRY_BASE_MS": "100",
        "START_RETRY_MAX_MS": "5000",
        "START_TIME_RESERVE_MS": "1000",
        "START_SLOTS_TABLE_NAME": "${aws_dynamodb_table.platform_start_slots_table_9341D423.name}",
    }
    assert _mapping_of(env_stack, "workflow_starter")["batch_size"] == paced.batch_size
    # The starter, the workflow and the sweeper share the slots and their limit.
    for function in ("workflow_starter", "workflow", "sweeper"):
        variables = _function(env_stack, function)["environment"]["variables"]
        assert variables[contract.IN_FLIGHT_LIMIT] == str(paced.in_flight_limit)
