"""tap.py's environment: parsed and refused before any construct is built."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from lib.config import AlarmSubscriber, CustomDomain, config_for
from lib.settings import StateBackend, read_settings
from lib.target import EmulatorTarget

ROOT = Path(__file__).resolve().parents[2]
EU_CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
US_CERTIFICATE = EU_CERTIFICATE.replace("eu-west-1", "us-east-1")


def test_defaults_are_dev_in_us_east_1_with_local_state() -> None:
    settings = read_settings({})
    assert settings.config.environment == "dev"
    assert settings.environment_suffix == "dev"
    assert settings.stack_name == "TapStackdev"
    assert settings.region == "us-east-1"
    assert settings.state_backend is None
    assert settings.ci_tags == {}
    assert settings.emulator is None
    assert settings.custom_domain is None  # dev's execute-api endpoint, unless a domain is set


def test_full_environment_is_read() -> None:
    settings = read_settings(
        {
            "ENVIRONMENT": "prod",
            "ENVIRONMENT_SUFFIX": "pr42",
            "ALARM_SUBSCRIBERS": "payments-oncall@alerts.payments.internal",
            # prod deploys to its primary or its DR region (disaster_recovery): here the DR site's.
            "AWS_REGION": "us-west-2",
            "TERRAFORM_STATE_BUCKET": "tf-state.example",
            "TERRAFORM_STATE_BUCKET_REGION": "us-east-2",
            "REPOSITORY": "fintech/payment-platform",
            "COMMIT_AUTHOR": "Ada Lovelace",
            "PR_NUMBER": "42",
            "TEAM": "payments",
            "LOCAL_CLOUD_ENDPOINT": "http://127.0.0.1:5000",
            "API_DOMAIN_NAME": "api.pay.example.com",
            "API_CERTIFICATE_ARN": EU_CERTIFICATE.replace("eu-west-1", "us-west-2"),
        }
    )
    assert settings.config.environment == "prod"
    assert settings.stack_name == "TapStackpr42"
    assert settings.region == "us-west-2"
    assert settings.state_backend == StateBackend(bucket="tf-state.example", region="us-east-2")
    assert settings.ci_tags == {
        "Repository": "fintech/payment-platform",
        "CommitAuthor": "Ada Lovelace",
        "PRNumber": "42",
        "Team": "payments",
    }
    assert settings.emulator == EmulatorTarget("http://127.0.0.1:5000")
    assert settings.custom_domain == CustomDomain(
        "api.pay.example.com", EU_CERTIFICATE.replace("eu-west-1", "us-west-2")
    )
    # The target is not part of the preset; whom alarms page is the deploy's (ALARM_SUBSCRIBERS).
    assert settings.config.alarms.subscribers == (AlarmSubscriber("email", "payments-oncall@alerts.payments.internal"),)
    assert replace(settings.config, alarms=config_for("prod").alarms) == config_for("prod")


def test_dev_may_opt_into_a_custom_domain() -> None:
    settings = read_settings({"API_DOMAIN_NAME": "api.dev.example.com", "API_CERTIFICATE_ARN": US_CERTIFICATE})
    assert settings.custom_domain == CustomDomain("api.dev.example.com", US_CERTIFICATE)


def test_state_bucket_region_defaults_to_the_stack_region() -> None:
    settings = read_settings({"TERRAFORM_STATE_BUCKET": "tf-state", "AWS_REGION": "eu-west-1"})
    assert settings.state_backend == StateBackend(bucket="tf-state", region="eu-west-1")


def test_a_deployment_may_set_its_own_authorization_window() -> None:
    preset = config_for("staging")
    environ = {"ENVIRONMENT": "staging", "ALARM_SUBSCRIBERS": "oncall@payments.internal"}
    environ |= {"API_DOMAIN_NAME": "api.pay.example.com", "API_CERTIFICATE_ARN": US_CERTIFICATE}
    settings = read_settings(environ | {"AUTHORIZATION_WINDOW_SECONDS": "300"})
    assert settings.config.processor == replace(preset.processor, authorization_window_seconds=300)
    # Unset (or empty, as a CI variable left blank): the preset's window.
    assert read_settings(environ | {"AUTHORIZATION_WINDOW_SECONDS": ""}).config.processor == preset.processor


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ENVIRONMENT": "qa"}, "ENVIRONMENT must be one of dev, staging, prod, got 'qa'"),
        (
            {"ENVIRONMENT_SUFFIX": "PR42"},
            "ENVIRONMENT_SUFFIX must be 1-20 characters of a-z, 0-9 and '-', starting and ending "
            "with a letter or digit, got 'PR42'",
        ),
        ({"AWS_REGION": "mars-1"}, "AWS_REGION must be an AWS region such as us-east-1, got 'mars-1'"),
        (
            {"TERRAFORM_STATE_BUCKET": "Bad_Bucket"},
            "TERRAFORM_STATE_BUCKET must be an S3 bucket name (3-63 of a-z 0-9 . -), got 'Bad_Bucket'",
        ),
        (
            {"TERRAFORM_STATE_BUCKET": "tf-state", "TERRAFORM_STATE_BUCKET_REGION": "nowhere"},
            "TERRAFORM_STATE_BUCKET_REGION must be an AWS region such as us-east-1, got 'nowhere'",
        ),
        (
            {"LOCAL_CLOUD_ENDPOINT": "localhost:4566"},
            "endpoint_url must look like http://host:port, got 'localhost:4566'",
        ),
        (
            {"ENVIRONMENT": "staging", "ALARM_SUBSCRIBERS": "oncall@payments.internal"},
            "API_DOMAIN_NAME and API_CERTIFICATE_ARN must be set: the staging preset serves the API only on a "
            "custom domain with TLS 1.2 (edge.custom_domain_required)",
        ),
        (
            {
                "ENVIRONMENT": "prod",
                "ALARM_SUBSCRIBERS": "oncall@payments.internal",
                "API_DOMAIN_NAME": "api.pay.example.com",
            },
            "API_DOMAIN_NAME and API_CERTIFICATE_ARN must be set together, API_CERTIFICATE_ARN is missing",
        ),
        (
            {"API_CERTIFICATE_ARN": US_CERTIFICATE},
            "API_DOMAIN_NAME and API_CERTIFICATE_ARN must be set together, API_DOMAIN_NAME is missing",
        ),
        (
            {"API_DOMAIN_NAME": "API.Pay.example.com", "API_CERTIFICATE_ARN": US_CERTIFICATE},
            "API_DOMAIN_NAME must be a lower-case DNS name such as api.example.com, got 'API.Pay.example.com'",
        ),
        (
            {"API_DOMAIN_NAME": "api.pay.example.com", "API_CERTIFICATE_ARN": "arn:aws:iam::123456789012:role/x"},
            "API_CERTIFICATE_ARN must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>), "
            "got 'arn:aws:iam::123456789012:role/x'",
        ),
        (
            {"AUTHORIZATION_WINDOW_SECONDS": "5m"},
            "AUTHORIZATION_WINDOW_SECONDS must be a whole number of seconds, got '5m'",
        ),
        (
            # The config's own check: an override is held to the same bounds as a preset.
            {"AUTHORIZATION_WINDOW_SECONDS": "59"},
            "processor.authorization_window_seconds must be between 60 and 2592000, got 59",
        ),
        (
            # A regional custom domain takes a certificate of its own region only.
            {"API_DOMAIN_NAME": "api.pay.example.com", "API_CERTIFICATE_ARN": EU_CERTIFICATE},
            "API_CERTIFICATE_ARN must be a certificate in AWS_REGION (us-east-1) for a regional custom domain, "
            "got one in eu-west-1",
        ),
    ],
)
def test_bad_variable_is_refused_naming_it(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        read_settings(environ)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("dependabot[bot]", "dependabot_bot_"),  # what GitHub sets for Dependabot PRs
        ("pay;ments", "pay_ments"),
        ("Zoë Ünal", "Zoë Ünal"),  # letters are letters in any script
        ("x" * 300, "x" * 256),
    ],
)
def test_ci_tag_values_are_made_what_aws_tags_allow(value: str, tag: str) -> None:
    settings = read_settings({"COMMIT_AUTHOR": value, "TEAM": value})

    assert settings.ci_tags == {"CommitAuthor": tag, "Team": tag}


def test_tap_py_exits_with_the_message_before_building_anything(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tap.py")],
        env={"ENVIRONMENT": "qa", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().endswith("tap.py: ENVIRONMENT must be one of dev, staging, prod, got 'qa'")
    assert not (tmp_path / "cdktf.out").exists()
