"""``make preflight``: will this account and region take the synthesized environment stack?

Reads the synthesized ``cdk.tf.json`` (what ``cdktf deploy`` would apply) and asks the account,
through boto3's default credential chain, or the local emulator when ``LOCAL_CLOUD_ENDPOINT`` is
set (the variable ``tap.py`` reads):

* region: the stack is synthesized for the region the credentials point at, and they work there;
* Lambda concurrency: the stack's reservations fit the account's quota, keeping the unreserved
  minimum AWS enforces (min(100, quota)), and how many more stacks of this environment fit;
* API Gateway logging role: the account setting every logging stage needs, and that it is a role
  API Gateway can assume (else the account stack, ``lib/account_stack.py``, must set it first);
* state bucket: reachable, in the stated region, versioned;
* custom domain certificate: the ACM certificate the API's domain names exists in the stack's
  region, is ISSUED and covers the domain (else API Gateway refuses the domain, or clients do).

Every check prints one line; the exit status is 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lib.naming import cloudwatch_role_name
from lib.settings import ROLE_VARIABLE, DeploymentSettings, read_settings

Status = Literal["ok", "warn", "FAIL"]
ClientFactory = Callable[[str], Any]

# Lambda keeps this many executions unreserved, or the whole quota when it is smaller
# (PutFunctionConcurrency API reference).
MINIMUM_UNRESERVED = 100
API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
EMULATOR_ENDPOINT_VARIABLE = "LOCAL_CLOUD_ENDPOINT"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str

    def line(self) -> str:
        return f"  [{self.status}] {self.name}: {self.message}"


@dataclass(frozen=True)
class StackFacts:
    """What the checks need from a synthesized stack."""

    region: str
    reservations: Mapping[str, int]  # function name -> reserved concurrency, reserving functions only
    stage_logging: bool
    # (domain name, ACM certificate ARN) of the API's custom domain, when the stack has one.
    custom_domain: tuple[str, str] | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> StackFacts:
        # The stack's own provider (prod has a second one, aliased, in its DR region).
        provider = next(each for each in document["provider"]["aws"] if "alias" not in each)
        resources = document.get("resource", {})
        reservations = {
            str(function["function_name"]): int(function["reserved_concurrent_executions"])
            for function in resources.get("aws_lambda_function", {}).values()
            # -1 (the provider's default) and absent both mean "no reservation".
            if int(function.get("reserved_concurrent_executions", -1)) >= 0
        }
        stages = resources.get("aws_api_gateway_stage", {}).values()
        method_settings = resources.get("aws_api_gateway_method_settings", {}).values()
        stage_logging = any(stage.get("access_log_settings") for stage in stages) or any(
            str(setting.get("settings", {}).get("logging_level", "OFF")).upper() != "OFF" for setting in method_settings
        )
        domain = next(iter(resources.get("aws_api_gateway_domain_name", {}).values()), None)
        custom_domain = (str(domain["domain_name"]), str(domain["regional_certificate_arn"])) if domain else None
        return cls(str(provider["region"]), reservations, stage_logging, custom_domain)


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(error).__name__))


def check_region(facts: StackFacts, settings: DeploymentSettings, clients: ClientFactory) -> Check:
    if facts.region != settings.region:
        return Check(
            "region",
            "FAIL",
            f"the stack was synthesized for {facts.region} but AWS_REGION is {settings.region}: synthesize again",
        )
    try:
        identity = clients("sts").get_caller_identity()
    except Exception as error:  # botocore's NoCredentialsError, ClientError, EndpointConnectionError
        return Check("region", "FAIL", f"cannot call AWS in {settings.region}: {error}")
    return Check("region", "ok", f"{settings.region}, account {identity['Account']} ({identity['Arn']})")


def _current_reservation(lambda_client: Any, function_name: str) -> int:
    try:
        found = lambda_client.get_function_concurrency(FunctionName=function_name)
    except Exception as error:
        if _error_code(error) == "ResourceNotFoundException":
            return 0  # not deployed yet
        raise
    return int(found.get("ReservedConcurrentExecutions") or 0)


def check_lambda_concurrency(facts: StackFacts, clients: ClientFactory, environment: str) -> Check:
    name = "lambda concurrency"
    lambda_client = clients("lambda")
    try:
        limits = lambda_client.get_account_settings()["AccountLimit"]
        already_ours = sum(_current_reservation(lambda_client, function) for function in facts.reservations)
    except Exception as error:
        return Check(name, "FAIL", f"cannot read the account's Lambda settings: {error}")
    quota = int(limits["ConcurrentExecutions"])
    unreserved = int(limits["UnreservedConcurrentExecutions"])
    minimum = min(MINIMUM_UNRESERVED, quota)
    # What this stack may reserve: the unreserved pool, plus its own current reservations (an
    # update replaces them), minus what Lambda keeps unreserved.
    available = unreserved + already_ours - minimum
    needed = sum(facts.reservations.values())
    account = f"account quota {quota}, {unreserved} unreserved, Lambda keeps {minimum} unreserved"
    if needed == 0:
        return Check(name, "ok", f"the stack reserves nothing ({account}); reservations do not limit the stack count")
    detail = ", ".join(f"{function} {count}" for function, count in sorted(facts.reservations.items()))
    if needed > available:
        # A quota of 100 or more keeps exactly 100 unreserved: 100 + what others reserve + this stack.
        reserved_by_others = quota - unreserved - already_ours
        return Check(
            name,
            "FAIL",
            f"the stack reserves {needed} ({detail}) but only {max(available, 0)} can be reserved ({account}): "
            "PutFunctionConcurrency would be refused. Ask for a quota of at least "
            f"{MINIMUM_UNRESERVED + reserved_by_others + needed} (Service Quotas: Lambda 'Concurrent executions') "
            "or reserve less",
        )
    more = (available - needed) // needed
    room = f"room for {more} more {environment} stack(s) after this one"
    return Check(name, "ok", f"the stack reserves {needed} ({detail}); {account}; {room}")


def _trusts_api_gateway(document: Any) -> bool:
    policy = json.loads(document) if isinstance(document, str) else document
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        services = (statement.get("Principal") or {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") == "Allow" and API_GATEWAY_PRINCIPAL in services:
            return True
    return False


def check_api_gateway_role(facts: StackFacts, clients: ClientFactory, adopted: str | None = None) -> Check:
    """The role the account setting names today; ``adopted``: the one TapAccount is told to keep
    (``API_GATEWAY_CLOUDWATCH_ROLE_ARN``), which must be that one."""
    name = "api gateway logging role"
    if not facts.stage_logging:
        return Check(name, "ok", "the stage does not log, no account role needed")
    try:
        role_arn = clients("apigateway").get_account().get("cloudwatchRoleArn")
    except Exception as error:
        return Check(name, "FAIL", f"cannot read API Gateway's account settings: {error}")
    if adopted and adopted != role_arn:
        return Check(
            name,
            "FAIL",
            f"{ROLE_VARIABLE} adopts {adopted}, but the account setting names {role_arn or 'no role'}: "
            "TapAccount leaves the setting alone when it adopts a role",
        )
    if not role_arn:
        return Check(
            name,
            "warn",
            "not set in this account and region: the account stack (lib/account_stack.py) must be applied before "
            "the environment stack (make deploy does both), or the stage fails with 'CloudWatch Logs role ARN "
            "must be set in account settings to enable logging'",
        )
    role_name = str(role_arn).rsplit("/", 1)[-1]
    try:
        role = clients("iam").get_role(RoleName=role_name)["Role"]
    except Exception as error:
        return Check(name, "FAIL", f"the account setting names {role_arn}, which cannot be read: {error}")
    if not _trusts_api_gateway(role["AssumeRolePolicyDocument"]):
        return Check(name, "FAIL", f"{role_arn} does not trust {API_GATEWAY_PRINCIPAL}: API Gateway cannot use it")
    if not adopted and role_name != cloudwatch_role_name(facts.region):
        # Another team's role serves the region's other APIs: keep it rather than replace it.
        return Check(
            name,
            "warn",
            f"{role_arn} is not TapAccount's: set {ROLE_VARIABLE}={role_arn} to adopt it, or TapAccount "
            "replaces the setting with its own role (docs/operations.md)",
        )
    return Check(name, "ok", f"{role_arn}")


def check_state_bucket(settings: DeploymentSettings, clients: ClientFactory) -> Check:
    name = "state bucket"
    backend = settings.state_backend
    if backend is None:
        return Check(name, "ok", "TERRAFORM_STATE_BUCKET unset: local state file (fine for one machine, not for CI)")
    s3 = clients("s3")
    try:
        s3.head_bucket(Bucket=backend.bucket)
        location = s3.get_bucket_location(Bucket=backend.bucket).get("LocationConstraint") or "us-east-1"
        versioning = s3.get_bucket_versioning(Bucket=backend.bucket).get("Status")
        s3.list_objects_v2(Bucket=backend.bucket, Prefix=f"{settings.environment_suffix}/", MaxKeys=1)
    except Exception as error:
        return Check(name, "FAIL", f"s3://{backend.bucket} is not readable with these credentials: {error}")
    if location != backend.region:
        return Check(
            name,
            "FAIL",
            f"s3://{backend.bucket} is in {location} but TERRAFORM_STATE_BUCKET_REGION is {backend.region}",
        )
    if versioning != "Enabled":
        return Check(name, "warn", f"s3://{backend.bucket} ({location}) has versioning off: a lost state is lost")
    return Check(name, "ok", f"s3://{backend.bucket} ({location}, versioned)")


def certificate_covers(names: Sequence[str], domain: str) -> bool:
    """A certificate name covers ``domain`` exactly, or as a wildcard for one leftmost label."""
    parent = domain.split(".", 1)[1] if "." in domain else ""
    return any(name == domain or (name.startswith("*.") and name[2:] == parent) for name in names)


def check_certificate(facts: StackFacts, clients: ClientFactory) -> Check:
    name = "custom domain certificate"
    if facts.custom_domain is None:
        return Check(name, "ok", "no custom domain: the API answers on its execute-api endpoint (TLS 1.0 and up)")
    domain, arn = facts.custom_domain
    arn_region = arn.split(":")[3] if arn.count(":") >= 5 else ""
    if arn_region != facts.region:
        return Check(name, "FAIL", f"{arn} is in {arn_region}; a regional domain needs one in {facts.region}")
    try:
        certificate = clients("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    except Exception as error:
        return Check(name, "FAIL", f"cannot read {arn}: {error}")
    status = certificate.get("Status")
    if status != "ISSUED":
        return Check(name, "FAIL", f"{arn} is {status}, not ISSUED: API Gateway refuses it for {domain}")
    names = [certificate.get("DomainName", ""), *certificate.get("SubjectAlternativeNames", [])]
    if not certificate_covers(names, domain):
        return Check(name, "FAIL", f"{arn} covers {', '.join(sorted(set(names)))}, not {domain}")
    return Check(name, "ok", f"{domain}: {arn} (ISSUED, {facts.region})")


def run_checks(facts: StackFacts, settings: DeploymentSettings, clients: ClientFactory) -> list[Check]:
    return [
        check_region(facts, settings, clients),
        check_lambda_concurrency(facts, clients, settings.config.environment),
        check_api_gateway_role(facts, clients, settings.api_gateway_cloudwatch_role_arn),
        check_state_bucket(settings, clients),
        check_certificate(facts, clients),
    ]


def client_factory(region: str, environ: Mapping[str, str] = os.environ) -> ClientFactory:
    """boto3 clients for ``region``: the default credential chain, or the emulator's endpoint."""
    import boto3

    endpoint = environ.get(EMULATOR_ENDPOINT_VARIABLE, "")

    def client(service: str) -> Any:
        if not endpoint:
            return boto3.client(service, region_name=region)  # type: ignore[call-overload]
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


