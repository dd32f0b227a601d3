"""Runs ONE Lambda invocation; executed as a script in a fresh, isolated interpreter.

Invoked by localcloud.patches.lambda_runtime as
``python -I -S lambda_bootstrap.py <handler> <result-file>`` with the event on stdin and
the function's environment. Only the standard library may be imported here: the import
path is exactly what AWS gives a python runtime (LAMBDA_TASK_ROOT, /opt/python,
/opt/python/lib/pythonX.Y/site-packages, then the runtime's own boto3), passed in
LOCALCLOUD_SYS_PATH.

The result file receives either ``{"payload": <handler result>}`` or the error document
AWS returns with FunctionError=Unhandled: ``{"errorMessage", "errorType", "requestId",
"stackTrace"}``; errorType is the exception class name, which is what Step Functions
Retry/Catch match on.
"""

import importlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable

TIMEOUT_EXIT_CODE = 124


class LambdaContext:
    """The attributes of the AWS python runtime's context object that handlers use."""

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = os.environ["LOCALCLOUD_INVOKED_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = os.environ["LOCALCLOUD_REQUEST_ID"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(error_type: str, message: str, trace: list[str]) -> dict[str, object]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": os.environ["LOCALCLOUD_REQUEST_ID"],
        "stackTrace": trace,
    }


def _write(result_path: str, document: dict[str, object]) -> None:
    with open(result_path, "w", encoding="utf-8") as result_file:
        json.dump(document, result_file)


def _load_handler(handler_spec: str) -> Callable[[object, LambdaContext], object]:
    module_path, _, function_name = handler_spec.rpartition(".")
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # AWS reports every import failure the same way
        raise _RuntimeError("Runtime.ImportModuleError", f"Unable to import module '{module_path}': {exc}") from exc
    handler: Callable[[object, LambdaContext], object] | None = getattr(module, function_name, None)
    if handler is None:
        raise _RuntimeError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_path}'",
        )
    return handler


class _RuntimeError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _arm_watchdog(timeout_seconds: float, result_path: str) -> threading.Timer:
    def expire() -> None:
        message = f"Task timed out after {timeout_seconds:.2f} seconds"
        _write(result_path, _error("Sandbox.Timedout", message, []))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(TIMEOUT_EXIT_CODE)

    timer = threading.Timer(timeout_seconds, expire)
    timer.daemon = True
    timer.start()
    return timer


def main() -> None:
    handler_spec, result_path = sys.argv[1], sys.argv[2]
    sys.path[:0] = [p for p in os.environ.pop("LOCALCLOUD_SYS_PATH").split(os.pathsep) if p]
    timeout_seconds = float(os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"])
    event = json.loads(sys.stdin.read() or "null")

    try:
        handler = _load_handler(handler_spec)
    except _RuntimeError as exc:
        _write(result_path, _error(exc.error_type, str(exc), []))
        return

    # Init (imports) has its own budget on AWS; the function timeout covers the handler call.
    watchdog = _arm_watchdog(timeout_seconds, result_path)
    context = LambdaContext(time.monotonic() + timeout_seconds)
    try:
        result = handler(event, context)
    except Exception as exc:
        watchdog.cancel()
        # Drop this bootstrap's own frame, as the AWS runtime does.
        frames = traceback.extract_tb(exc.__traceback__.tb_next if exc.__traceback__ else None)
        trace = traceback.format_list(frames)
        _write(result_path, _error(type(exc).__name__, str(exc), trace))
        print(f"[ERROR] {type(exc).__name__}: {exc}\nTraceback (most recent call last):")
        print("".join(trace), end="", flush=True)
        return
    watchdog.cancel()
    try:
        encoded = json.dumps({"payload": result})
    except (TypeError, ValueError) as exc:
        message = f"Unable to marshal response: {exc}"
        _write(result_path, _error("Runtime.MarshalError", message, []))
        return
    with open(result_path, "w", encoding="utf-8") as result_file:
        result_file.write(encoded)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Like the AWS runtime, do not wait for non-daemon threads the handler left behind.
    os._exit(0)
