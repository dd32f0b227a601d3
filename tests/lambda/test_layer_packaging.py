"""The layer built by scripts/build_layer.py is enough, with the runtime's own packages,
to import every handler in a clean interpreter of the runtime's Python (3.12), and ships
bytecode for it that is deterministic and valid inside the zip."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lib.python_runtime import LAMBDA_RUNTIME, find_interpreter
from localcloud.lambda_runtimes import runtime_sdk
from testkit import LAMBDA_DIR, ROOT
from testkit.handlers import FUNCTIONS

UNCHECKED_HASH_PYC = 0b01  # PEP 552 flags: hash-based, source not checked


def _builder():
    spec = importlib.util.spec_from_file_location("build_layer_under_test", ROOT / "scripts/build_layer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree_digest(tree: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(tree.rglob("*")):
        digest.update(str(path.relative_to(tree)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
            digest.update(str(path.stat().st_mtime).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def layer(tmp_path_factory) -> Path:
    return _builder().build_layer(ROOT, tmp_path_factory.mktemp("layer") / "layer")


@pytest.fixture(scope="module")
def runtime_dir() -> Path:
    """Only what the python3.12 Lambda runtime ships besides the standard library: its SDK."""
    return runtime_sdk(LAMBDA_RUNTIME)


def test_layer_holds_the_pins_and_payment_core_with_bytecode_for_the_runtime(layer):
    python = layer / "python"
    names = sorted(p.name for p in python.iterdir())
    assert "payment_core" in names
    for dist in ("aws_lambda_powertools-3.37.0", "aws_xray_sdk-2.15.0", "fastjsonschema-2.22.3", "wrapt-2.5.2"):
        assert f"{dist}.dist-info" in names
    for runtime_only in ("boto3", "botocore", "jmespath", "urllib3", "pydantic"):
        assert runtime_only not in names
    assert sorted(p.name for p in (python / "payment_core").iterdir() if p.suffix == ".py") == sorted(
        p.name for p in (LAMBDA_DIR / "shared/payment_core").glob("*.py")
    )
    sources = sorted(python.rglob("*.py"))
    compiled = sorted(python.rglob("*.pyc"))
    assert {p.parent / "__pycache__" / f"{p.stem}.cpython-312.pyc" for p in sources} == set(compiled)
    for pyc in compiled:
        header = pyc.read_bytes()[:16]
        assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH_PYC, pyc
    # Source paths are where Lambda mounts the layer, not this machine's build directory.
    init = (python / "payment_core/__pycache__/__init__.cpython-312.pyc").read_bytes()
    assert b"/opt/python/payment_core/__init__.py" in init
    assert str(layer).encode() not in init


def test_every_handler_imports_in_a_clean_interpreter(layer, runtime_dir, tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(
        """
import importlib.util, json, sys
function_dir, layer_dir, runtime_dir = sys.argv[1:4]
sys.path[:0] = [function_dir, layer_dir, runtime_dir]
spec = importlib.util.spec_from_file_location("handler", function_dir + "/handler.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
import aws_lambda_powertools, aws_xray_sdk.core, fastjsonschema, payment_core, wrapt
from aws_lambda_powertools.utilities.validation import validate
validate(event={"a": 1}, schema={"type": "object", "required": ["a"]})
@wrapt.decorator
def passthrough(wrapped, instance, args, kwargs):
    return wrapped(*args, **kwargs)
assert passthrough(lambda: 41)() == 41
print(json.dumps({
    "python": list(sys.version_info[:2]),
    "callable": callable(module.handler),
    "powertools": aws_lambda_powertools.__file__,
    "payment_core": payment_core.__file__,
    "wrapt": wrapt.__file__,
    "site_loaded": "site" in sys.modules,
}))
"""
    )
    env = {"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "us-east-1", "HOME": str(tmp_path)}
    python312 = find_interpreter(LAMBDA_RUNTIME)
    for function in FUNCTIONS:
        completed = subprocess.run(
            [
                str(python312),
                "-I",
                "-S",
                str(script),
                str(LAMBDA_DIR / function),
                str(layer / "python"),
                str(runtime_dir),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        report = json.loads(completed.stdout.strip().splitlines()[-1])
        assert report["callable"] is True, function
        assert report["python"] == [3, 12]
        assert report["site_loaded"] is False
        for module in ("powertools", "payment_core", "wrapt"):
            assert report[module].startswith(str(layer / "python")), (function, report)


def _asset_hash(directory: Path) -> str:
    """The hash the stack's TerraformAsset gives the layer: what decides a redeploy."""
    from cdktf import AssetType, TerraformAsset, TerraformStack, Testing

    stack = TerraformStack(Testing.app(), "layer")
    return TerraformAsset(stack, "code", path=str(directory), type=AssetType.ARCHIVE).asset_hash


def test_rebuild_skips_pip_recopies_payment_core_and_is_deterministic(tmp_path, monkeypatch):
    root = tmp_path / "project"
    shutil.copytree(LAMBDA_DIR / "shared/payment_core", root / "lambda/shared/payment_core")
    shutil.copy(LAMBDA_DIR / "requirements.txt", root / "lambda/requirements.txt")
    builder = _builder()
    installs: list[Path] = []

    def fake_pip(requirements: Path, target: Path) -> None:
        installs.append(target)
        (target / "pinned_pkg").mkdir()
        (target / "pinned_pkg/__init__.py").write_text("x = 1\n")
        (target / "pinned_pkg/__pycache__").mkdir()
        (target / "pinned_pkg/__pycache__/x.pyc").write_bytes(b"\0")
        (target / "bin").mkdir()

    monkeypatch.setattr(builder, "_pip_install", fake_pip)
    layer_dir = builder.build_layer(root)
    assert layer_dir == root / "build/layer"
    first = _tree_digest(layer_dir)
    first_asset_hash = _asset_hash(layer_dir)
    assert builder.build_layer(root) == layer_dir
    assert _tree_digest(layer_dir) == first
    assert len(installs) == 1
    assert not (layer_dir / "python/bin").exists()
    # pip's bytecode is replaced by the runtime's, compiled for 3.12.
    assert sorted(p.name for p in (layer_dir / "python/pinned_pkg/__pycache__").iterdir()) == [
        "__init__.cpython-312.pyc"
    ]

    # From scratch (a fresh clone, or CI) the bytes, and so the asset hash, are the same.
    shutil.rmtree(root / "build")
    builder.build_layer(root)
    assert len(installs) == 2
    assert _tree_digest(layer_dir) == first
    assert _asset_hash(layer_dir) == first_asset_hash
    # ... and built elsewhere: no path of the build machine is in the bytecode.
    elsewhere = builder.build_layer(root, tmp_path / "elsewhere/layer")
    assert _tree_digest(elsewhere) == first

    money_pyc = layer_dir / "python/payment_core/__pycache__/money.cpython-312.pyc"
    before = money_pyc.read_bytes()
    (root / "lambda/shared/payment_core/money.py").write_text("CHANGED = True\n")
    builder.build_layer(root)
    assert (layer_dir / "python/payment_core/money.py").read_text() == "CHANGED = True\n"
    assert money_pyc.read_bytes() != before
    assert len(installs) == 3

    (root / "lambda/requirements.txt").write_text("wrapt==2.5.2\n")
    builder.build_layer(root)
    assert len(installs) == 4
    assert builder.main(["build_layer.py", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out/python/payment_core").is_dir()
