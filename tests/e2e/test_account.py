"""The session deploy ran as a new account: preflight, account stack, alarm delivery."""

from __future__ import annotations

from testkit.alarms import subscribe_queue, trip_alarm, wait_for_alarm
from testkit.traffic import PlatformClient


def test_preflight_passed_on_a_new_account_and_warned_about_the_role(preflight_lines: list[str]) -> None:
    checks = {
        line.split("]")[1].split(":")[0].strip(): line.split("]")[0].strip(" [") for line in preflight_lines[1:-1]
    }

    assert checks == {
        "region": "ok",
        "lambda concurrency": "ok",
        "api gateway logging role": "warn",
        "state bucket": "ok",
        "custom domain certificate": "ok",
    }
    assert "account quota 50" in next(line for line in preflight_lines if "lambda concurrency" in line)
    # The e2e stack is dev's: no custom domain, so it says what the execute-api endpoint accepts.
    assert "no custom domain" in next(line for line in preflight_lines if "custom domain certificate" in line)
    assert preflight_lines[-1] == "preflight: ready to deploy"


def test_the_account_stack_set_the_logging_role_and_the_quota_held(platform: PlatformClient) -> None:
    account = platform.client("apigateway").get_account()
    role = platform.client("iam").get_role(RoleName=account["cloudwatchRoleArn"].rsplit("/", 1)[-1])["Role"]
    settings = platform.client("lambda").get_account_settings()["AccountLimit"]

    assert role["RoleName"] == "payment-platform-apigw-cloudwatch-us-east-1"
    # The quota was 50 at deploy (the preflight says so); a test may have raised it since
    # (Service Quotas), but the stack itself reserves nothing.
    assert settings["UnreservedConcurrentExecutions"] == settings["ConcurrentExecutions"]


def test_an_alarm_reaches_a_subscribed_queue(platform: PlatformClient) -> None:
    inbox = subscribe_queue(platform)

    alarm_name = trip_alarm(platform, "payment-dlq-not-empty-e2e", "e2e: testing the alarm wiring")

    delivered = wait_for_alarm(platform, inbox, alarm_name)
    assert delivered.subject == f'ALARM: "{alarm_name}" in US East (N. Virginia)'
    assert (delivered.new_state, delivered.reason) == ("ALARM", "e2e: testing the alarm wiring")
