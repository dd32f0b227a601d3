"""EventBridge Scheduler schedules that run: a ``rate()`` schedule invokes its Lambda target.

Evidence: moto 5.2.5's ``moto/scheduler/models.py`` only stores schedules (``Schedule`` keeps
the expression and the target; nothing reads them again), so a deployed schedule never fires and
the sweeper would never run locally. AWS invokes the target once per period of a
``rate(value unit)`` expression, asynchronously for Lambda (``InvocationType=Event``,
"Scheduler invokes AWS Lambda ... asynchronously", Scheduler user guide, "Using universal
targets"/"templated targets"), with the target's ``Input`` as the event (``{}`` when absent).

This patch adds a timer thread that, for every ENABLED schedule whose expression is ``rate()``
and whose target is a Lambda function, invokes the function through the emulator's async path
(``lambda_runtime.submit_async``: retries and throttling as for any async invocation) once per
period, the first one period after the schedule was created or updated (AWS: a rate schedule
without a start date starts when it is created). ``cron()`` and ``at()`` expressions and
non-Lambda targets are not run (the platform has none); they are reported once on stderr so a
schedule that does not fire is never silent. Not enforced: that the schedule's role may invoke
the target (the synth tests check the role's one grant).
"""

from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3_600, "day": 86_400}
TICK_SECONDS = 1.0


def period_seconds(expression: str) -> int | None:
    """The period of a ``rate()`` expression, or None for any other kind."""
    match = RATE.fullmatch(expression.strip())
    if match is None:
        return None
    value, unit = int(match.group(1)), match.group(2).removesuffix("s")
    return value * _UNIT_SECONDS[unit]


@dataclass
class ScheduleRunner:
    """Every TICK_SECONDS: invoke each due rate schedule's Lambda target, then plan its next run."""

    _due: dict[tuple[str, float], float] = field(default_factory=dict)  # (arn, last modified) -> due
    _reported: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, daemon=True, name="scheduler-runner")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick(time.time())
            except Exception as exc:  # a bad schedule must not stop the others
                print(f"localcloud: scheduler runner: {exc!r}", file=sys.stderr)

    def tick(self, now: float) -> list[str]:
        """Invoke what is due at ``now``; returns the schedules' ARNs that fired."""
        fired = []
        for schedule in _schedules():
            if schedule.state != "ENABLED":
                continue
            period = period_seconds(schedule.schedule_expression)
            target = str(schedule.target.get("Arn", ""))
            if period is None or ":lambda:" not in target:
                self._report_once(schedule.arn, f"{schedule.schedule_expression} -> {target} is not run locally")
                continue
            # An update (new expression or target) restarts the period, as a new schedule would.
            key = (schedule.arn, float(schedule.last_modified_date))
            due = self._due.setdefault(key, float(schedule.last_modified_date) + period)
            if now < due:
                continue
            self._due[key] = due + period * (1 + int((now - due) // period))  # no burst after a pause
            _invoke(schedule, target)
            fired.append(schedule.arn)
        return fired

    def _report_once(self, arn: str, message: str) -> None:
        if arn not in self._reported:
            self._reported.add(arn)
            print(f"localcloud: schedule {arn}: {message}", file=sys.stderr)


def _schedules() -> list[Any]:
    from moto.scheduler.models import scheduler_backends

    found = []
    for account_id in list(scheduler_backends.keys()):
        for backend in list(scheduler_backends[account_id].values()):
            for group in list(backend.schedule_groups.values()):
                found.extend(list(group.schedules.values()))
    return found


def _invoke(schedule: Any, target_arn: str) -> None:
    from moto.awslambda.utils import get_backend

    from localcloud.patches.lambda_runtime import submit_async

    region, account_id = target_arn.split(":")[3:5]
    try:
        fn = get_backend(account_id, region).get_function(target_arn)
    except Exception as exc:
        print(f"localcloud: schedule {schedule.arn}: target {target_arn} dropped: {exc}", file=sys.stderr)
        return
    submit_async(fn, str(schedule.target.get("Input") or "{}"))


RUNNER = ScheduleRunner()
