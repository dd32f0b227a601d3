"""Build the shared Lambda layer: ``<out>/python/`` = pinned packages + ``payment_core``.

Called by the stack at synth time (``shared_layer_dir()``) and by hand through the thin
CLI ``python scripts/build_layer.py [OUT_DIR]``. The pip step (and compiling what it
installed) is skipped while a stamp holding the sha256 of ``lambda/requirements.txt`` (and
the pip and compile settings) still matches; ``payment_core`` is re-copied and recompiled
when one of its files changed (``copy_compiled``). Bytecode is compiled by the runtime's own
Python (``lib.python_runtime``): without it most of a cold start is compiling sources, which
Lambda redoes in every new environment because /opt and /var/task are read-only. The output
is deterministic (hash-based pycs, source paths rewritten to /opt/python, fixed file times)
because the stack hashes it into a TerraformAsset.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

from lib.lambda_sources import PROJECT_ROOT
from lib.python_runtime import INVALIDATION_MODE, LAMBDA_PLATFORM, LAMBDA_RUNTIME, compile_for_runtime, python_version

LAYER_MOUNT = "/opt/python"  # where Lambda mounts a layer's python/: the source paths in its bytecode
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

    if not python_dir.is_dir() or not stamp.is_file() or stamp.read_text().strip() != digest:
        shutil.rmtree(python_dir, ignore_errors=True)
        stamp.unlink(missing_ok=True)
        python_dir.mkdir(parents=True)
        install(requirements, python_dir)
        shutil.rmtree(python_dir / "bin", ignore_errors=True)  # console scripts: nothing runs them
        _drop_bytecode(python_dir)
        compile_for_runtime(python_dir, LAMBDA_RUNTIME, LAYER_MOUNT)
        stamp.write_text(digest + "\n")

    core_stamp = layer_dir.parent / f"{layer_dir.name}.payment_core.sha256"
    copy_compiled(
        root / "lambda" / "shared" / "payment_core",
        python_dir / "payment_core",
        f"{LAYER_MOUNT}/payment_core",
        core_stamp,
    )
    _pin_times(python_dir)
    return layer_dir


@cache
def shared_layer_dir() -> Path:
    """The project's layer, built (or reused) once per process under build/layer."""
    return build_layer(PROJECT_ROOT)
