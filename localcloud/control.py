"""The emulator's own HTTP routes (outside every AWS API): what the fault switch did, Lambda pools.

* ``GET /localcloud/faults``: the plan and, per key, calls seen and calls failed;
* ``POST /localcloud/faults`` with a ``LOCALCLOUD_FAULTS`` document: replace the plan (counts
  restart), so a test can turn faults on for one phase of a session's deployment and off
  again (``{}``: no faults). A bad document answers 400 with the exact message;
* ``GET /localcloud/lambda``: execution environments per function (``idle``, ``busy``);
* ``POST /localcloud/lambda`` ``{"reuse": false}``: discard every environment after its
  invocation (each one a cold start, as before warm environments existed). The benchmark uses
  it to measure its baseline in the same run; it is an emulator knob, never a stack setting;
* ``/localcloud/stepfunctions``: the Step Functions quotas enforced (``stepfunctions_quotas``);
* ``/localcloud/network``: the functions' names and routes, and certificates from the run's CA
  (``network``, ``network_tls``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from localcloud import faults, network, stepfunctions_quotas
from localcloud.network_tls import LocalCA

FAULTS_PATH = faults.STATUS_PATH
LAMBDA_PATH = "/localcloud/lambda"


def _json(start_response: Callable[..., Any], document: Any, status: str = "200 OK") -> Iterable[bytes]:
    body = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class ControlMiddleware:
    def __init__(self, app: Callable[..., Any], hosts: network.Network, ca: LocalCA) -> None:
        self.app = app
        self.hosts = hosts
        self.ca = ca

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == FAULTS_PATH:
            if environ.get("REQUEST_METHOD") == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                try:
                    faults.install(faults.parse(environ["wsgi.input"].read(length).decode("utf-8")))
                except faults.FaultConfigError as error:
                    return _json(start_response, {"message": str(error)}, "400 Bad Request")
            return _json(start_response, faults.PLAN.status())
        if path == LAMBDA_PATH:
            from localcloud.patches.lambda_runtime import POOL

            if environ.get("REQUEST_METHOD") == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                request = json.loads(environ["wsgi.input"].read(length) or b"{}")
                if not isinstance(request.get("reuse"), bool):
                    return _json(start_response, {"message": '"reuse" must be true or false'}, "400 Bad Request")
                POOL.reuse = request["reuse"]
                if not POOL.reuse:
                    POOL.kill_all()
            return _json(start_response, {"reuse": POOL.reuse, "functions": POOL.stats()})
        if path in (network.ROUTE, f"{network.ROUTE}/certificates"):
            return network.handle(self.hosts, environ, start_response, self.ca.issue)
        if path == stepfunctions_quotas.ROUTE:
            return stepfunctions_quotas.handle(environ, start_response)
        response: Iterable[bytes] = self.app(environ, start_response)
        return response
