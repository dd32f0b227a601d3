"""The API edge's slice of the config: the web ACL in front of the stage, and the custom domain."""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.config.checks import Slice, within
from lib.config.limits import WAF_RATE_LIMIT


@dataclass(frozen=True)
class EdgeConfig(Slice):
    """The WAFv2 web ACL in front of the stage (PCI DSS v4.0 6.4.2), and where clients reach it."""

    waf_enabled: bool
    # Requests in any 5-minute window before a rate-based rule blocks: counted per credential
    # (the secret key's Authorization header) and per source IP. PlatformConfig keeps it above
    # every tier's plan.
    rate_limit_per_5_minutes: int = field(metadata=within(WAF_RATE_LIMIT))
    # The API only on a custom domain with a TLS 1.2 security policy, the execute-api endpoint
    # (TLS 1.0 and up for regional APIs) disabled. The domain and its ACM certificate differ per
    # deployment: API_DOMAIN_NAME and API_CERTIFICATE_ARN (lib/settings.py), which must then be set.
    custom_domain_required: bool


@dataclass(frozen=True)
class CustomDomain:
    """A deployment's API domain and the ACM certificate (in the stack's region) that covers it;
    validated where it is read (``lib.settings.read_settings``)."""

    domain_name: str
    certificate_arn: str
