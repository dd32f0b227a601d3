"""The Lambda Python runtimes this machine can run: their interpreter and their bundled SDK.

Used by the emulator's Lambda patch (an invocation) and by the launcher (before the server
starts, so that no first Invoke waits ~1 min for an SDK build). Imports only ``lib`` and the
standard library: the launcher runs in the caller's process, where moto is never loaded.
"""

from __future__ import annotations

from pathlib import Path

from lib.python_runtime import RUNTIME_SDK, InterpreterNotFound, find_interpreter, runtime_sdk_dir

# Shared by every emulator of this checkout (tests start many): the SDK build takes ~1 min once.
RUNTIME_SDK_CACHE = Path(__file__).resolve().parent.parent / "build" / "lambda-runtime"


class RuntimeUnavailable(Exception):
    """A runtime cannot start here: no interpreter for it, or its SDK failed to build."""


def runtime_interpreter(runtime: str) -> Path:
    """The interpreter of ``runtime``; RuntimeUnavailable naming it and where it looked if none."""
    try:
        return find_interpreter(runtime)
    except (InterpreterNotFound, ValueError) as exc:
        raise RuntimeUnavailable(str(exc)) from exc


def runtime_sdk(runtime: str) -> Path:
    """The directory holding exactly the SDK ``runtime`` bundles (built on first use)."""
    try:
        return runtime_sdk_dir(runtime, RUNTIME_SDK_CACHE)
    except (InterpreterNotFound, ValueError, RuntimeError) as exc:
        raise RuntimeUnavailable(f"runtime {runtime}: its bundled SDK is unavailable: {exc}") from exc


def prepare_runtime_sdks() -> list[str]:
    """Build every known runtime's SDK directory; returns why a runtime is unavailable (its
    invocations report it again, as a runtime error)."""
    problems = []
    for runtime in RUNTIME_SDK:
        try:
            runtime_sdk(runtime)
        except RuntimeUnavailable as exc:
            problems.append(str(exc))
    return problems
