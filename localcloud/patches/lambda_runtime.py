"""Lambda execution backend: warm execution environments running the function's own zip.

moto 5.2.5 executes Lambda code only inside Docker (``LambdaFunction._invoke_lambda``) or,
with ``use_docker=False``, returns an echo. There is no Docker here, so this module replaces
``LambdaFunction.invoke`` (the single path used by the Invoke API, Step Functions tasks,
S3/SNS notifications and our SQS poller) with a local runtime:

* the function zip is unpacked to ``<state>/lambda-cache/<digest>/task`` and every layer zip
  to ``.../opt`` in the function's layer order, so a layer's ``python/`` lands in
  ``opt/python`` exactly as AWS mounts it at ``/opt/python``;
* an *execution environment* is a ``<runtime's python> -I -S localcloud/lambda_bootstrap.py``
  process (``python3.12`` runs on a 3.12 found on the machine, see ``lib.python_runtime``;
  none found fails the invocation with ``Runtime.Unknown`` naming the runtime and where it
  looked, never a silent run on another version) with a clean environment (the function's
  variables, the variables the AWS runtime sets, credentials of its own and
  ``AWS_ENDPOINT_URL`` = the emulator). It imports the handler on its first invocation and
  then serves invocations one at a time, so module state carries over between invocations
  as on AWS. An environment is reused while the function's
  code and configuration are unchanged, is discarded after a timeout or a crash (AWS resets
  the environment then) and after ``LOCALCLOUD_LAMBDA_IDLE_SECONDS`` (default 300) unused;
* concurrency: a function runs at most ``ReservedConcurrentExecutions`` environments at once,
  unreserved functions share what the account has left (the account's quota from
  ``patches/lambda_account.py``: ``LOCALCLOUD_LAMBDA_CONCURRENCY_LIMIT``, default 1000, as raised
  through Service Quotas, minus all reservations). An invocation past that is *throttled*: a
  synchronous Invoke answers 429 ``TooManyRequestsException`` (Reason
  ``ReservedFunctionConcurrentInvocationLimitExceeded``), an asynchronous event goes back to
  the internal queue and is retried with exponential backoff, and the SQS poller leaves the
  batch on the queue (see ``sqs_event_source``), as the Lambda service does;
* the import path is the one AWS gives (task root, /opt/python/lib/pythonX.Y/site-packages,
  /opt/python) plus a directory that holds only the SDK the runtime bundles (boto3, botocore
  and their dependencies at the runtime's versions, built for its Python);
* an exception comes back as AWS reports it: header ``X-Amz-Function-Error: Unhandled``
  and ``{"errorType": <class name>, "errorMessage", "requestId", "stackTrace"}``;
* the function timeout is enforced in the environment (``Sandbox.Timedout``) with a hard kill
  in the parent as a backstop; the fault switch (``localcloud.faults``,
  ``lambda:Timeout:<function>``) turns a planned fraction of invocations into timeouts;
* ``InvocationType=Event`` runs in a background thread and is retried on function error
  ``MaximumRetryAttempts`` times (default 2, as AWS), waiting
  ``LOCALCLOUD_ASYNC_RETRY_DELAY_SECONDS`` times the attempt (default 1s; AWS waits ~1 and ~2
  minutes); an event that still fails goes to the function's ``DeadLetterConfig`` SQS queue;
* every invocation is logged to CloudWatch Logs ``/aws/lambda/<name>`` with
  START/END/REPORT lines and mirrored to the server log.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from localcloud import faults
from localcloud.lambda_bootstrap import RESULT_SENTINEL
from localcloud.lambda_runtimes import RuntimeUnavailable, runtime_interpreter
from localcloud.patches import lambda_account
from localcloud.patches.lambda_package import BOOTSTRAP, build_environment, prepare_code, trace_header

# Grace on top of the function timeout for interpreter start-up and imports (AWS: init phase, 10 s).
INIT_ALLOWANCE_SECONDS = 10.0
# Grace on a warm environment for the pipe round trip (the bootstrap enforces the timeout itself).
WARM_ALLOWANCE_SECONDS = 2.0
LOG_RESULT_TAIL_BYTES = 4096
THROTTLE_REASON_RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"
THROTTLE_REASON_ACCOUNT = "ConcurrentInvocationLimitExceeded"
# Async invocations that were throttled: AWS retries "for up to 6 hours", the interval growing
# exponentially "from 1 second after the first attempt to a maximum of 5 minutes"
# (Lambda developer guide, "How Lambda handles errors and retries with asynchronous invocation").
ASYNC_THROTTLE_FIRST_DELAY_SECONDS = 1.0
ASYNC_THROTTLE_MAX_DELAY_SECONDS = 300.0
DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 21600

_SENTINEL = RESULT_SENTINEL.encode()
_async_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="lambda-async")


@dataclass(frozen=True)
class InvocationResult:
    payload: bytes
    function_error: bool
    logs: str
    request_id: str


class FunctionThrottled(Exception):
    def __init__(self, function_name: str, reason: str) -> None:
        super().__init__(f"{function_name}: {reason}")
        self.reason = reason


def _error_document(request_id: str, error_type: str, message: str) -> bytes:
    document = {
        "errorMessage": f"RequestId: {request_id} Error: {message}",
        "errorType": error_type,
    }
    return json.dumps(document).encode()


class ExecutionEnvironment:
    """One bootstrap process; serves one invocation at a time."""

    def __init__(self, fn: Any, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.function_name = fn.function_name
        self.initialized = False
        self.last_used = time.monotonic()
        interpreter = runtime_interpreter(str(fn.run_time))
        code_root = prepare_code(fn)
        environment = build_environment(fn, str(uuid.uuid4()), code_root)
        self.process = subprocess.Popen(
            [str(interpreter), "-I", "-S", str(BOOTSTRAP), fn.handler],
            cwd=code_root / "task",
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._outputs: queue.Queue[tuple[str, bytes | None]] = queue.Queue()
        threading.Thread(target=self._read_output, daemon=True, name=f"lambda-out-{fn.function_name}").start()

    def _read_output(self) -> None:
        """Split the process output into (logs, result line) per invocation; (logs, None) at exit."""
        assert self.process.stdout is not None
        buffer = b""
        while True:
            chunk = self.process.stdout.read1(65536)  # type: ignore[attr-defined]
            if not chunk:
                self._outputs.put((buffer.decode("utf-8", "replace"), None))
                return
            buffer += chunk
            while True:
                start = buffer.find(_SENTINEL)
                end = buffer.find(b"\n", start) if start >= 0 else -1
                if end < 0:
                    break
                logs, result = buffer[:start], buffer[start + len(_SENTINEL) : end]
                buffer = buffer[end + 1 :]
                self._outputs.put((logs.decode("utf-8", "replace"), result))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, fn: Any, request_id: str, event_json: str) -> tuple[str, bytes | None, bool]:
        """(logs, result document or None if the process ended, killed by the backstop)."""
        allowance = WARM_ALLOWANCE_SECONDS if self.initialized else INIT_ALLOWANCE_SECONDS
        request = {"request_id": request_id, "trace_id": trace_header(), "event": event_json}
        assert self.process.stdin is not None
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the reader reports the exit
        try:
            logs, result = self._outputs.get(timeout=float(fn.timeout) + allowance)
        except queue.Empty:
            self.kill()
            logs, _ = self._outputs.get(timeout=5)
            return logs, None, True
        self.initialized = True
        self.last_used = time.monotonic()
        return logs, result, False

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait()


def _fingerprint(fn: Any) -> str:
    """Code + configuration an environment was built for; a change means new environments."""
    parts = [
        fn.code_sha_256,
        str(fn.run_time),
        fn.handler,
        str(fn.timeout),
        str(fn.memory_size),
        json.dumps(fn.environment_vars or {}, sort_keys=True),
        json.dumps([layer["Arn"] for layer in fn.layers]),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@dataclass
class _FunctionEnvironments:
    idle: list[ExecutionEnvironment] = field(default_factory=list)
    busy: int = 0


class EnvironmentPool:
    """Environments per function ARN, with the account's concurrency accounting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._functions: dict[str, _FunctionEnvironments] = {}
        self._unreserved_busy = 0
        self._started: set[ExecutionEnvironment] = set()
        self.reuse = True  # False: every invocation a cold start (benchmark baseline, see localcloud.control)

    def track(self, environment: ExecutionEnvironment) -> ExecutionEnvironment:
        with self._lock:
            self._started = {e for e in self._started if e.alive}
            self._started.add(environment)
        return environment

    @staticmethod
    def reservation(fn: Any) -> int | None:
        reserved = getattr(fn, "reserved_concurrency", None)
        return None if reserved is None or reserved == "" else int(reserved)

    @staticmethod
    def _account_reservations(fn: Any) -> int:
        from moto.awslambda.utils import get_backend

        backend = get_backend(fn.account_id, fn.region)
        return sum(EnvironmentPool.reservation(other) or 0 for other in backend.list_functions())

    def acquire(self, fn: Any) -> ExecutionEnvironment | None:
        """A slot for one invocation: an idle warm environment, or None (start a new one)."""
        reserved = self.reservation(fn)
        # The same quota PutFunctionConcurrency and GetAccountSettings answer with.
        account_limit = lambda_account.QUOTA.concurrent_executions
        unreserved_limit = None if reserved is not None else account_limit - self._account_reservations(fn)
        fingerprint = _fingerprint(fn)
        stale: list[ExecutionEnvironment] = []
        with self._lock:
            slot = self._functions.setdefault(fn.function_arn, _FunctionEnvironments())
            if reserved is not None and slot.busy >= reserved:
                raise FunctionThrottled(fn.function_name, THROTTLE_REASON_RESERVED)
            if unreserved_limit is not None and self._unreserved_busy >= unreserved_limit:
                raise FunctionThrottled(fn.function_name, THROTTLE_REASON_ACCOUNT)
            slot.busy += 1
            if reserved is None:
                self._unreserved_busy += 1
            found = None
            while slot.idle:
                candidate = slot.idle.pop()
                if candidate.fingerprint == fingerprint and candidate.alive:
                    found = candidate
                    break
                stale.append(candidate)
        for environment in stale:
            environment.kill()
        return found

    def release(self, fn: Any, environment: ExecutionEnvironment | None, reusable: bool) -> None:
        with self._lock:
            slot = self._functions.setdefault(fn.function_arn, _FunctionEnvironments())
            slot.busy -= 1
            if self.reservation(fn) is None:
                self._unreserved_busy = max(0, self._unreserved_busy - 1)
            if environment is not None and reusable and self.reuse and environment.alive:
                slot.idle.append(environment)
                return
        if environment is not None:
            environment.kill()

    def reap_idle(self, idle_seconds: float) -> None:
        now = time.monotonic()
        expired: list[ExecutionEnvironment] = []
        with self._lock:
            for slot in self._functions.values():
                keep = [e for e in slot.idle if now - e.last_used < idle_seconds and e.alive]
                expired += [e for e in slot.idle if e not in keep]
                slot.idle = keep
        for environment in expired:
            environment.kill()

    def kill_all(self) -> None:
        with self._lock:
            environments = list(self._started)
            for slot in self._functions.values():
                slot.idle = []
        for environment in environments:
            environment.kill()

    def stats(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {arn: {"idle": len(s.idle), "busy": s.busy} for arn, s in self._functions.items()}


POOL = EnvironmentPool()
_reaper_stop = threading.Event()


def _reap_forever() -> None:
    idle_seconds = float(os.environ.get("LOCALCLOUD_LAMBDA_IDLE_SECONDS", "300"))
    while not _reaper_stop.wait(min(30.0, idle_seconds / 2)):
        POOL.reap_idle(idle_seconds)


def run_invocation(fn: Any, event_json: str) -> InvocationResult:
    """Run one invocation in a warm (or new) environment; FunctionThrottled past the concurrency."""
    request_id = str(uuid.uuid4())
    if faults.PLAN.should_fail(f"{faults.LAMBDA_INIT_ERROR_PREFIX}{fn.function_name}"):
        return _crashed_before_the_handler(fn, request_id)
    environment = POOL.acquire(fn)
    reusable = False
    started = time.monotonic()
    unavailable: RuntimeUnavailable | None = None
    logs, document, killed = "", None, False
    try:
        if environment is None:
            environment = POOL.track(ExecutionEnvironment(fn, _fingerprint(fn)))
        logs, document, killed = environment.invoke(fn, request_id, event_json)
        reusable = not killed and document is not None
        if reusable and faults.PLAN.should_fail(f"{faults.LAMBDA_TIMEOUT_PREFIX}{fn.function_name}"):
            # Planned timeout: the handler's side effects stand, its result is lost and the
            # environment is reset, which is what a timeout striking after the last write does.
            killed, reusable = True, False
            logs += f"localcloud: fault switch timed out {request_id}\n"
        if document is not None and b'"errorType": "Sandbox.Timedout"' in document:
            reusable = False
    except RuntimeUnavailable as exc:
        unavailable = exc  # nothing started: the runtime itself could not (AWS's Runtime.Unknown)
    finally:
        POOL.release(fn, environment, reusable)
    duration_ms = (time.monotonic() - started) * 1000

    if unavailable is not None:
        payload = _error_document(request_id, "Runtime.Unknown", str(unavailable))
        function_error = True
        logs = f"localcloud: {unavailable}\n"
    elif killed:
        payload = _error_document(request_id, "Sandbox.Timedout", f"Task timed out after {fn.timeout:.2f} seconds")
        function_error = True
    elif document is None:
        code = environment.process.returncode if environment is not None else None
        payload = _error_document(request_id, "Runtime.ExitError", f"Runtime exited with error: exit status {code}")
        function_error = True
    else:
        parsed = json.loads(document)
        function_error = "payload" not in parsed
        payload = document if function_error else json.dumps(parsed["payload"]).encode()

    logs = (
        f"START RequestId: {request_id} Version: {fn.version}\n"
        + logs
        + f"END RequestId: {request_id}\n"
        + f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        + f"Memory Size: {fn.memory_size} MB\n"
    )
    return InvocationResult(payload, function_error, logs, request_id)


def _crashed_before_the_handler(fn: Any, request_id: str) -> InvocationResult:
    """Planned: the runtime exits while starting up, so none of the function's code runs. Lambda
    answers ``Runtime.ExitError`` as a function error (``X-Amz-Function-Error: Unhandled``)."""
    payload = _error_document(request_id, "Runtime.ExitError", "Runtime exited with error: exit status 1")
    logs = (
        f"START RequestId: {request_id} Version: {fn.version}\n"
        f"localcloud: fault switch crashed the runtime of {request_id} before its handler\n"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: 0.00 ms\tMemory Size: {fn.memory_size} MB\n"
    )
    return InvocationResult(payload, True, logs, request_id)


def _record(fn: Any, result: InvocationResult) -> None:
    try:
        fn.save_logs(result.logs)
    except Exception as exc:
        print(f"localcloud: could not store logs of {fn.function_name}: {exc}", file=sys.stderr)
    prefix = f"[lambda {fn.function_name}] "
    sys.stderr.write("".join(prefix + line + "\n" for line in result.logs.splitlines()))
    sys.stderr.flush()


def invoke_and_record(fn: Any, event_json: str) -> InvocationResult:
    """One invocation with its logs stored; raises FunctionThrottled (nothing ran) past the concurrency."""
    fn.logs_backend.ensure_log_group(fn.logs_group_name)
    result = run_invocation(fn, event_json)
    _record(fn, result)
    return result


def _event_invoke_setting(fn: Any, name: str, default: int) -> int:
    for invoke_config in getattr(fn, "event_invoke_config", []) or []:
        value = invoke_config.config.get(name)
        if value is not None:
            return int(value)
    return default


def _send_to_dead_letter_queue(fn: Any, event_json: str, request_id: str, error_message: str) -> None:
    """What Lambda does with an async event whose retries are exhausted: DeadLetterConfig."""
    target = (getattr(fn, "dead_letter_config", None) or {}).get("TargetArn", "")
    if target.split(":")[2:3] != ["sqs"]:
        return  # SNS targets are not emulated
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, queue_name = target.split(":", 5)
    attributes = {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": str(error_message)[:1000] or "Unhandled"},
    }
    sqs_backends[account][region].send_message(queue_name, event_json, message_attributes=attributes)


@dataclass
class _AsyncEvent:
    fn: Any
    event_json: str
    received: float = field(default_factory=time.monotonic)
    attempt: int = 0  # function errors so far
    throttles: int = 0


def _error_message(result: InvocationResult) -> str:
    try:
        return str(json.loads(result.payload).get("errorMessage", ""))
    except ValueError:
        return ""


def _retry_later(event: _AsyncEvent, delay: float) -> None:
    timer = threading.Timer(delay, lambda: _async_pool.submit(_invoke_async, event))
    timer.daemon = True
    timer.start()


def _invoke_async(event: _AsyncEvent) -> None:
    fn = event.fn
    maximum_age = _event_invoke_setting(fn, "MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE_SECONDS)
    try:
        result = invoke_and_record(fn, event.event_json)
    except FunctionThrottled as throttled:
        # Throttles do not count as attempts; the event waits in the queue, backing off.
        event.throttles += 1
        delay = min(ASYNC_THROTTLE_MAX_DELAY_SECONDS, ASYNC_THROTTLE_FIRST_DELAY_SECONDS * 2 ** (event.throttles - 1))
        if time.monotonic() + delay - event.received > maximum_age:
            _send_to_dead_letter_queue(fn, event.event_json, str(uuid.uuid4()), f"throttled: {throttled.reason}")
            return
        _retry_later(event, delay)
        return
    except Exception as exc:
        print(f"localcloud: async invoke of {fn.function_name} failed: {exc!r}", file=sys.stderr)
        return
    if not result.function_error:
        return
    event.attempt += 1
    if event.attempt <= _event_invoke_setting(fn, "MaximumRetryAttempts", 2):
        delay = float(os.environ.get("LOCALCLOUD_ASYNC_RETRY_DELAY_SECONDS", "1"))
        _retry_later(event, delay * event.attempt)
        return
    try:
        _send_to_dead_letter_queue(fn, event.event_json, result.request_id, _error_message(result))
    except Exception as exc:
        print(f"localcloud: dead-letter delivery for {fn.function_name} failed: {exc!r}", file=sys.stderr)


def submit_async(fn: Any, event_json: str) -> None:
    _async_pool.submit(_invoke_async, _AsyncEvent(fn, event_json))


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key in (name, name.lower()):
        value = headers.get(key)
        if value:
            return str(value)
    return None


def _too_many_requests(reason: str) -> Exception:
    """The error AWS Invoke returns when throttled: 429 with Reason and Type."""
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError("TooManyRequestsException", "Rate Exceeded.")
    error.code = 429
    error.description = json.dumps(
        {"__type": "TooManyRequestsException", "message": "Rate Exceeded.", "Reason": reason, "Type": "User"}
    )
    return error


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
    try:
        result = invoke_and_record(self, event_json)
    except FunctionThrottled as throttled:
        raise _too_many_requests(throttled.reason) from None
    if result.function_error:
        response_headers["x-amz-function-error"] = "Unhandled"
    # The version that ran: an alias or version invoke resolves to a published version's copy.
    response_headers["x-amz-executed-version"] = str(self.version)
    tail = result.logs.encode("utf-8")[-LOG_RESULT_TAIL_BYTES:]
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
    return result.payload


def apply() -> None:
    from moto.awslambda.models import LambdaFunction

    LambdaFunction.invoke = _patched_invoke  # type: ignore[method-assign]
    threading.Thread(target=_reap_forever, daemon=True, name="lambda-reaper").start()


def kill_running_invocations() -> None:
    _reaper_stop.set()
    POOL.kill_all()
