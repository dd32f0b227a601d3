"""The starter's pace and its own retries of a throttled StartExecution, on a fake clock."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from accepted import accept
from botocore.exceptions import ClientError
from payment_core.payments.start_pacing import PacedStarts, PacingSettings, StartDeferred

SETTINGS = PacingSettings(starts_per_second=2, retry_base_seconds=0.1, retry_cap_seconds=1.0, reserve_seconds=1.0)


def _error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "StartExecution"
    )


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class Starter:
    """Answers each start from ``failures`` (an error to raise, or None), then succeeds."""

    def __init__(self, clock: Clock, failures: list[ClientError | None] | None = None) -> None:
        self.clock, self.failures, self.calls = clock, list(failures or []), []  # type: list[tuple[str, float]]

    def start(self, payment_id: str) -> None:
        self.calls.append((payment_id, self.clock.now))
        if self.failures:
            failure = self.failures.pop(0)
            if failure is not None:
                raise failure


def _paced(starter: Starter, clock: Clock, remaining: float = 30.0, jitter: float = 1.0) -> PacedStarts:
    return PacedStarts(starter, SETTINGS, remaining, clock=clock, sleep=clock.sleep, jitter=lambda: jitter)


def test_starts_are_spaced_at_the_pace_and_the_invocation_holds_its_last_slot() -> None:
    clock = Clock()
    starter = Starter(clock)
    starts = _paced(starter, clock)
    for payment_id in ("a", "b", "c"):
        starts.start(payment_id)
    starts.finish()

    assert starter.calls == [("a", 100.0), ("b", 100.5), ("c", 101.0)]
    # Returns at 3 / pace: the next batch of this shard cannot start sooner than the pace allows.
    assert clock.now == 101.5


def test_a_throttled_start_is_retried_with_full_jitter_doubling_to_the_cap() -> None:
    clock = Clock()
    throttled = [_error("ThrottlingException")] * 5
    starter = Starter(clock, throttled)
    starts = _paced(starter, clock, jitter=0.5)
    starts.start("a")

    assert len(starter.calls) == 6
    # Half (the jitter) of 0.1, 0.2, 0.4, 0.8, then the 1.0 cap.
    assert clock.sleeps == [0.05, 0.1, 0.2, 0.4, 0.5]
    assert starts.retries == 5


def test_a_5xx_is_retried_and_any_other_error_is_raised_at_once() -> None:
    clock = Clock()
    starter = Starter(clock, [_error("ServiceUnavailable", 503), _error("InternalError", 500)])
    _paced(starter, clock).start("a")
    assert len(starter.calls) == 3

    refused = Starter(clock, [_error("StateMachineDoesNotExist")])
    with pytest.raises(ClientError):
        _paced(refused, clock).start("b")
    assert len(refused.calls) == 1


def test_out_of_time_the_record_and_every_later_one_go_back_without_a_call() -> None:
    clock = Clock()
    starter = Starter(clock, [_error("ThrottlingException")] * 100)
    starts = _paced(starter, clock, remaining=5.0)

    with pytest.raises(StartDeferred):
        starts.start("a")
    # Never slept past the deadline (5 s less the 1 s reserve).
    assert clock.now <= 104.0
    calls = len(starter.calls)
    with pytest.raises(StartDeferred):
        starts.start("b")
    assert len(starter.calls) == calls


def test_a_slot_past_the_deadline_is_not_waited_for() -> None:
    clock = Clock()
    starter = Starter(clock)
    starts = PacedStarts(
        starter, PacingSettings(0.25, 0.1, 1.0, 1.0), 6.0, clock=clock, sleep=clock.sleep, jitter=lambda: 1.0
    )
    starts.start("a")  # at once; the next slot is 4 s later, within the 5 s before the reserve
    starts.start("b")
    with pytest.raises(StartDeferred):
        starts.start("c")  # its slot (8 s) is past the deadline
    assert [call[1] for call in starter.calls] == [100.0, 104.0]
    starts.finish()
    assert clock.now == 105.0  # held to the deadline at most


def test_the_handler_gives_back_what_it_had_no_time_to_start(aws: Any, context: Any) -> None:
    first, second = accept(aws, context, "a"), accept(aws, context, "b")
    runtime = aws.handlers["workflow_starter"].runtime

    class ThrottledOnce:
        def __init__(self) -> None:
            self.calls = 0

        def start_execution(self, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                raise _error("ThrottlingException")
            return aws.stepfunctions.start_execution(**kwargs)

    runtime.stepfunctions.override(ThrottledOnce())
    # A throttle inside the time left is retried in the invocation: nothing to report.
    assert aws.relay_outbox(context) == {"batchItemFailures": []}
    assert sorted(e["name"] for e in aws.executions()) == sorted([first, second])

    class Throttled:
        def start_execution(self, **_: Any) -> Any:
            raise _error("ThrottlingException")

    third, fourth = accept(aws, context, "c"), accept(aws, context, "d")
    sequence = {
        r["dynamodb"]["Keys"]["payment_id"]["S"]: r["dynamodb"]["SequenceNumber"]
        for r in aws.outbox_records()
        if r["eventName"] == "INSERT"
    }
    runtime.stepfunctions.override(Throttled())
    # 1.2 s left, 1 s of it the reserve: throttled until then, this record and the next go back.
    short = replace(context, remaining_millis=1_200)
    assert aws.relay_outbox(short) == {
        "batchItemFailures": [{"itemIdentifier": sequence[third]}, {"itemIdentifier": sequence[fourth]}]
    }
