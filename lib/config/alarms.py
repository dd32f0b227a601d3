"""The alarms' slice of the config: thresholds, periods and who hears the alarm topic."""

from __future__ import annotations

from dataclasses import dataclass, replace

from lib.config.checks import require, require_at_least
from lib.config.subscribers import SUBSCRIBERS_VARIABLE, AlarmSubscriber, is_placeholder, subscriber_domain


@dataclass(frozen=True)
class AlarmConfig:
    evaluation_periods: int
    period_seconds: int
    lambda_error_threshold: int
    lambda_throttle_threshold: int
    api_5xx_threshold: int
    api_p99_latency_ms: int
    state_machine_failed_threshold: int
    # Alarm when the oldest payment whose workflow has not started is older than this.
    unstarted_payment_age_seconds: int = 300
    # Alarm when the processing queue's oldest message is older than this: SQS deletes it, without
    # a trace, at queues.message_retention_seconds, so this must leave the on-call time to act.
    queue_oldest_message_age_seconds: int = 21_600
    # Throttled DynamoDB events (per table and index) and Step Functions throttles per period.
    dynamodb_throttle_threshold: int = 1
    step_functions_throttle_threshold: int = 1
    # Whether a deployment must name who is paged (ALARM_SUBSCRIBERS): synth refuses one without.
    subscribers_required: bool = False
    # Who hears the alarm topic: the deploying environment's ALARM_SUBSCRIBERS (lib/settings.py),
    # never the repository; none means alarms reach only the console and the dashboard.
    subscribers: tuple[AlarmSubscriber, ...] = ()

    def for_deployment(self, subscribers: tuple[AlarmSubscriber, ...], environment: str) -> AlarmConfig:
        """This config with the deploying environment's subscribers, refused when it needs some."""
        require(
            bool(subscribers) or not self.subscribers_required,
            f"{SUBSCRIBERS_VARIABLE} must name at least one alarm subscriber for {environment} "
            "(alarms.subscribers_required), got none",
        )
        return replace(self, subscribers=subscribers)

    def __post_init__(self) -> None:
        require_at_least("evaluation_periods", self.evaluation_periods, 1)
        # CloudWatch accepts 10, 30 or any multiple of 60 seconds.
        require(
            self.period_seconds in (10, 30) or (self.period_seconds % 60 == 0 and self.period_seconds > 0),
            f"period_seconds must be 10, 30 or a multiple of 60, got {self.period_seconds}",
        )
        for name in (
            "lambda_error_threshold",
            "lambda_throttle_threshold",
            "api_5xx_threshold",
            "state_machine_failed_threshold",
            "dynamodb_throttle_threshold",
            "step_functions_throttle_threshold",
        ):
            require_at_least(name, getattr(self, name), 1)
        require_at_least("api_p99_latency_ms", self.api_p99_latency_ms, 1)
        require_at_least("unstarted_payment_age_seconds", self.unstarted_payment_age_seconds, 60)
        require_at_least("queue_oldest_message_age_seconds", self.queue_oldest_message_age_seconds, 60)
        endpoints = [(subscriber.protocol, subscriber.endpoint) for subscriber in self.subscribers]
        require(
            len(set(endpoints)) == len(endpoints),
            f"alarms.subscribers must not repeat an endpoint, got {sorted(endpoints)}",
        )
        for subscriber in self.subscribers:
            domain = subscriber_domain(subscriber)
            require(
                not is_placeholder(domain),
                f"alarms.subscribers endpoint {subscriber.endpoint!r} is a placeholder ({domain} is reserved "
                f"for examples and reaches nobody): set {SUBSCRIBERS_VARIABLE} to a real address",
            )
