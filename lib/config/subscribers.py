"""Who hears the alarm topic: one subscriber endpoint (a slice of ``AlarmConfig``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Alarm notification endpoints SNS accepts here (protocol -> endpoint form).
ALARM_PROTOCOLS = ("email", "https", "sqs")
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_HTTPS_PATTERN = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/\S*)?$")
# A standard topic cannot deliver to a FIFO queue (".fifo"): SNS refuses the subscription.
_SQS_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:[A-Za-z0-9_-]{1,80}$")


@dataclass(frozen=True)
class AlarmSubscriber:
    """Where the alarm topic delivers: an email address, an HTTPS URL, or an SQS queue ARN.

    Email and HTTPS subscriptions stay "pending confirmation" until the owner confirms them (SNS
    sends a confirmation message); an SQS queue in another account must allow the topic in its
    queue policy.
    """

    protocol: str
    endpoint: str

    def __post_init__(self) -> None:
        if self.protocol not in ALARM_PROTOCOLS:
            raise ValueError(
                f"alarms.subscribers protocol must be one of {', '.join(ALARM_PROTOCOLS)}, got {self.protocol!r}"
            )
        pattern, form = {
            "email": (_EMAIL_PATTERN, "an email address"),
            "https": (_HTTPS_PATTERN, "an https:// URL"),
            "sqs": (_SQS_ARN_PATTERN, "a standard (not .fifo) SQS queue ARN"),
        }[self.protocol]
        if not pattern.fullmatch(self.endpoint):
            raise ValueError(f"alarms.subscribers {self.protocol} endpoint must be {form}, got {self.endpoint!r}")


# Names reserved for examples and tests (RFC 2606, RFC 6761): an alarm sent there reaches nobody.
_PLACEHOLDER_LABELS = frozenset({"example"})
_PLACEHOLDER_TOP_LEVEL = frozenset({"example", "test", "invalid", "localhost"})
SUBSCRIBERS_VARIABLE = "ALARM_SUBSCRIBERS"


def subscriber_domain(subscriber: AlarmSubscriber) -> str:
    """The host an email or https endpoint delivers to (an SQS queue ARN has none: empty)."""
    if subscriber.protocol == "email":
        return subscriber.endpoint.rsplit("@", 1)[1].lower()
    if subscriber.protocol == "https":
        return subscriber.endpoint.removeprefix("https://").split("/", 1)[0].split(":", 1)[0].lower()
    return ""


def is_placeholder(domain: str) -> bool:
    """example.com/.org/.net, any example.* or *.example.*, localhost, and the reserved .test,
    .invalid, .example and .localhost names."""
    labels = domain.split(".")
    return bool(domain) and (
        domain == "localhost" or labels[-1] in _PLACEHOLDER_TOP_LEVEL or not _PLACEHOLDER_LABELS.isdisjoint(labels)
    )


def parse_subscribers(value: str) -> tuple[AlarmSubscriber, ...]:
    """``ALARM_SUBSCRIBERS``: endpoints separated by spaces or commas; ``https://...`` is an HTTPS
    endpoint, ``arn:...`` an SQS queue, anything else an email address. Each is validated."""
    found = []
    for endpoint in value.replace(",", " ").split():
        protocol = "https" if endpoint.startswith("https://") else "sqs" if endpoint.startswith("arn:") else "email"
        found.append(AlarmSubscriber(protocol, endpoint))
    return tuple(found)
