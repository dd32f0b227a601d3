"""Resource names: ``<name>-<suffix>``, one function so every construct names things alike."""

from __future__ import annotations

import re

# Suffixes end up in S3 bucket names (lowercase, digits, hyphens) and are kept short
# enough that the longest name stays within every AWS limit (see tests/security/test_names.py).
SUFFIX_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$")
SUFFIX_RULE = "1-20 characters of a-z, 0-9 and '-', starting and ending with a letter or digit"


def validate_suffix(suffix: str) -> str:
    # fullmatch: with match, "$" would also accept a trailing newline.
    if not SUFFIX_PATTERN.fullmatch(suffix):
        raise ValueError(f"ENVIRONMENT_SUFFIX must be {SUFFIX_RULE}, got {suffix!r}")
    return suffix


# The site qualifier of a stack deployed in its config's DR region (lib/config/disaster_recovery.py).
DR_SITE = "dr"


class Namer:
    """Builds suffixed names; constructs receive one instead of the raw suffix.

    ``site``: set for a stack in its DR region. Names unique per region (tables, functions, queues)
    stay ``<name>-<suffix>``: the DR site's tables are the primary's replicas, same names. Names
    unique per account or worldwide (IAM roles, S3 buckets, dashboards: ``account_wide``) become
    ``<name>-<site>-<suffix>``, so both sites of one environment exist at once in one account.
    """

    def __init__(self, suffix: str, site: str = "") -> None:
        self.suffix: str = validate_suffix(suffix)
        self.site: str = site

    def __call__(self, name: str) -> str:
        return f"{name}-{self.suffix}"

    def account_wide(self, name: str) -> str:
        return f"{name}-{self.site}-{self.suffix}" if self.site else self(name)

    def at_site(self, site: str) -> Namer:
        """The namer of the same environment at ``site`` (the primary names its DR site's bucket)."""
        return Namer(self.suffix, site)


# The API Gateway CloudWatch role TapAccount creates (lib/account_stack.py) when it adopts none:
# IAM role names are global to the account while the setting is per region, so the region is in
# the name. Here (stdlib only) so make preflight can tell TapAccount's role from another team's.
ACCOUNT_ROLE_NAME_PREFIX = "payment-platform-apigw-cloudwatch"


def cloudwatch_role_name(region: str) -> str:
    return f"{ACCOUNT_ROLE_NAME_PREFIX}-{region}"
