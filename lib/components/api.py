"""The REST API: every route of ``payment_core.api_contract``, behind the authorizer and usage plans."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_authorizer import ApiGatewayAuthorizer
from cdktf_cdktf_provider_aws.api_gateway_base_path_mapping import ApiGatewayBasePathMapping
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_domain_name import (
    ApiGatewayDomainName,
    ApiGatewayDomainNameEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.api_gateway_gateway_response import ApiGatewayGatewayResponse
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_model import ApiGatewayModel
from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import (
    ApiGatewayRestApi,
    ApiGatewayRestApiEndpointConfiguration,
)
from cdktf_cdktf_provider_aws.api_gateway_stage import (
    ApiGatewayStage,
    ApiGatewayStageAccessLogSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_usage_plan import (
    ApiGatewayUsagePlan,
    ApiGatewayUsagePlanApiStages,
    ApiGatewayUsagePlanQuotaSettings,
    ApiGatewayUsagePlanThrottleSettings,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct
from payment_core import api_contract, contract
from payment_core.api_contract import Route

from lib.components.alarm_sources import AlarmSources, WatchedApi, WatchedFunction
from lib.components.base import PlatformConstruct
from lib.components.context import PlatformContext
from lib.components.function import PaymentFunction
from lib.components.policies import condition, statement
from lib.components.storage import Storage
from lib.config import ApiConfig, CustomDomain, TenancyConfig
from lib.gateway_responses import GATEWAY_ANSWERS, gateway_template

# API Gateway API keys meter merchants and authenticate nothing: the authorizer returns the
# merchant's key as ``usageIdentifierKey`` (key source AUTHORIZER), so a client's own
# ``x-api-key`` header is ignored. The credential is a secret key in ``contract.CREDENTIAL_HEADER``.
API_KEY_HEADER = "x-api-key"
# The header that carries the merchant's secret key, as WAF names headers (lower case).
CREDENTIAL_HEADER = contract.CREDENTIAL_HEADER.lower()
# Every header that may carry a credential, kept out of WAF's logs and samples: the secret key's,
# and the API key's (a metering id now, but a client that still sends it must not have it stored).
CREDENTIAL_HEADERS: tuple[str, ...] = (API_KEY_HEADER, CREDENTIAL_HEADER)

# API Gateway models are JSON Schema draft-04; the bodies are payment_core.api_contract's, which
# the OpenAPI document (lib/openapi.py) publishes and the handler validates again with exact messages.
DRAFT_04 = "http://json-schema.org/draft-04/schema#"


def gateway_model_schema(name: str) -> dict[str, Any]:
    """The API Gateway model of request body ``name``: the contract's schema, titled, draft-04."""
    return {"$schema": DRAFT_04, "title": name, **api_contract.REQUEST_MODELS[name]}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def route_name(path: str) -> str:
    """A route's construct name: its last path part, without braces (``/payments/{payment_id}`` → ``payment_id``)."""
    return path.rstrip("/").rsplit("/", 1)[-1].strip("{}")


# Resource construct ids kept from before the routes came from the contract: they are addresses.
KEPT_RESOURCE_IDS = {"/payments/{payment_id}": "payment", "/events/{event_id}": "event"}


# The custom domain's TLS policy: TLS 1.2 and up (API Gateway's TLS_1_0 policy, the only one of
# the default execute-api endpoint of a regional API, also accepts TLS 1.0 and 1.1).
CUSTOM_DOMAIN_SECURITY_POLICY = "TLS_1_2"

ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "ip": "$context.identity.sourceIp",
    "apiKeyId": "$context.identity.apiKeyId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "latency": "$context.responseLatency",
    "xrayTraceId": "$context.xrayTraceId",
}


