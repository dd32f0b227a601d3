"""Build what the functions deploy: the shared layer and the one code asset they all ship.

* The layer, ``<out>/python/``: the pinned third-party packages only (``lambda/requirements.txt``).
  The pip step is skipped while a stamp holding the sha256 of that file (and the pip arguments)
  still matches.
* The function code, ``<out>/payment_core/``: the package's sources, re-copied every time.
  Every function ships this same tree; its handler string picks its module.

Called by the stack at synth time (``shared_layer_dir()``, ``function_code_dir()``) and by hand
with ``python -m lib.layer [OUT_DIR]``. Both outputs are deterministic (no bytecode, fixed
file times) because the stack hashes them into TerraformAssets.
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

from lib.lambda_sources import PACKAGE_NAME, PROJECT_ROOT

PIP_TARGET_ARGS = (
    "--platform",
    "manylinux2014_x86_64",
    "--python-version",
    "3.12",
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
    digest.update("\0".join(PIP_TARGET_ARGS).encode())
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


def _normalise(tree: Path) -> None:
    """Drop bytecode and console scripts, pin every file time."""
    for bytecode_dir in sorted(tree.rglob("__pycache__"), reverse=True):
        shutil.rmtree(bytecode_dir)
    for compiled in tree.rglob("*.py[co]"):
        compiled.unlink()
    shutil.rmtree(tree / "bin", ignore_errors=True)
    for path in sorted(tree.rglob("*"), reverse=True):
        os.utime(path, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)
    os.utime(tree, (FIXED_MTIME, FIXED_MTIME))


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
        stamp.write_text(digest + "\n")

    _normalise(python_dir)
    return layer_dir


def build_function_code(root: Path, out_dir: Path | None = None) -> Path:
    """The one code asset of every function: ``<out>/payment_core/``, the package's sources only."""
    root = Path(root).resolve()
    code_dir = Path(out_dir).resolve() if out_dir is not None else root / "build" / "function"
    shutil.rmtree(code_dir, ignore_errors=True)
    code_dir.mkdir(parents=True)
    shutil.copytree(root / "lambda" / PACKAGE_NAME, code_dir / PACKAGE_NAME, ignore=_IGNORED)
    _normalise(code_dir)
    return code_dir


@cache
def shared_layer_dir() -> Path:
    """The project's layer, built (or reused) once per process under build/layer."""
    return build_layer(PROJECT_ROOT)


@cache
def function_code_dir() -> Path:
    """The project's function code, rebuilt once per process under build/function."""
    return build_function_code(PROJECT_ROOT)


def main(argv: list[str]) -> int:
    """``python -m lib.layer [OUT_DIR]``: build the layer (default build/layer); print its directory."""
    out_dir = Path(argv[1]) if len(argv) > 1 else None
    print(build_layer(PROJECT_ROOT, out_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
