"""Functions run on their declared runtime's Python (python3.12 -> 3.12), with that runtime's SDK;
a machine without that Python fails the invocation, naming the runtime and where it looked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lib.layer import shared_layer_dir
from lib.python_runtime import RUNTIME_SDK
from localcloud import LocalCloud
from tests.localcloud.conftest import LAMBDA_TRUST, clients, create_python_function, make_zip

CP312_HANDLER = """
import sys, boto3, botocore, wrapt
from wrapt import _wrappers

@wrapt.decorator
def doubled(wrapped, instance, args, kwargs):
    return 2 * wrapped(*args, **kwargs)

@doubled
def answer():
    return 21

def handler(event, context):
    return {
        "python": list(sys.version_info[:2]),
        "extension": _wrappers.__file__,
        "answer": answer(),
        "sdk": ["boto3==" + boto3.__version__, "botocore==" + botocore.__version__],
        "boto3_file": boto3.__file__,
    }
"""


def _wrapt_layer() -> bytes:
    """wrapt exactly as the stack's layer ships it: the cp312 wheel, C extension and 3.12 bytecode included."""
    python = shared_layer_dir() / "python"
    files = {
        str(path.relative_to(python.parent)): path.read_bytes()
        for path in sorted((python / "wrapt").rglob("*"))
        if path.is_file()
    }
    assert any(name.endswith(".cpython-312-x86_64-linux-gnu.so") for name in files), sorted(files)
    return make_zip(files)


def test_a_python312_function_loads_a_cp312_extension_from_its_layer_with_the_runtime_sdk(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    layer = aws("lambda").publish_layer_version(
        LayerName="wrapt-cp312", Content={"ZipFile": _wrapt_layer()}, CompatibleRuntimes=["python3.12"]
    )
    arn = create_function({"handler.py": CP312_HANDLER}, layers=[layer["LayerVersionArn"]])

    response = aws("lambda").invoke(FunctionName=arn, Payload=b"{}")
    result = json.loads(response["Payload"].read())

    assert response.get("FunctionError") is None, result
    assert result["python"] == [3, 12]
    assert result["extension"].endswith("/opt/python/wrapt/_wrappers.cpython-312-x86_64-linux-gnu.so")
    assert result["answer"] == 42
    # The runtime's SDK, not the newer one of the venv running the emulator.
    assert result["sdk"] == list(RUNTIME_SDK["python3.12"])
    assert "/build/lambda-runtime/python3.12-" in result["boto3_file"]


def test_without_a_python312_on_the_machine_the_invocation_fails_naming_the_runtime(
    tmp_path: Path,
) -> None:
    empty_path, empty_pyenv = tmp_path / "bin", tmp_path / "pyenv"
    empty_path.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        # What the emulator searches: PATH, then PYENV_ROOT/versions (its environment at start).
        patch.setenv("PATH", str(empty_path))
        patch.setenv("PYENV_ROOT", str(empty_pyenv))
        with LocalCloud(tmp_path / "state") as cloud:
            aws = clients(cloud.endpoint)
            role = aws("iam").create_role(RoleName="no-python", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
            arn = create_python_function(
                aws("lambda"),
                "no-python",
                role["Role"]["Arn"],
                make_zip({"handler.py": "def handler(event, context):\n    return 1\n"}),
            )
            response = aws("lambda").invoke(FunctionName=arn, Payload=b"{}")
            payload = json.loads(response["Payload"].read())

    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.Unknown"
    message = payload["errorMessage"]
    assert "runtime python3.12: no Python 3.12 interpreter found" in message
    assert f"python3.12 on PATH ({empty_path})" in message
    assert f"{empty_pyenv}/versions/3.12.*/bin/python3.12" in message
