"""Deployment settings read from the process environment by ``tap.py``.

Everything is parsed and validated before any construct is built, so a bad variable fails
fast with a message naming the variable and the form it must take.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from lib.config import ENVIRONMENTS, CustomDomain, PlatformConfig, config_for
from lib.config.subscribers import SUBSCRIBERS_VARIABLE, parse_subscribers
from lib.naming import validate_suffix
from lib.target import EmulatorTarget

_REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# A DNS name of two or more labels, lower case (API Gateway stores custom domain names so).
_DOMAIN_PATTERN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_CERTIFICATE_ARN_PATTERN = re.compile(
    r"^arn:aws(-cn|-us-gov)?:acm:(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d):\d{12}:certificate/[0-9a-f-]{36}$"
)
# An IAM role ARN (IAM's role-name characters, paths allowed).
_ROLE_ARN_PATTERN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
ROLE_VARIABLE = "API_GATEWAY_CLOUDWATCH_ROLE_ARN"
DOMAIN_VARIABLE = "API_DOMAIN_NAME"
CERTIFICATE_VARIABLE = "API_CERTIFICATE_ARN"
# A deployment's own authorization window (processor.authorization_window_seconds), e.g. a test
# stack that must see an authorization expire within its run; unset: the preset's.
AUTHORIZATION_WINDOW_VARIABLE = "AUTHORIZATION_WINDOW_SECONDS"
# What the synths that deploy nothing (checkov, snapshots, the synth bench) give the presets that
# require a custom domain: RFC 2606's example.com and AWS's documentation account id. A real
# deployment sets its own API_DOMAIN_NAME and API_CERTIFICATE_ARN.
EXAMPLE_CUSTOM_DOMAIN = {
    DOMAIN_VARIABLE: "api.{environment}.example.com",
    CERTIFICATE_VARIABLE: "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
}
# AWS tag values: up to 256 characters of letters, digits, spaces and + - = . _ : / @
_TAG_VALUE_REFUSED = re.compile(r"[^\w +=.:/@-]")
TAG_VALUE_MAX_LENGTH = 256


def tag_value(value: str) -> str:
    """``value`` as AWS tags allow it: each other character becomes ``_``, cut to 256 characters.

    CI metadata is informational; refusing it would block a deploy for a name such as
    ``dependabot[bot]`` (GitHub's actor for Dependabot PRs), which becomes ``dependabot_bot_``.
    """
    return _TAG_VALUE_REFUSED.sub("_", value)[:TAG_VALUE_MAX_LENGTH]


CI_TAG_VARIABLES = {
    "REPOSITORY": "Repository",
    "COMMIT_AUTHOR": "CommitAuthor",
    "PR_NUMBER": "PRNumber",
    "TEAM": "Team",
}


@dataclass(frozen=True)
class StateBackend:
    bucket: str
    region: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], stack_region: str) -> StateBackend | None:
        """TERRAFORM_STATE_BUCKET (and its region, the stack's by default); None: a local state file."""
        bucket = environ.get("TERRAFORM_STATE_BUCKET", "")
        if not bucket:
            return None
        if not _BUCKET_PATTERN.fullmatch(bucket):
            raise ValueError(f"TERRAFORM_STATE_BUCKET must be an S3 bucket name (3-63 of a-z 0-9 . -), got {bucket!r}")
        region = environ.get("TERRAFORM_STATE_BUCKET_REGION", "") or stack_region
        return cls(bucket=bucket, region=_region(region, "TERRAFORM_STATE_BUCKET_REGION"))


@dataclass(frozen=True)
class DeploymentSettings:
    config: PlatformConfig
    environment_suffix: str
    region: str
    state_backend: StateBackend | None
    ci_tags: Mapping[str, str]
    # Set only for the local emulator: the provider then needs overrides (see TapStack).
    emulator: EmulatorTarget | None = None
    # Where clients reach the API when set (edge.custom_domain_required makes it mandatory).
    custom_domain: CustomDomain | None = None
    # The API Gateway CloudWatch role the account already has (make preflight prints it): TapAccount
    # adopts it, creating no role and leaving the setting alone. None: TapAccount owns both.
    api_gateway_cloudwatch_role_arn: str | None = None

    @property
    def stack_name(self) -> str:
        return f"TapStack{self.environment_suffix}"


def _region(value: str, variable: str) -> str:
    if not _REGION_PATTERN.fullmatch(value):
        raise ValueError(f"{variable} must be an AWS region such as us-east-1, got {value!r}")
    return value


def _custom_domain(environ: Mapping[str, str], config: PlatformConfig, region: str) -> CustomDomain | None:
    domain, certificate = environ.get(DOMAIN_VARIABLE, ""), environ.get(CERTIFICATE_VARIABLE, "")
    if not domain and not certificate:
        if config.edge.custom_domain_required:
            raise ValueError(
                f"{DOMAIN_VARIABLE} and {CERTIFICATE_VARIABLE} must be set: the {config.environment} preset serves "
                "the API only on a custom domain with TLS 1.2 (edge.custom_domain_required)"
            )
        return None
    if not domain or not certificate:
        missing = DOMAIN_VARIABLE if not domain else CERTIFICATE_VARIABLE
        raise ValueError(f"{DOMAIN_VARIABLE} and {CERTIFICATE_VARIABLE} must be set together, {missing} is missing")
    if not _DOMAIN_PATTERN.fullmatch(domain):
        raise ValueError(f"{DOMAIN_VARIABLE} must be a lower-case DNS name such as api.example.com, got {domain!r}")
    match = _CERTIFICATE_ARN_PATTERN.fullmatch(certificate)
    if not match:
        raise ValueError(
            f"{CERTIFICATE_VARIABLE} must be an ACM certificate ARN "
            f"(arn:aws:acm:<region>:<account>:certificate/<id>), got {certificate!r}"
        )
    # A regional custom domain takes a certificate from its own region only.
    if match.group("region") != region:
        raise ValueError(
            f"{CERTIFICATE_VARIABLE} must be a certificate in AWS_REGION ({region}) for a regional custom domain, "
            f"got one in {match.group('region')}"
        )
    return CustomDomain(domain_name=domain, certificate_arn=certificate)


def _adopted_role(environ: Mapping[str, str]) -> str | None:
    role_arn = environ.get(ROLE_VARIABLE, "")
    if not role_arn:
        return None
    if not _ROLE_ARN_PATTERN.fullmatch(role_arn):
        raise ValueError(
            f"{ROLE_VARIABLE} must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got {role_arn!r}"
        )
    return role_arn


def _authorization_window(environ: Mapping[str, str], config: PlatformConfig) -> PlatformConfig:
    """``config`` with AUTHORIZATION_WINDOW_SECONDS as its window if set, checked by ProcessorConfig."""
    value = environ.get(AUTHORIZATION_WINDOW_VARIABLE, "")
    if not value:
        return config
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"{AUTHORIZATION_WINDOW_VARIABLE} must be a whole number of seconds, got {value!r}")
    return replace(config, processor=replace(config.processor, authorization_window_seconds=int(value)))


def _ci_tags(environ: Mapping[str, str]) -> dict[str, str]:
    """The CI_TAG_VARIABLES that are set, as tags."""
    return {tag: tag_value(environ[variable]) for variable, tag in CI_TAG_VARIABLES.items() if environ.get(variable)}


def read_settings(environ: Mapping[str, str] = os.environ) -> DeploymentSettings:
    environment = environ.get("ENVIRONMENT", "dev") or "dev"
    preset = config_for(environment)
    # Who is paged is the deploying environment's business (a CI variable per environment), not
    # the repository's: an address committed here would page whoever owns it in every fork.
    alarms = preset.alarms.for_deployment(parse_subscribers(environ.get(SUBSCRIBERS_VARIABLE, "")), environment)
    config = _authorization_window(environ, replace(preset, alarms=alarms))
    # Unset means "named after the environment"; set but empty is refused, never defaulted: an
    # empty CI variable must not turn a PR stack into TapStackstaging and deploy over staging.
    suffix = validate_suffix(environ.get("ENVIRONMENT_SUFFIX", environment))
    # The environment's home region unless AWS_REGION says otherwise (the DR site sets its DR region).
    region = _region(environ.get("AWS_REGION", "") or config.disaster_recovery.primary_region, "AWS_REGION")
    config.disaster_recovery.check_deploy_region(region, "AWS_REGION")

    emulator_endpoint = environ.get("LOCAL_CLOUD_ENDPOINT", "")
    return DeploymentSettings(
        config=config,
        environment_suffix=suffix,
        region=region,
        state_backend=StateBackend.from_environment(environ, region),
        ci_tags=_ci_tags(environ),
        emulator=EmulatorTarget(endpoint_url=emulator_endpoint) if emulator_endpoint else None,
        custom_domain=_custom_domain(environ, config, region),
        api_gateway_cloudwatch_role_arn=_adopted_role(environ),
    )


# What tests, scans and benchmarks synthesize with as ALARM_SUBSCRIBERS (staging and prod refuse
# none): names of a private network (.internal) that page nobody. A deploy sets its own.
SYNTH_ONLY_SUBSCRIBERS = "payments-oncall@alerts.payments.internal https://pager.payments.internal/hooks/payments"


def preset_settings(alarm_subscribers: str) -> dict[str, DeploymentSettings]:
    """dev, staging and prod as CI deploys them (suffix = environment name), by environment, each
    with ``alarm_subscribers`` as its ALARM_SUBSCRIBERS (a scan or a test says whom it would page);
    the presets that require a custom domain get the example one (``EXAMPLE_CUSTOM_DOMAIN``)."""
    return {env: read_settings(preset_environ(env, alarm_subscribers)) for env in ENVIRONMENTS}


def preset_environ(environment: str, alarm_subscribers: str) -> dict[str, str]:
    """The variables ``preset_settings`` synthesizes ``environment`` with."""
    environ = {"ENVIRONMENT": environment, "ENVIRONMENT_SUFFIX": environment, SUBSCRIBERS_VARIABLE: alarm_subscribers}
    if config_for(environment).edge.custom_domain_required:
        environ |= {name: value.format(environment=environment) for name, value in EXAMPLE_CUSTOM_DOMAIN.items()}
    return environ