def default_stack_json(settings: DeploymentSettings, environ: Mapping[str, str] = os.environ) -> Path:
    outdir = Path(environ.get("CDKTF_OUTDIR", "cdktf.out"))
    return outdir / "stacks" / settings.stack_name / "cdk.tf.json"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.preflight", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack-json", type=Path, help="synthesized cdk.tf.json (default: the stack's in cdktf.out)")
    args = parser.parse_args(argv)
    try:
        settings = read_settings(environ)
    except ValueError as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    stack_json: Path = args.stack_json or default_stack_json(settings, environ)
    if not stack_json.is_file():
        print(f"preflight: {stack_json} not found: synthesize first (make synth)", file=sys.stderr)
        return 2
    facts = StackFacts.from_document(json.loads(stack_json.read_text()))
    target = environ.get(EMULATOR_ENDPOINT_VARIABLE) or "AWS (default credential chain)"
    print(f"preflight {settings.stack_name} ({settings.config.environment}) in {settings.region} against {target}")
    checks = run_checks(facts, settings, client_factory(settings.region, environ))
    for check in checks:
        print(check.line())
    failed = [check.name for check in checks if check.status == "FAIL"]
    print(f"preflight: {len(failed)} check(s) failed: {', '.join(failed)}" if failed else "preflight: ready to deploy")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
