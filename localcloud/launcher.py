"""Start and stop the emulator process; the Python API behind ``python -m localcloud``.

State directory layout (default ``.localcloud``):

* ``pid``        - PID of the server (also its process-group id: it runs in its own session,
                   so ``stop`` ends the Lambda subprocesses it spawned together with it)
* ``endpoint``   - ``http://127.0.0.1:<port>``, written by the server once it is listening
* ``server.log`` - server output, including every Lambda invocation's logs
* ``lambda-cache/``  - unpacked function code and layers

The SDK each Lambda runtime bundles is built once per checkout under ``build/lambda-runtime``
(``lambda_runtimes.prepare_runtime_sdks``), before the server starts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

from localcloud.account import LAMBDA_CONCURRENCY_LIMIT_VARIABLE
from localcloud.lambda_runtimes import prepare_runtime_sdks

PID_FILE = "pid"
ENDPOINT_FILE = "endpoint"
LOG_FILE = "server.log"
SERVER_MODULE = "localcloud.server"
PACKAGE_PARENT = Path(__file__).resolve().parent.parent


class LocalCloudError(RuntimeError):
    pass


def _is_our_server(pid: int) -> bool:
    """True if ``pid`` is alive and is a localcloud server (guards against PID reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return SERVER_MODULE.encode() in cmdline


def _read_pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def read_endpoint(state_dir: str | Path = ".localcloud") -> str:
    """Endpoint of the running emulator of ``state_dir``; raises if none is running."""
    state = Path(state_dir)
    pid = _read_pid(state)
    if pid is None or not _is_our_server(pid):
        raise LocalCloudError(f"no localcloud server running for {state}")
    return (state / ENDPOINT_FILE).read_text().strip()


def is_healthy(endpoint: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/config", timeout=timeout) as response:
            return bool(response.status in (200, 201))
    except (urllib.error.URLError, OSError):
        return False


class LocalCloud:
    """A moto server with the localcloud patches, in its own process.

    >>> with LocalCloud(tmp_path) as cloud:
    ...     boto3.client("sqs", endpoint_url=cloud.endpoint, region_name="us-east-1")
    """

    def __init__(
        self,
        state_dir: str | Path = ".localcloud",
        startup_timeout: float = 60.0,
        *,
        lambda_concurrency_limit: int | None = None,
    ):
        """``lambda_concurrency_limit``: the account's Lambda quota (``localcloud.account``); None keeps
        ``LOCALCLOUD_LAMBDA_CONCURRENCY_LIMIT`` from the environment, or the AWS default."""
        self.state_dir = Path(state_dir).resolve()
        self.startup_timeout = startup_timeout
        self.lambda_concurrency_limit = lambda_concurrency_limit
        self._process: subprocess.Popen[bytes] | None = None
        self._endpoint: str | None = None
        self._pid: int | None = None

    @property
    def endpoint(self) -> str:
        if self._endpoint is None:
            raise LocalCloudError("LocalCloud is not started")
        return self._endpoint

    @property
    def pid(self) -> int:
        if self._pid is None:
            raise LocalCloudError("LocalCloud is not started")
        return self._pid

    def start(self) -> str:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        existing = _read_pid(self.state_dir)
        if existing is not None and _is_our_server(existing):
            raise LocalCloudError(f"a localcloud server (pid {existing}) already uses {self.state_dir}")
        for stale in (PID_FILE, ENDPOINT_FILE):
            (self.state_dir / stale).unlink(missing_ok=True)
        # Here rather than inside a first Invoke, whose client would time out on a fresh checkout.
        for problem in prepare_runtime_sdks():
            print(f"localcloud: {problem}", file=sys.stderr)

        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PACKAGE_PARENT), environment.get("PYTHONPATH", "")) if p
        )
        if self.lambda_concurrency_limit is not None:
            environment[LAMBDA_CONCURRENCY_LIMIT_VARIABLE] = str(self.lambda_concurrency_limit)
        with open(self.state_dir / LOG_FILE, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", SERVER_MODULE, "--state-dir", str(self.state_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
            )
        self._pid = self._process.pid
        (self.state_dir / PID_FILE).write_text(f"{self._pid}\n")
        try:
            self._endpoint = self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self._endpoint

    def _wait_until_healthy(self) -> str:
        deadline = time.monotonic() + self.startup_timeout
        endpoint_file = self.state_dir / ENDPOINT_FILE
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise LocalCloudError(
                    f"localcloud server exited with {self._process.returncode}; see {self.state_dir / LOG_FILE}"
                )
            if endpoint_file.exists():
                endpoint = endpoint_file.read_text().strip()
                if endpoint and is_healthy(endpoint):
                    return endpoint
            time.sleep(0.1)
        raise LocalCloudError(f"localcloud server not healthy after {self.startup_timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        pid = self._pid if self._pid is not None else _read_pid(self.state_dir)
        if pid is not None:
            stop_process_group(pid, timeout, self._process)
        for name in (PID_FILE, ENDPOINT_FILE):
            (self.state_dir / name).unlink(missing_ok=True)
        self._process = None
        self._pid = None
        self._endpoint = None

    def reset(self) -> None:
        """Drop every resource (moto's /moto-api/reset); the server keeps running."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _alive(pid: int, process: subprocess.Popen[bytes] | None) -> bool:
    if process is not None:
        return process.poll() is None
    return _is_our_server(pid)


def stop_process_group(pid: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> bool:
    """SIGTERM the server's process group, SIGKILL it after ``timeout``; True if it was running."""
    if process is None and not _is_our_server(pid):
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _alive(pid, process):
            time.sleep(0.05)
        if not _alive(pid, process):
            break
    # Leftovers of the group (a Lambda subprocess that ignored SIGTERM).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    return True


def start_daemon(
    state_dir: str | Path = ".localcloud", startup_timeout: float = 60.0, *, lambda_concurrency_limit: int | None = None
) -> str:
    """Start a server that outlives the caller; return its endpoint."""
    return LocalCloud(state_dir, startup_timeout, lambda_concurrency_limit=lambda_concurrency_limit).start()


def stop_daemon(state_dir: str | Path = ".localcloud", timeout: float = 10.0) -> bool:
    """Stop the server recorded in ``state_dir``; False if none was running."""
    state = Path(state_dir).resolve()
    pid = _read_pid(state)
    running = pid is not None and stop_process_group(pid, timeout)
    for name in (PID_FILE, ENDPOINT_FILE):
        (state / name).unlink(missing_ok=True)
    return running
