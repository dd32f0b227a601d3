"""Lambda execution backend: run the function's own zip in a Python subprocess.

moto 5.2.5 executes Lambda code only inside Docker (``LambdaFunction._invoke_lambda``) or,
with ``use_docker=False``, returns an echo. There is no Docker here, so this module replaces
``LambdaFunction.invoke`` (the single path used by the Invoke API, Step Functions tasks,
S3/SNS notifications and our SQS poller) with a local runtime:

* the function zip is unpacked to ``<state>/lambda-cache/<digest>/task`` and every layer zip
  to ``.../opt`` in the function's layer order, so a layer's ``python/`` lands in
  ``opt/python`` exactly as AWS mounts it at ``/opt/python``;
* the handler runs in ``sys.executable -I -S localcloud/lambda_bootstrap.py`` with a clean
  environment: the function's variables, the variables the AWS runtime sets
  (AWS_REGION, AWS_LAMBDA_FUNCTION_NAME, _X_AMZN_TRACE_ID, ...), fake credentials and
  ``AWS_ENDPOINT_URL`` = the emulator, so boto3 in the handler talks to the emulator;
* the import path is the one AWS gives (task root, /opt/python,
  /opt/python/lib/pythonX.Y/site-packages) plus a directory that holds only what the AWS
  python runtime bundles (boto3, botocore and their dependencies). Anything else the
  handler imports must come from its zip or a layer, as on AWS;
* the interpreter is the launcher's (3.11 here) while the stack deploys python3.12: code
  using 3.12-only syntax or a layer with cpython-312 binary wheels fails locally;
* an exception comes back as AWS reports it: header ``X-Amz-Function-Error: Unhandled``
  and ``{"errorType": <class name>, "errorMessage", "requestId", "stackTrace"}``;
  Step Functions Retry/Catch match on that errorType;
* the function timeout is enforced in the subprocess (``Sandbox.Timedout``, the AWS error
  type) with a hard kill in the parent as a backstop;
* ``InvocationType=Event`` runs in a background thread (AWS queues async invocations) and
  is retried on function error ``MaximumRetryAttempts`` times (default 2, as AWS), waiting
  ``LOCALCLOUD_ASYNC_RETRY_DELAY_SECONDS`` (default 1s; AWS waits ~1 and ~2 minutes); an event
  that still fails goes to the function's ``DeadLetterConfig`` SQS queue (body = the event,
  attributes RequestID/ErrorCode/ErrorMessage, as AWS sends it);
* every invocation is logged to CloudWatch Logs ``/aws/lambda/<name>`` with
  START/END/REPORT lines and mirrored to the server log.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.patches.lambda_package import BOOTSTRAP, build_environment, prepare_code
from localcloud.patches.runtime_state import RUNTIME

# Grace on top of the function timeout for interpreter start-up and imports (AWS: init phase).
INIT_ALLOWANCE_SECONDS = 10.0
LOG_RESULT_TAIL_BYTES = 4096

_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()
_async_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lambda-async")


@dataclass(frozen=True)
class InvocationResult:
    payload: bytes
    function_error: bool
    logs: str
    request_id: str


def _error_document(request_id: str, error_type: str, message: str) -> bytes:
    document = {
        "errorMessage": f"RequestId: {request_id} Error: {message}",
        "errorType": error_type,
    }
    return json.dumps(document).encode()


def run_invocation(fn: Any, event_json: str) -> InvocationResult:
    request_id = str(uuid.uuid4())
    code_root = prepare_code(fn)
    environment = build_environment(fn, request_id, code_root)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="invoke-", dir=RUNTIME.state_dir) as scratch:
        result_path = Path(scratch) / "result.json"
        command = [sys.executable, "-I", "-S", str(BOOTSTRAP), fn.handler, str(result_path)]
        process = subprocess.Popen(
            command,
            cwd=code_root / "task",
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        with _running_lock:
            _running.add(process)
        killed = False
        try:
            output, _ = process.communicate(event_json.encode(), timeout=float(fn.timeout) + INIT_ALLOWANCE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            killed = True
        finally:
            with _running_lock:
                _running.discard(process)
        duration_ms = (time.monotonic() - started) * 1000
        document = result_path.read_bytes() if result_path.exists() else b""

    if killed:
        payload = _error_document(request_id, "Sandbox.Timedout", f"Task timed out after {fn.timeout:.2f} seconds")
        function_error = True
    elif not document:
        message = f"Runtime exited with error: exit status {process.returncode}"
        payload = _error_document(request_id, "Runtime.ExitError", message)
        function_error = True
    else:
        parsed = json.loads(document)
        function_error = "payload" not in parsed
        payload = document if function_error else json.dumps(parsed["payload"]).encode()

    logs = (
        f"START RequestId: {request_id} Version: $LATEST\n"
        + output.decode("utf-8", errors="replace")
        + f"END RequestId: {request_id}\n"
        + f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        + f"Memory Size: {fn.memory_size} MB\n"
    )
    return InvocationResult(payload, function_error, logs, request_id)


def _record(fn: Any, result: InvocationResult) -> None:
    try:
        fn.save_logs(result.logs)
    except Exception as exc:
        print(f"localcloud: could not store logs of {fn.function_name}: {exc}", file=sys.stderr)
    prefix = f"[lambda {fn.function_name}] "
    sys.stderr.write("".join(prefix + line + "\n" for line in result.logs.splitlines()))
    sys.stderr.flush()


def invoke_and_record(fn: Any, event_json: str) -> InvocationResult:
    fn.logs_backend.ensure_log_group(fn.logs_group_name)
    result = run_invocation(fn, event_json)
    _record(fn, result)
    return result


def _async_retry_policy(fn: Any) -> int:
    for invoke_config in getattr(fn, "event_invoke_config", []) or []:
        attempts = invoke_config.config.get("MaximumRetryAttempts")
        if attempts is not None:
            return int(attempts)
    return 2


def _send_to_dead_letter_queue(fn: Any, event_json: str, result: InvocationResult) -> None:
    """What Lambda does with an async event whose retries are exhausted: DeadLetterConfig."""
    target = (getattr(fn, "dead_letter_config", None) or {}).get("TargetArn", "")
    if target.split(":")[2:3] != ["sqs"]:
        return  # SNS targets are not emulated
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, queue_name = target.split(":", 5)
    try:
        error_message = json.loads(result.payload).get("errorMessage", "")
    except ValueError:
        error_message = ""
    attributes = {
        "RequestID": {"DataType": "String", "StringValue": result.request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": str(error_message)[:1000] or "Unhandled"},
    }
    sqs_backends[account][region].send_message(queue_name, event_json, message_attributes=attributes)


def _invoke_async(fn: Any, event_json: str) -> None:
    delay = float(os.environ.get("LOCALCLOUD_ASYNC_RETRY_DELAY_SECONDS", "1"))
    attempts = _async_retry_policy(fn) + 1
    for attempt in range(attempts):
        try:
            result = invoke_and_record(fn, event_json)
        except Exception as exc:
            print(f"localcloud: async invoke of {fn.function_name} failed: {exc}", file=sys.stderr)
            return
        if not result.function_error:
            return
        if attempt + 1 < attempts:
            time.sleep(delay * (attempt + 1))
    try:
        _send_to_dead_letter_queue(fn, event_json, result)
    except Exception as exc:
        print(f"localcloud: dead-letter delivery for {fn.function_name} failed: {exc!r}", file=sys.stderr)


def submit_async(fn: Any, event_json: str) -> None:
    _async_pool.submit(_invoke_async, fn, event_json)


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key in (name, name.lower()):
        value = headers.get(key)
        if value:
            return str(value)
    return None


def _patched_invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    event_json = body if body else "{}"
    invocation_type = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        submit_async(self, event_json)
        return b""
    result = invoke_and_record(self, event_json)
    if result.function_error:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["x-amz-executed-version"] = "$LATEST"
    tail = result.logs.encode("utf-8")[-LOG_RESULT_TAIL_BYTES:]
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
    return result.payload


def apply() -> None:
    from moto.awslambda.models import LambdaFunction

    LambdaFunction.invoke = _patched_invoke  # type: ignore[method-assign]


def kill_running_invocations() -> None:
    with _running_lock:
        for process in list(_running):
            process.kill()
