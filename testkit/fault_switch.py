"""The emulator's fault switch over HTTP (``localcloud/faults.py``; LOCALCLOUD_FAULTS at start)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

FAULTS_PATH = "/localcloud/faults"  # localcloud.faults.STATUS_PATH; testkit does not import localcloud


def fault_switch(endpoint: str, plan: dict[str, Any] | None = None) -> dict[str, Any]:
    """Install ``plan`` (``{}`` turns every fault off) or, without one, read the switch: the
    plan and, per key, the calls seen and failed."""
    data = None if plan is None else json.dumps(plan).encode()
    request = urllib.request.Request(f"{endpoint}{FAULTS_PATH}", data=data, method="GET" if data is None else "POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        status: dict[str, Any] = json.loads(response.read())
    return status
