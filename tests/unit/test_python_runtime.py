"""The interpreter of a Lambda runtime: found by version, never replaced by another one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lib.python_runtime import (
    InterpreterNotFound,
    InterpreterSearch,
    find_interpreter,
    python_version,
)


def _version_of(interpreter: Path) -> str:
    completed = subprocess.run(
        [str(interpreter), "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


def _fake_interpreter(directory: Path, name: str, real: Path) -> Path:
    """An executable called ``name`` that runs ``real`` (what a shim or a misnamed link does)."""
    directory.mkdir(parents=True, exist_ok=True)
    fake = directory / name
    fake.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n')
    fake.chmod(0o755)
    return fake


@pytest.fixture(scope="module")
def python312() -> Path:
    return find_interpreter("python3.12")


def test_runtime_names_give_their_python_version() -> None:
    assert python_version("python3.12") == (3, 12)
    with pytest.raises(ValueError, match=r"runtime: 'nodejs20.x' is not a Lambda Python runtime \(pythonX.Y\)"):
        python_version("nodejs20.x")


def test_the_machine_has_the_runtime_python(python312: Path) -> None:
    assert _version_of(python312) == "3.12"


def test_path_comes_first_and_shims_resolve_to_the_real_executable(python312: Path, tmp_path: Path) -> None:
    on_path = _fake_interpreter(tmp_path / "bin", "python3.12", python312)
    search = InterpreterSearch(str(on_path.parent), tmp_path / "no-pyenv")

    assert find_interpreter("python3.12", search) == python312


def test_pyenv_versions_are_searched_newest_first(python312: Path, tmp_path: Path) -> None:
    pyenv = tmp_path / "pyenv"
    _fake_interpreter(pyenv / "versions/3.12.9/bin", "python3.12", Path("/bin/false"))
    _fake_interpreter(pyenv / "versions/3.12.10/bin", "python3.12", python312)
    search = InterpreterSearch(str(tmp_path / "empty"), pyenv)

    assert find_interpreter("python3.12", search) == python312


def test_a_wrong_version_under_the_right_name_is_refused_with_where_it_looked(tmp_path: Path) -> None:
    other = Path(sys.executable)  # the app's 3.11
    assert _version_of(other) != "3.12"
    misnamed = _fake_interpreter(tmp_path / "bin", "python3.12", other)
    pyenv = tmp_path / "pyenv"
    _fake_interpreter(pyenv / "versions/3.11.7/bin", "python3.11", other)
    search = InterpreterSearch(str(misnamed.parent), pyenv)

    with pytest.raises(InterpreterNotFound) as raised:
        find_interpreter("python3.12", search)

    message = str(raised.value)
    assert message.startswith("runtime python3.12: no Python 3.12 interpreter found; looked for python3.12 on PATH")
    assert f"({misnamed.parent})" in message
    assert f"{pyenv}/versions/3.12.*/bin/python3.12" in message
