"""The API's edge: a REGIONAL WAFv2 web ACL on the stage (PCI DSS v4.0 requirement 6.4.2).

AWS managed rule groups (the common rule set: OWASP-style bad requests; known bad inputs:
Log4j/Java deserialization and similar exploit patterns) plus two rate-based rules, each blocking
what sends more than ``rate_limit_per_5_minutes`` requests in any 5-minute window: one counts per
credential (the merchant's secret key header, ``Authorization``, whatever IP it comes from), one
per source IP (a flood of made-up keys from one address). The config keeps the limit above the
highest merchant tier's plan (``lib/config``), so WAF never blocks a merchant its usage plan would
still serve. First of all, a rule blocks every request whose ``Authorization`` header is missing
or not shaped as a secret key (``contract.CREDENTIAL_HEADER_PATTERN``, the shape the authorizer
accepts): junk costs no authorizer run and no table read. Requests the ACL blocks answer 403
with the API's ``WAF_FILTERED`` gateway response.

The credential headers never reach WAF's stored data: the web ACL's data protection substitutes
them in logs and sampled requests alike, the logging configuration redacts them as well, and
sampled requests are off for every rule (they would also keep client IPs and query strings).
Metrics stay on.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDataProtectionConfig,
    Wafv2WebAclDataProtectionConfigDataProtection,
    Wafv2WebAclDataProtectionConfigDataProtectionField,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct
from payment_core import contract

from lib.components.api import CREDENTIAL_HEADER, CREDENTIAL_HEADERS
from lib.components.context import PlatformContext
from lib.config import EdgeConfig

# AWS managed rule groups, in evaluation order (vendor AWS).
MANAGED_RULE_GROUPS: tuple[str, ...] = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
MALFORMED_CREDENTIAL = "malformed-credential"
RATE_PER_CREDENTIAL = "rate-per-credential"
RATE_PER_SOURCE_IP = "rate-per-source-ip"
# Data protection's action: SUBSTITUTION writes "REDACTED" in place of the value. (HASH would
# keep a SHA-256 of the key in the logs: the very digest the merchants table looks keys up by.)
DATA_PROTECTION_ACTION = "SUBSTITUTION"


def _visibility(metric: str) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=False
    )


class ApiEdge(Construct):
    """Exposes ``web_acl``, ``association`` and ``log_group`` (every request the ACL evaluates)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        config: EdgeConfig,
        stage: ApiGatewayStage,
    ) -> None:
        super().__init__(scope, construct_id)
        name = context.namer("payments-api-edge")
        self.web_acl: Wafv2WebAcl = Wafv2WebAcl(
            self,
            "web_acl",
            name=name,
            description="payments API edge: AWS managed rules, per-credential and per-IP rate limits",
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=[self._credential_shape_rule(), *self._managed_rules(), *self._rate_rules(config)],
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=False
            ),
            data_protection_config=Wafv2WebAclDataProtectionConfig(
                data_protection=[
                    Wafv2WebAclDataProtectionConfigDataProtection(
                        action=DATA_PROTECTION_ACTION,
                        field=Wafv2WebAclDataProtectionConfigDataProtectionField(
                            field_type="SINGLE_HEADER", field_keys=list(CREDENTIAL_HEADERS)
                        ),
                    )
                ]
            ),
        )
        self.association: Wafv2WebAclAssociation = Wafv2WebAclAssociation(
            self, "association", resource_arn=stage.arn, web_acl_arn=self.web_acl.arn
        )
        # WAF logs only to log groups named aws-waf-logs-*; kept and encrypted like the others.
        self.log_group: CloudwatchLogGroup = CloudwatchLogGroup(
            self,
            "log_group",
            name=f"aws-waf-logs-{name}",
            retention_in_days=context.log_retention_days,
            kms_key_id=context.key.arn,
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            # Redaction applies to the log records only (not to samples): data protection above
            # covers both; this keeps the headers out of the logs even if that block is edited.
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in CREDENTIAL_HEADERS
            ],
        )

    @staticmethod
    def _credential_shape_rule() -> Wafv2WebAclRule:
        # A missing header matches no regex, so NOT(match) blocks it too. WAF matches header
        # names case-insensitively; the provider wants the name in lower case (as it is).
        shape = {
            "regex_match_statement": {
                "regex_string": contract.CREDENTIAL_HEADER_PATTERN,
                "field_to_match": {"single_header": {"name": CREDENTIAL_HEADER}},
                "text_transformation": [{"priority": 0, "type": "NONE"}],
            }
        }
        return Wafv2WebAclRule(
            name=MALFORMED_CREDENTIAL,
            priority=1,
            action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
            statement={"not_statement": {"statement": [shape]}},
            visibility_config=_visibility(MALFORMED_CREDENTIAL),
        )

    @staticmethod
    def _managed_rules() -> list[Wafv2WebAclRule]:
        return [
            Wafv2WebAclRule(
                name=group,
                priority=10 * (position + 1),
                # "none": the group's own actions (block) apply; "count" would only observe.
                override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                statement={"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}},
                visibility_config=_visibility(group),
            )
            for position, group in enumerate(MANAGED_RULE_GROUPS)
        ]

    @staticmethod
    def _rate_rules(config: EdgeConfig) -> list[Wafv2WebAclRule]:
        first = 10 * (len(MANAGED_RULE_GROUPS) + 1)
        # A request without the header is not counted by the per-credential rule (WAF omits
        # requests missing a custom key); API Gateway refuses it without running the authorizer.
        per_credential = {
            "limit": config.rate_limit_per_5_minutes,
            "aggregate_key_type": "CUSTOM_KEYS",
            "custom_key": [
                {"header": {"name": CREDENTIAL_HEADER, "text_transformation": [{"priority": 0, "type": "NONE"}]}}
            ],
        }
        per_source_ip = {"limit": config.rate_limit_per_5_minutes, "aggregate_key_type": "IP"}
        return [
            Wafv2WebAclRule(
                name=rule_name,
                priority=first + 10 * position,
                action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                statement={"rate_based_statement": statement},
                visibility_config=_visibility(rule_name),
            )
            for position, (rule_name, statement) in enumerate(
                ((RATE_PER_CREDENTIAL, per_credential), (RATE_PER_SOURCE_IP, per_source_ip))
            )
        ]
