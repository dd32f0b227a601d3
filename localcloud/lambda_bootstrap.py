"""One warm execution environment: init once, then run invocations one at a time.

Started by localcloud.patches.lambda_runtime as ``python -I -S lambda_bootstrap.py <handler>``
with the function's environment. Only the standard library may be imported here: the import
path is exactly what AWS gives a python runtime (LAMBDA_TASK_ROOT, /opt/python,
/opt/python/lib/pythonX.Y/site-packages, then the runtime's own boto3), passed in
LOCALCLOUD_SYS_PATH.

Protocol (the AWS Runtime API's next/response loop, over pipes):

* stdin: one JSON line per invocation ``{"request_id", "trace_id", "event": "<event json>"}``;
* stdout (stderr is the same pipe): the handler's output, then after each invocation
  ``RESULT_SENTINEL`` + one JSON line: ``{"payload": <handler result>}`` or the error document
  AWS returns with FunctionError=Unhandled: ``{"errorMessage", "errorType", "requestId",
  "stackTrace"}``. errorType is the exception class name, which Step Functions Retry/Catch
  match on.

Before the handler is imported, the process gets the emulator's network (``localcloud.network``):
``socket.getaddrinfo``/``gethostbyname`` answer the names of the table named by
``LOCALCLOUD_NETWORK`` with its addresses, and a connection to a routed address on 443 reaches
its local receiver; every other name and address is the machine's own, loopback included.

As on AWS, module state survives between invocations of one environment. The handler module
is imported on the first invocation (the init phase); an import failure ends the environment
(``Runtime.ImportModuleError``), as does a timeout (``Sandbox.Timedout``: AWS resets the
environment after a timeout). An exception raised by the handler does not.
"""

import errno
import importlib
import json
import os
import socket
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any

TIMEOUT_EXIT_CODE = 124
RESULT_SENTINEL = "\x1e\x1eLOCALCLOUD-RESULT "
_write_lock = threading.Lock()


class LambdaContext:
    """The attributes of the AWS python runtime's context object that handlers use."""

    def __init__(self, deadline: float, request_id: str) -> None:
        self._deadline = deadline
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = os.environ["LOCALCLOUD_INVOKED_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request_id
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(request_id: str, error_type: str, message: str, trace: list[str]) -> dict[str, object]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": trace,
    }


def _emit(document: dict[str, object]) -> None:
    """Flush the invocation's output, then mark its end with the result (one line)."""
    with _write_lock:
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(1, (RESULT_SENTINEL + json.dumps(document) + "\n").encode())  # fd 1: the pipe to the parent


class _RuntimeError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


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


def _arm_watchdog(timeout_seconds: float, request_id: str) -> threading.Timer:
    def expire() -> None:
        message = f"Task timed out after {timeout_seconds:.2f} seconds"
        _emit(_error(request_id, "Sandbox.Timedout", message, []))
        os._exit(TIMEOUT_EXIT_CODE)

    timer = threading.Timer(timeout_seconds, expire)
    timer.daemon = True
    timer.start()
    return timer


def _invoke(
    handler: Callable[[object, LambdaContext], object], request: dict[str, str], timeout_seconds: float
) -> None:
    request_id = request["request_id"]
    event = json.loads(request["event"] or "null")
    watchdog = _arm_watchdog(timeout_seconds, request_id)
    context = LambdaContext(time.monotonic() + timeout_seconds, request_id)
    try:
        result = handler(event, context)
    except Exception as exc:
        watchdog.cancel()
        # Drop this bootstrap's own frame, as the AWS runtime does.
        frames = traceback.extract_tb(exc.__traceback__.tb_next if exc.__traceback__ else None)
        trace = traceback.format_list(frames)
        print(f"[ERROR] {type(exc).__name__}: {exc}\nTraceback (most recent call last):")
        print("".join(trace), end="")
        _emit(_error(request_id, type(exc).__name__, str(exc), trace))
        return
    watchdog.cancel()
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        _emit(_error(request_id, "Runtime.MarshalError", f"Unable to marshal response: {exc}", []))
        return
    _emit({"payload": result})


