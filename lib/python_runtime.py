"""The Python a Lambda runtime runs: its interpreter on this machine, its bytecode, its SDK.

The stack declares ``python3.12``; the layer build compiles bytecode with that interpreter and
the local cloud (``localcloud``) runs every function on it, so a cp312 wheel or a 3.12-only
behaviour is exercised before AWS sees it. Both find the interpreter here (``lib/`` never
imports ``localcloud``; the emulator may import ``lib``).

Search order for ``pythonX.Y``: every ``pythonX.Y`` on ``PATH``, then pyenv's
``$PYENV_ROOT/versions/X.Y.*`` (newest first). A candidate counts only if running it reports
version X.Y (a pyenv shim for a version that is not selected fails that probe). Nothing found
raises ``InterpreterNotFound`` naming the runtime and every place looked: there is no fallback
to another version, because code that passed on 3.11 may not import on Lambda's 3.12.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# The runtime every function of the stack declares (and the layer is built for).
LAMBDA_RUNTIME = "python3.12"
# The SDK each Lambda Python runtime bundles in /var/lang/lib/pythonX.Y/site-packages (after
# /opt/python on sys.path). AWS updates it under running functions; these are the versions the
# python3.12 runtime reported in August 2025 (localcloud/README.md, "Lambda's Python").
RUNTIME_SDK: dict[str, tuple[str, ...]] = {
    "python3.12": ("boto3==1.38.36", "botocore==1.38.36"),
}
# Lambda's x86_64 functions run on manylinux2014-compatible Amazon Linux 2023.
LAMBDA_PLATFORM = "manylinux2014_x86_64"
# A timestamp .pyc is used only if its source's mtime on Lambda equals the one recorded at
# build time; a zip keeps DOS times (2 s resolution, no time zone), so any drift would mean a
# recompile in memory at every cold start (/opt and /var/task are read-only). An unchecked
# hash .pyc (PEP 552) does not look at the source at all, and its bytes hold no time.
INVALIDATION_MODE = "unchecked-hash"
_PROBE = "import sys; print(sys.executable); print('%d.%d' % sys.version_info[:2])"
_PROBE_TIMEOUT_SECONDS = 20
_SDK_STAMP = ".sdk-complete"


class InterpreterNotFound(LookupError):
    """No interpreter of a runtime's Python version on this machine."""


def python_version(runtime: str) -> tuple[int, int]:
    """``python3.12`` -> ``(3, 12)``; ValueError for anything that is not a Lambda Python runtime."""
    match = re.fullmatch(r"python(\d+)\.(\d+)", runtime)
    if match is None:
        raise ValueError(f"runtime: {runtime!r} is not a Lambda Python runtime (pythonX.Y)")
    return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True)
class InterpreterSearch:
    """Where to look: a PATH-style directory list, then a pyenv root's ``versions/``."""

    path: str
    pyenv_root: Path

    @classmethod
    def from_environment(cls) -> InterpreterSearch:
        pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
        return cls(os.environ.get("PATH", os.defpath), Path(pyenv_root))

    def candidates(self, version: tuple[int, int]) -> list[Path]:
        name = f"python{version[0]}.{version[1]}"
        on_path = [Path(directory) / name for directory in self.path.split(os.pathsep) if directory]
        installed = sorted(
            (self.pyenv_root / "versions").glob(f"{version[0]}.{version[1]}.*"),
            key=lambda directory: _release_key(directory.name),
            reverse=True,
        )
        return [p for p in on_path + [d / "bin" / name for d in installed] if os.access(p, os.X_OK) and p.is_file()]

    def describe(self, version: tuple[int, int]) -> str:
        name = f"python{version[0]}.{version[1]}"
        return f"{name} on PATH ({self.path}), then {self.pyenv_root}/versions/{version[0]}.{version[1]}.*/bin/{name}"


def _release_key(name: str) -> tuple[int, ...]:
    """``3.12.10`` sorts after ``3.12.9``; a non-numeric part (``3.12.0rc1``) sorts first."""
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return ()


