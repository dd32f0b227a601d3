"""The API's edge: a REGIONAL WAFv2 web ACL on the stage (PCI DSS v4.0 requirement 6.4.2).

AWS managed rule groups (the common rule set: OWASP-style bad requests; known bad inputs:
Log4j/Java deserialization and similar exploit patterns) plus a rate-based rule that blocks a
source IP sending more than ``rate_limit_per_5_minutes`` requests in any 5-minute window,
in front of the per-merchant usage-plan throttles. Requests the ACL blocks answer 403 with the
API's ``WAF_FILTERED`` gateway response. Metrics and sampled requests are on for every rule.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
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
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import Wafv2WebAclLoggingConfiguration
from constructs import Construct

from lib.components.context import PlatformContext
from lib.config import EdgeConfig

# AWS managed rule groups, in evaluation order (vendor AWS).
MANAGED_RULE_GROUPS: tuple[str, ...] = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")


def _visibility(metric: str) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
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
            description="payments API edge: AWS managed rules and a per-IP rate limit",
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=[*self._managed_rules(), self._rate_rule(config)],
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
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
    def _rate_rule(config: EdgeConfig) -> Wafv2WebAclRule:
        return Wafv2WebAclRule(
            name="rate-per-source-ip",
            priority=10 * (len(MANAGED_RULE_GROUPS) + 1),
            action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
            statement={"rate_based_statement": {"limit": config.rate_limit_per_5_minutes, "aggregate_key_type": "IP"}},
            visibility_config=_visibility("rate-per-source-ip"),
        )
