"""Local AWS emulator for the payment platform: moto server + the patches it needs.

Public API: ``LocalCloud`` (start/stop a server in a child process), ``start_daemon`` /
``stop_daemon`` / ``read_endpoint`` (what ``python -m localcloud`` uses) and the Terraform
provider helpers ``provider_endpoints`` / ``provider_overrides`` / ``provider_settings``.
"""

from localcloud.launcher import (
    LocalCloud,
    LocalCloudError,
    read_endpoint,
    start_daemon,
    stop_daemon,
)
from localcloud.provider import provider_endpoints, provider_overrides, provider_settings

__all__ = [
    "LocalCloud",
    "LocalCloudError",
    "provider_endpoints",
    "provider_overrides",
    "provider_settings",
    "read_endpoint",
    "start_daemon",
    "stop_daemon",
]
