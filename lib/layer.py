"""Build what the functions deploy: the shared layer and the one code asset they all ship.

* The layer, ``<out>/python/``: the pinned third-party packages only (``lambda/requirements.txt``).
  The pip step, and compiling what it installed, is skipped while a stamp holding the sha256 of
  that file (and the pip and compile settings) still matches.
* The function code, ``<out>/payment_core/``: the package's sources with their bytecode,
  re-copied and recompiled when one of its files changed (``copy_compiled``). Every function
  ships this same tree; its handler string picks its module.

Bytecode is compiled by the runtime's own Python (``lib.python_runtime``): without it most of
a cold start is compiling sources, which Lambda redoes in every new environment because /opt
and /var/task are read-only. Called by the stack at synth time (``shared_layer_dir()``,
``function_code_dir()``) and by hand with ``python -m lib.layer [OUT_DIR]``. Both outputs are
deterministic (hash-based pycs, source paths rewritten to where Lambda mounts them, fixed file
times) because the stack hashes them into TerraformAssets.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from lib.lambda_sources import PACKAGE_NAME, PROJECT_ROOT
from lib.python_runtime import INVALIDATION_MODE, LAMBDA_PLATFORM, LAMBDA_RUNTIME, compile_for_runtime, python_version

# Where Lambda mounts a layer's python/ and the function code: the source paths in their bytecode.
LAYER_MOUNT = "/opt/python"
FUNCTION_MOUNT = "/var/task"
PIP_TARGET_ARGS = (
    "--platform",
    LAMBDA_PLATFORM,
    "--python-version",
    "{}.{}".format(*python_version(LAMBDA_RUNTIME)),
    "--implementation",
    "cp",
    "--only-binary=:all:",
    "--no-compile",
    "--no-deps",  # requirements.txt pins the full closure minus what the runtime has
)
FIXED_MTIME = 315532800  # 1980-01-01, the earliest time a zip entry can hold
_STAMP_NAME = ".requirements.sha256"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


def _requirements_digest(requirements: Path) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update("\0".join((*PIP_TARGET_ARGS, LAMBDA_RUNTIME, INVALIDATION_MODE)).encode())
    return digest.hexdigest()


def pip_install(requirements: Path, target: Path) -> None:
    """Installs the pinned closure for the Lambda runtime's platform into ``target``."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(target),
            *PIP_TARGET_ARGS,
            "-r",
            str(requirements),
        ],
        check=True,
    )


def _drop_bytecode(tree: Path) -> None:
    """Drop any bytecode not compiled by ``compile_for_runtime`` (pip's, a developer's)."""
    for bytecode_dir in sorted(tree.rglob("__pycache__"), reverse=True):
        shutil.rmtree(bytecode_dir)
    for compiled in tree.rglob("*.py[co]"):
        compiled.unlink()


def _pin_times(tree: Path) -> None:
    for path in sorted(tree.rglob("*"), reverse=True):
        os.utime(path, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)
    os.utime(tree, (FIXED_MTIME, FIXED_MTIME))


def _source_digest(source: Path, prefix: str) -> str:
    digest = hashlib.sha256("\0".join((LAMBDA_RUNTIME, INVALIDATION_MODE, prefix)).encode())
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """One builder at a time for an output dir: pytest-xdist workers and the e2e suite synthesize at
    once (scripts/test.sh), and two copies into one tree leave it half-written (copytree fails)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def copy_compiled(source: Path, target: Path, prefix: str, stamp: Path) -> None:
    """``target`` = ``source`` (bytecode left out) + bytecode for the runtime with paths under ``prefix``.

    Redone only when a source file changed (``stamp`` holds the digest; keep it outside any
    hashed asset): starting the runtime's Python costs ~1 s, which every synth would pay.
    """
    digest = _source_digest(source, prefix)
    if target.is_dir() and stamp.is_file() and stamp.read_text().strip() == digest:
        return
    stamp.unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=_IGNORED)
    compile_for_runtime(target, LAMBDA_RUNTIME, prefix)
    stamp.write_text(digest + "\n")


def build_layer(
    root: Path, out_dir: Path | None = None, *, install: Callable[[Path, Path], None] = pip_install
) -> Path:
    """Build (or refresh) the layer for project ``root``; returns the dir holding ``python/``.

    ``install(requirements, target)`` is the pip step (tests replace it to avoid pip).
    """
    root = Path(root).resolve()
    layer_dir = Path(out_dir).resolve() if out_dir is not None else root / "build" / "layer"
    python_dir = layer_dir / "python"
    requirements = root / "lambda" / "requirements.txt"
    # The stamp sits beside the layer, not in it, so it never enters the asset hash.
    stamp = layer_dir.parent / f"{layer_dir.name}{_STAMP_NAME}"
    digest = _requirements_digest(requirements)

    with _exclusive(layer_dir.parent / f"{layer_dir.name}.lock"):
        if not python_dir.is_dir() or not stamp.is_file() or stamp.read_text().strip() != digest:
            shutil.rmtree(python_dir, ignore_errors=True)
            stamp.unlink(missing_ok=True)
            python_dir.mkdir(parents=True)
            install(requirements, python_dir)
            shutil.rmtree(python_dir / "bin", ignore_errors=True)  # console scripts: nothing runs them
            _drop_bytecode(python_dir)
            compile_for_runtime(python_dir, LAMBDA_RUNTIME, LAYER_MOUNT)
            _pin_times(python_dir)
            stamp.write_text(digest + "\n")
    return layer_dir


def build_function_code(root: Path, out_dir: Path | None = None) -> Path:
    """The one code asset of every function: ``<out>/payment_core/``, the package's sources and their bytecode."""
    root = Path(root).resolve()
    code_dir = Path(out_dir).resolve() if out_dir is not None else root / "build" / "function"
    code_dir.mkdir(parents=True, exist_ok=True)
    stamp = code_dir.parent / f"{code_dir.name}.sha256"  # beside the asset, not in it
    package_mount = f"{FUNCTION_MOUNT}/{PACKAGE_NAME}"
    with _exclusive(code_dir.parent / f"{code_dir.name}.lock"):
        copy_compiled(root / "lambda" / PACKAGE_NAME, code_dir / PACKAGE_NAME, package_mount, stamp)
        _pin_times(code_dir)
    return code_dir


@cache
def shared_layer_dir() -> Path:
    """The project's layer, built (or reused) once per process under build/layer."""
    return build_layer(PROJECT_ROOT)


@cache
def function_code_dir() -> Path:
    """The project's function code, refreshed once per process under build/function."""
    return build_function_code(PROJECT_ROOT)


def main(argv: list[str]) -> int:
    """``python -m lib.layer [OUT_DIR]``: build the layer (default build/layer); print its directory."""
    out_dir = Path(argv[1]) if len(argv) > 1 else None
    print(build_layer(PROJECT_ROOT, out_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