def _probe(candidate: Path, version: tuple[int, int]) -> Path | None:
    """The real executable behind ``candidate`` (shims resolved) if it runs Python ``version``."""
    try:
        completed = subprocess.run(
            [str(candidate), "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = completed.stdout.split()
    if completed.returncode != 0 or len(lines) != 2 or lines[1] != f"{version[0]}.{version[1]}":
        return None
    return Path(lines[0])


@cache
def _find(runtime: str, search: InterpreterSearch) -> Path:
    version = python_version(runtime)
    for candidate in search.candidates(version):
        found = _probe(candidate, version)
        if found is not None:
            return found
    raise InterpreterNotFound(
        f"runtime {runtime}: no Python {version[0]}.{version[1]} interpreter found; looked for "
        f"{search.describe(version)}. Install it (e.g. `pyenv install {version[0]}.{version[1]}`)."
    )


def find_interpreter(runtime: str, search: InterpreterSearch | None = None) -> Path:
    """The interpreter for Lambda ``runtime`` (``python3.12``); InterpreterNotFound if none.

    ``search`` defaults to this process's PATH and PYENV_ROOT (tests inject their own).
    """
    return _find(runtime, search if search is not None else InterpreterSearch.from_environment())


def compile_for_runtime(tree: Path, runtime: str, prefix: str, search: InterpreterSearch | None = None) -> None:
    """Write ``__pycache__/*.cpython-XY.pyc`` for every module under ``tree`` with the runtime's Python.

    Deterministic, because the result is hashed into a TerraformAsset: hash-based pycs (no
    timestamps), one worker in a fixed (sorted) order, a fixed hash seed (frozenset constants
    are marshalled in iteration order), and source paths rewritten from ``tree`` to ``prefix``
    (``/opt/python`` for the layer, ``/var/task`` for function code), where Lambda mounts them.
    """
    interpreter = find_interpreter(runtime, search)
    completed = subprocess.run(
        # Not -I/-E: they would drop PYTHONHASHSEED. The environment is given whole instead.
        [
            *(str(interpreter), "-s", "-S", "-m", "compileall", "-q", "-f", "-j", "1"),
            *("--invalidation-mode", INVALIDATION_MODE, "-s", str(tree), "-p", prefix, str(tree)),
        ],
        env={"PYTHONHASHSEED": "0", "PATH": os.defpath, "LC_ALL": "C.UTF-8"},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"compiling {tree} for {runtime} failed:\n{completed.stdout}{completed.stderr}")


@contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """One builder at a time across processes (parallel test workers share build/)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def runtime_sdk_dir(
    runtime: str,
    cache_root: Path,
    search: InterpreterSearch | None = None,
    *,
    pins: tuple[str, ...] | None = None,
    mount: str | None = None,
) -> Path:
    """A directory holding exactly the SDK the Lambda ``runtime`` bundles, with its bytecode.

    Built once with pip for the runtime's platform (never from the dev venv, whose boto3 is
    newer than Lambda's) under ``cache_root/<runtime>-<pins>-<digest>``, so changing the pins
    builds a new one. ``pins`` and ``mount`` (the source path in its bytecode) default to the
    runtime's own SDK in /var/lang/lib/pythonX.Y/site-packages; the cold-start benchmark passes
    other pins mounted at /opt/python to measure an SDK shipped in the layer.
    """
    version = python_version(runtime)
    pins = pins if pins is not None else RUNTIME_SDK.get(runtime)
    if pins is None:
        raise ValueError(f"runtime: no bundled SDK recorded for {runtime!r} (RUNTIME_SDK)")
    mount = mount or f"/var/lang/lib/python{version[0]}.{version[1]}/site-packages"
    settings = hashlib.sha256("\0".join((*pins, mount, INVALIDATION_MODE)).encode()).hexdigest()[:8]
    target = cache_root / f"{runtime}-{'-'.join(pin.replace('==', '-') for pin in pins)}-{settings}"
    if (target / _SDK_STAMP).is_file():
        return target
    with _exclusive(cache_root / f".{runtime}.lock"):
        if (target / _SDK_STAMP).is_file():
            return target
        staging = Path(tempfile.mkdtemp(dir=cache_root, prefix=f".{runtime}-"))
        try:
            installed = subprocess.run(
                [
                    *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
                    *("--target", str(staging), "--platform", LAMBDA_PLATFORM, "--implementation", "cp"),
                    *("--python-version", f"{version[0]}.{version[1]}", "--only-binary=:all:", "--no-compile"),
                    *pins,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if installed.returncode != 0:
                raise RuntimeError(f"installing the {runtime} SDK ({' '.join(pins)}) failed:\n{installed.stderr}")
            shutil.rmtree(staging / "bin", ignore_errors=True)
            # As in the runtime, the SDK's bytecode is there: its import cost is the baseline.
            compile_for_runtime(staging, runtime, mount, search)
            (staging / _SDK_STAMP).touch()
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return target