class _NetworkTable:
    """``{"names": {name: [address]}, "routes": {address: local port}}``, re-read when the file changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: int | None = None
        self.names: dict[str, list[str]] = {}
        self.routes: dict[str, int] = {}

    def refresh(self) -> "_NetworkTable":
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except OSError:
            return self
        if stamp != self._stamp:
            with open(self.path) as source:
                document = json.load(source)
            self.names, self.routes, self._stamp = document["names"], document["routes"], stamp
        return self


def _install_network(path: str) -> None:
    """Answer the table's names and route its addresses; everything else goes to the real calls."""
    table = _NetworkTable(path)
    real_getaddrinfo, real_gethostbyname = socket.getaddrinfo, socket.gethostbyname
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getpeername = socket.socket.getpeername
    peers: weakref.WeakKeyDictionary[socket.socket, tuple[str, int]] = weakref.WeakKeyDictionary()

    def answers(host: object) -> list[str] | None:
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        return table.refresh().names.get(host.lower().rstrip(".")) if isinstance(host, str) else None

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        addresses = answers(host)
        if addresses is None:
            return real_getaddrinfo(host, port, family, type, proto, flags)
        found: list[Any] = []
        for address in addresses:  # the resolver's own answer shape, one address at a time
            try:
                found += real_getaddrinfo(address, port, family, type, proto, flags | socket.AI_NUMERICHOST)
            except socket.gaierror:
                continue  # e.g. an IPv4 answer to an AF_INET6 query: none of that family
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return found

    def gethostbyname(host: str) -> str:
        addresses = [a for a in answers(host) or [] if ":" not in a]
        return addresses[0] if addresses else real_gethostbyname(host)

    def target(sock: socket.socket, address: Any) -> Any:
        if sock.family != socket.AF_INET or not isinstance(address, tuple) or len(address) != 2:
            return address
        port = table.refresh().routes.get(str(address[0]))
        if port is None:
            return address
        if address[1] != 443:  # the receiver listens on 443 only
            raise ConnectionRefusedError(errno.ECONNREFUSED, os.strerror(errno.ECONNREFUSED))
        peers[sock] = (str(address[0]), 443)
        return ("127.0.0.1", port)

    def connect(self: Any, address: Any) -> None:
        real_connect(self, target(self, address))

    def connect_ex(self: Any, address: Any) -> int:
        try:
            routed = target(self, address)
        except ConnectionRefusedError:
            return errno.ECONNREFUSED
        return int(real_connect_ex(self, routed))

    def getpeername(self: Any) -> Any:
        return peers.get(self) or real_getpeername(self)

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.getpeername = getpeername  # type: ignore[method-assign]


def main() -> None:
    handler_spec = sys.argv[1]
    network = os.environ.pop("LOCALCLOUD_NETWORK", "")
    if network:
        _install_network(network)
    sys.path[:0] = [p for p in os.environ.pop("LOCALCLOUD_SYS_PATH").split(os.pathsep) if p]
    timeout_seconds = float(os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"])
    handler: Callable[[object, LambdaContext], object] | None = None
    for line in sys.stdin:
        request = json.loads(line)
        # What the AWS runtime sets per invocation (X-Ray reads it from the environment).
        os.environ["_X_AMZN_TRACE_ID"] = request["trace_id"]
        if handler is None:
            # Init phase (imports) has its own budget on AWS; the function timeout covers the call.
            try:
                handler = _load_handler(handler_spec)
            except _RuntimeError as exc:
                _emit(_error(request["request_id"], exc.error_type, str(exc), []))
                return  # a failed init ends the environment; the next invoke starts a new one
        _invoke(handler, request, timeout_seconds)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Like the AWS runtime, do not wait for non-daemon threads the handler left behind.
    os._exit(0)