class PaymentsApi(PlatformConstruct):
    """The ``api`` function behind a REST API whose merchants authenticate with their own secret
    key (Lambda REQUEST authorizer) and are throttled by their tier's usage plan."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        settings: ApiConfig,
        stage_name: str,
        storage: Storage,
        tenancy: TenancyConfig,
        page_token_keys: Sequence[KmsKey],
        custom_domain: CustomDomain | None = None,
    ) -> None:
        super().__init__(scope, construct_id, context)
        self._settings = settings
        self._custom_domain = custom_domain
        self.api_function: PaymentFunction = self._build_api_function(storage, page_token_keys)
        self.authorizer_function: PaymentFunction = self._build_authorizer_function(storage)
        self.rest_api: ApiGatewayRestApi = self._build_rest_api()
        self.authorizer: ApiGatewayAuthorizer = self._build_authorizer(tenancy)
        self._routes: list[Any] = [self.authorizer]
        self._build_routes()
        self._build_gateway_responses()
        self.log_group: CloudwatchLogGroup = self._build_access_log_group()
        self.execution_log_group: CloudwatchLogGroup = self._build_execution_log_group(stage_name)
        self.stage: ApiGatewayStage = self._build_stage(stage_name)
        self.usage_plans: dict[str, ApiGatewayUsagePlan] = self._build_usage_plans(tenancy)
        self.domain: ApiGatewayDomainName | None = self._build_custom_domain()
        # Where clients call the API: the custom domain's root when there is one (the stage is
        # mapped there), else the stage's execute-api URL.
        self.endpoint_url: str = (
            f"https://{custom_domain.domain_name}" if custom_domain is not None else self.stage.invoke_url
        )
        self._build_invoke_permissions()

    def _build_rest_api(self) -> ApiGatewayRestApi:
        return ApiGatewayRestApi(
            self,
            "rest_api",
            name=self._context.namer("payments-api"),
            description="Payment platform REST API",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            api_key_source="AUTHORIZER",
            # With a custom domain, the default endpoint (TLS 1.0 and up) answers nothing: every
            # client goes through the domain's TLS 1.2 policy.
            disable_execute_api_endpoint=self._custom_domain is not None,
            # A replacement API is up before the old one goes, so clients never see a gap.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )

    def _build_access_log_group(self) -> CloudwatchLogGroup:
        context = self._context
        return context.log_group(self, "access_log_group", name=f"/aws/apigateway/{context.namer('payments-api')}")

    def _build_execution_log_group(self, stage_name: str) -> CloudwatchLogGroup:
        """The group INFO execution logging writes to, declared so it has the CMK and a retention
        and goes with the stack; left to API Gateway it would be created unencrypted, kept forever
        and outlive every destroyed stack. The name is API Gateway's own, fixed by the API id."""
        name = f"API-Gateway-Execution-Logs_{self.rest_api.id}/{stage_name}"
        return self._context.log_group(self, "execution_log_group", name=name)

    def _build_invoke_permissions(self) -> None:
        """API Gateway may invoke the api function on its routes and the authorizer as itself."""
        execution_arn = self.rest_api.execution_arn
        # One grant per top-level path of the contract's routes (``/payments`` keeps its first ids).
        tops = dict.fromkeys(route.path.strip("/").split("/")[0] for route in api_contract.ROUTES)
        grants = [
            (
                "allow_api" if top == "payments" else f"allow_{top}",
                "AllowPaymentsApi" if top == "payments" else f"Allow{top.title().replace('_', '')}Api",
                self.api_function,
                f"{execution_arn}/*/*/{top}*",
            )
            for top in tops
        ]
        for construct_id, statement_id, function, source_arn in (
            *grants,
            (
                "allow_authorizer",
                "AllowPaymentsApiAuthorizer",
                self.authorizer_function,
                f"{execution_arn}/authorizers/{self.authorizer.id}",
            ),
        ):
            LambdaPermission(
                self,
                construct_id,
                statement_id=statement_id,
                action="lambda:InvokeFunction",
                function_name=function.lambda_function.function_name,
                qualifier=function.live_alias.name,  # API Gateway invokes the alias, not $LATEST
                principal="apigateway.amazonaws.com",
                source_arn=source_arn,
            )

    def _build_authorizer_function(self, storage: Storage) -> PaymentFunction:
        merchants = storage.merchants_table
        grant = statement("ResolveMerchantCredentials", ["dynamodb:GetItem"], [merchants.arn])
        return self._function("authorizer", contract.AUTHORIZER, [grant])

    def _build_authorizer(self, tenancy: TenancyConfig) -> ApiGatewayAuthorizer:
        return ApiGatewayAuthorizer(
            self,
            "merchant_authorizer",
            name="merchant-secret-key",
            rest_api_id=self.rest_api.id,
            type="REQUEST",
            authorizer_uri=self.authorizer_function.live_invoke_arn,
            identity_source=f"method.request.header.{contract.CREDENTIAL_HEADER}",
            authorizer_result_ttl_in_seconds=tenancy.authorizer_cache_ttl_seconds,
        )

    def _build_api_function(self, storage: Storage, page_token_keys: Sequence[KmsKey]) -> PaymentFunction:
        payments = storage.payments_table
        # Construct id "handler" kept from before the rename: it is the resources' address.
        return self._function(
            "handler",
            contract.API,
            [
                statement("CreateAndReadPayments", ["dynamodb:GetItem", "dynamodb:PutItem"], [payments.arn]),
                # Listing reads the payments the keys-only index names (BatchGetItem).
                statement("ReadListedPayments", ["dynamodb:BatchGetItem"], [payments.arn]),
                statement(
                    "ListPaymentsByMerchantAndTime",
                    ["dynamodb:Query"],
                    [f"{payments.arn}/index/{storage.merchant_time_index}"],
                ),
                statement("AppendAndReadAudit", ["dynamodb:PutItem", "dynamodb:Query"], [storage.audit_table.arn]),
                # No StartExecution: the payment's stream record starts its workflow (outbox).
                statement("SignListTokens", ["kms:GenerateMac", "kms:VerifyMac"], [key.arn for key in page_token_keys]),
                # The caller's events: one by key, or a time range of its partition.
                statement("ReadEvents", ["dynamodb:GetItem", "dynamodb:Query"], [storage.events_table.arn]),
                # The caller's webhook endpoints (items of the events table): create, delete, rotate.
                statement(
                    "WriteWebhookEndpoints",
                    ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"],
                    [storage.events_table.arn],
                ),
                # Seal a new signing secret under the platform key, bound to its merchant and endpoint.
                statement(
                    "SealWebhookSecrets",
                    ["kms:Encrypt"],
                    [self._context.key.arn],
                    conditions=[
                        condition(
                            "ForAllValues:StringEquals", "kms:EncryptionContextKeys", ["merchant_id", "endpoint_id"]
                        )
                    ],
                ),
                # A manual payment's capture or void: the ask is a conditional UpdateItem.
                statement("RecordCaptureAsks", ["dynamodb:UpdateItem"], [payments.arn]),
                # ...then SendTaskSuccess wakes the execution resting in AwaitCapture. A task token of a
                # service-integration task names no resource IAM can scope: "*" is the only grant.
                statement("WakeAwaitingExecution", ["states:SendTaskSuccess"], ["*"]),
                # The task's output is encrypted with the state machine's CMK on the caller's behalf.
                statement("EncryptTaskOutput", ["kms:GenerateDataKey"], [self._context.key.arn]),
            ],
        )

    def _method(self, resource: ApiGatewayResource, route: str, http_method: str, **options: Any) -> None:
        # ``route`` names the construct: ``resource.path_part`` is a token at synth time, and a
        # token in an id makes the resource address change with the order things were built.
        method = ApiGatewayMethod(
            self,
            f"{http_method.lower()}_{route}",
            rest_api_id=self.rest_api.id,
            resource_id=resource.id,
            http_method=http_method,
            authorization="CUSTOM",
            authorizer_id=self.authorizer.id,
            api_key_required=True,
            **options,
        )
        integration = ApiGatewayIntegration(
            self,
            f"{http_method.lower()}_{route}_integration",
            rest_api_id=self.rest_api.id,
            resource_id=resource.id,
            http_method=method.http_method,
            type="AWS_PROXY",
            integration_http_method="POST",
            uri=self.api_function.live_invoke_arn,
        )
        self._routes.extend([method, integration])

    def _resource(self, path: str) -> ApiGatewayResource:
        """The resource of ``path`` and its parents, each built once."""
        if path in self._resources:
            return self._resources[path]
        parent_path, _, part = path.rpartition("/")
        parent_id = self._resource(parent_path).id if parent_path else self.rest_api.root_resource_id
        resource = ApiGatewayResource(
            self,
            KEPT_RESOURCE_IDS.get(path, route_name(path)),
            rest_api_id=self.rest_api.id,
            parent_id=parent_id,
            path_part=part,
        )
        self._resources[path] = resource
        return resource

    def _model(self, name: str) -> ApiGatewayModel:
        if name not in self._models:
            self._models[name] = ApiGatewayModel(
                self,
                f"{_snake(name)}_model",
                rest_api_id=self.rest_api.id,
                name=name,
                content_type="application/json",
                schema=json.dumps(gateway_model_schema(name), sort_keys=True),
            )
        return self._models[name]

    def _build_routes(self) -> None:
        """Every route of the contract (payment_core.api_contract.ROUTES): its resource, method,
        required parameters and body model, validated at the edge, proxied to the api function."""
        self._resources: dict[str, ApiGatewayResource] = {}
        self._models: dict[str, ApiGatewayModel] = {}
        validator = ApiGatewayRequestValidator(
            self,
            "validator",
            rest_api_id=self.rest_api.id,
            name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        for route in api_contract.ROUTES:
            self._route(route, validator)
        self._routes.extend([*self._resources.values(), validator, *self._models.values()])

    def _route(self, route: Route, validator: ApiGatewayRequestValidator) -> None:
        options: dict[str, Any] = {"request_validator_id": validator.id}
        required = {
            f"method.request.{each.gateway_location}.{each.name}": True for each in route.parameters if each.required
        }
        if required:
            options["request_parameters"] = required
        if route.request_model is not None:
            options["request_models"] = {"application/json": self._model(route.request_model).name}
        self._method(self._resource(route.path), route_name(route.path), route.method, **options)

    def _build_gateway_responses(self) -> None:
        for response_type, answer in GATEWAY_ANSWERS.items():
            self._routes.append(
                ApiGatewayGatewayResponse(
                    self,
                    f"response_{response_type.lower()}",
                    rest_api_id=self.rest_api.id,
                    response_type=response_type,
                    response_templates={"application/json": gateway_template(answer)},
                )
            )

    def _build_stage(self, stage_name: str) -> ApiGatewayStage:
        # Any change to a route, model or gateway response changes this fingerprint and so
        # creates a new deployment; the static part is hashed here, the ids by Terraform.
        templates = {response_type: gateway_template(answer) for response_type, answer in GATEWAY_ANSWERS.items()}
        static_spec = hashlib.sha256(
            json.dumps([*map(gateway_model_schema, self._models), templates], sort_keys=True).encode()
        ).hexdigest()
        deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=self.rest_api.id,
            triggers={
                "static_spec": static_spec,
                "routes": Fn.sha1(Fn.jsonencode([route.id for route in self._routes])),
                "handler": self.api_function.live_invoke_arn,
            },
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=self._routes,
        )
        stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=self.rest_api.id,
            deployment_id=deployment.id,
            stage_name=stage_name,
            xray_tracing_enabled=self._context.xray_tracing,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=self.log_group.arn, format=json.dumps(ACCESS_LOG_FORMAT, sort_keys=True)
            ),
        )
        api = self._settings
        ApiGatewayMethodSettings(
            self,
            "method_settings",
            rest_api_id=self.rest_api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=ApiGatewayMethodSettingsSettings(
                metrics_enabled=True,
                logging_level="INFO",
                data_trace_enabled=api.data_trace_enabled,
                throttling_rate_limit=api.throttle_rate_limit,
                throttling_burst_limit=api.throttle_burst_limit,
                caching_enabled=False,
            ),
            # Execution logging starts here: the declared group must exist before API Gateway
            # would create its own (and a destroy removes the settings before the group).
            depends_on=[self.execution_log_group],
        )
        return stage

    def _build_custom_domain(self) -> ApiGatewayDomainName | None:
        """The deployment's domain (regional, TLS 1.2) with the stage at its root. Its DNS record
        is the operator's: an alias to ``regional_domain_name`` in ``regional_zone_id`` (outputs)."""
        if self._custom_domain is None:
            return None
        domain = ApiGatewayDomainName(
            self,
            "custom_domain",
            domain_name=self._custom_domain.domain_name,
            regional_certificate_arn=self._custom_domain.certificate_arn,
            endpoint_configuration=ApiGatewayDomainNameEndpointConfiguration(types=["REGIONAL"]),
            security_policy=CUSTOM_DOMAIN_SECURITY_POLICY,
        )
        ApiGatewayBasePathMapping(
            self,
            "custom_domain_mapping",
            api_id=self.rest_api.id,
            stage_name=self.stage.stage_name,
            domain_name=domain.domain_name,
        )
        return domain

    def _build_usage_plans(self, tenancy: TenancyConfig) -> dict[str, ApiGatewayUsagePlan]:
        """One usage plan per merchant tier; merchants' keys join them as data (`make merchant`)."""
        namer = self._context.namer
        return {
            tier.name: ApiGatewayUsagePlan(
                self,
                f"usage_plan_{tier.name.replace('-', '_')}",
                name=namer(f"payments-api-{tier.name}"),
                description=f"merchant tier {tier.name}",
                api_stages=[ApiGatewayUsagePlanApiStages(api_id=self.rest_api.id, stage=self.stage.stage_name)],
                quota_settings=ApiGatewayUsagePlanQuotaSettings(limit=tier.daily_quota, period="DAY"),
                throttle_settings=ApiGatewayUsagePlanThrottleSettings(
                    rate_limit=tier.rate_limit, burst_limit=tier.burst_limit
                ),
            )
            for tier in tenancy.merchant_tiers
        }

    def alarm_sources(self) -> AlarmSources:
        return AlarmSources(
            functions=(WatchedFunction(self.api_function), WatchedFunction(self.authorizer_function)),
            apis=(WatchedApi(api_name=self.rest_api.name, stage_name=self.stage.stage_name),),
        )
