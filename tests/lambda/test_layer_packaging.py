"""What every function deploys (the ``payment_core`` code asset and the layer built by
``lib/layer.py``) is enough, with the runtime's own packages, to import every handler string
in a clean interpreter of the runtime's Python (3.12), as Lambda does; both ship bytecode for it
that is deterministic and valid inside the zip."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lib import layer as layer_builder
from lib.lambda_sources import LAMBDA_ROOT, PACKAGE_DIR, PROJECT_ROOT, handler_for
from lib.python_runtime import LAMBDA_RUNTIME, find_interpreter
from localcloud.lambda_runtimes import runtime_sdk
from testkit.handlers import FUNCTIONS

UNCHECKED_HASH_PYC = 0b01  # PEP 552 flags: hash-based, source not checked


def _assert_compiled_for_the_runtime(tree: Path, mount: str) -> None:
    """Every module has its 3.12 unchecked-hash pyc, whose source paths are where Lambda mounts it."""
    sources = sorted(tree.rglob("*.py"))
    compiled = sorted(tree.rglob("*.pyc"))
    assert {p.parent / "__pycache__" / f"{p.stem}.cpython-312.pyc" for p in sources} == set(compiled)
    for pyc in compiled:
        assert int.from_bytes(pyc.read_bytes()[4:8], "little") == UNCHECKED_HASH_PYC, pyc
    package = sources[0].relative_to(tree).parts[0]
    init = (tree / package / "__pycache__/__init__.cpython-312.pyc").read_bytes()
    assert f"{mount}/{package}/__init__.py".encode() in init
    assert str(tree).encode() not in init  # no path of the build machine


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
    return layer_builder.build_layer(PROJECT_ROOT, tmp_path_factory.mktemp("layer") / "layer")


@pytest.fixture(scope="module")
def function_code(tmp_path_factory) -> Path:
    return layer_builder.build_function_code(PROJECT_ROOT, tmp_path_factory.mktemp("function") / "function")


@pytest.fixture(scope="module")
def runtime_dir() -> Path:
    """Only what the python3.12 Lambda runtime ships besides the standard library: its SDK."""
    return runtime_sdk(LAMBDA_RUNTIME)


def _asset_hash(directory: Path) -> str:
    """The hash the stack's TerraformAsset gives a directory: what decides a redeploy."""
    from cdktf import AssetType, TerraformAsset, TerraformStack, Testing

    stack = TerraformStack(Testing.app(), "asset")
    return TerraformAsset(stack, "code", path=str(directory), type=AssetType.ARCHIVE).asset_hash


def test_the_layer_pins_what_the_tests_run_with():
    """lambda/requirements.txt ships in the layer; Pipfile.lock installs the venv the handler tests
    run in. A pin that moved in one and not the other would test one version and deploy another."""
    lock = json.loads((PROJECT_ROOT / "Pipfile.lock").read_text(encoding="utf-8"))
    for line in (LAMBDA_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, version = line.split("==")
        name = name.split("[")[0]
        assert lock["default"][name]["version"] == f"=={version}", name
        assert lock["develop"].get(name, lock["default"][name])["version"] == f"=={version}", name


def test_layer_holds_the_pins_only_with_bytecode_for_the_runtime(layer):
    python = layer / "python"
    names = sorted(p.name for p in python.iterdir())
    assert "payment_core" not in names  # the functions' own code is their asset, not the layer
    for dist in ("aws_lambda_powertools-3.37.0", "aws_xray_sdk-2.15.0", "fastjsonschema-2.22.3", "wrapt-1.17.3"):
        assert f"{dist}.dist-info" in names
    for runtime_only in ("boto3", "botocore", "jmespath", "urllib3", "pydantic"):
        assert runtime_only not in names
    _assert_compiled_for_the_runtime(python, layer_builder.LAYER_MOUNT)


def test_function_code_is_the_package_sources_and_their_bytecode(function_code):
    assert sorted(p.name for p in function_code.iterdir()) == ["payment_core"]
    _assert_compiled_for_the_runtime(function_code, layer_builder.FUNCTION_MOUNT)
    shipped = sorted(
        str(p.relative_to(function_code)) for p in function_code.rglob("*") if p.is_file() and p.suffix != ".pyc"
    )
    sources = sorted(
        str(Path(PACKAGE_DIR.name, p.relative_to(PACKAGE_DIR)))
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".typed")
    )
    assert shipped == sources
    assert {p.stat().st_mtime for p in function_code.rglob("*")} == {layer_builder.FIXED_MTIME}


def test_every_handler_string_imports_in_a_clean_interpreter(layer, function_code, runtime_dir, tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(
        """
import importlib, json, sys
function_dir, layer_dir, runtime_dir, handler_string = sys.argv[1:5]
sys.path[:0] = [function_dir, layer_dir, runtime_dir]  # LAMBDA_TASK_ROOT, /opt/python, the runtime's
module_name, _, handler_name = handler_string.rpartition(".")
module = importlib.import_module(module_name)
import aws_lambda_powertools, aws_xray_sdk.core, fastjsonschema, payment_core, wrapt
from aws_lambda_powertools.utilities.validation import validate
validate(event={"a": 1}, schema={"type": "object", "required": ["a"]})
@wrapt.decorator
def passthrough(wrapped, instance, args, kwargs):
    return wrapped(*args, **kwargs)
assert passthrough(lambda: 41)() == 41
print(json.dumps({
    "python": list(sys.version_info[:2]),
    "callable": callable(getattr(module, handler_name)),
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
                str(function_code),
                str(layer / "python"),
                str(runtime_dir),
                handler_for(function),
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
        for module in ("powertools", "wrapt"):
            assert report[module].startswith(str(layer / "python")), (function, report)
        assert report["payment_core"].startswith(str(function_code)), (function, report)


def test_rebuild_skips_pip_and_both_builds_are_deterministic(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(PACKAGE_DIR, root / "lambda/payment_core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(LAMBDA_ROOT / "requirements.txt", root / "lambda/requirements.txt")
    installs: list[Path] = []

    def fake_pip(requirements: Path, target: Path) -> None:
        installs.append(target)
        (target / "pinned_pkg").mkdir()
        (target / "pinned_pkg/__init__.py").write_text("x = 1\n")
        (target / "pinned_pkg/__pycache__").mkdir()
        (target / "pinned_pkg/__pycache__/x.pyc").write_bytes(b"\0")
        (target / "bin").mkdir()

    layer_dir = layer_builder.build_layer(root, install=fake_pip)
    assert layer_dir == root / "build/layer"
    first = _tree_digest(layer_dir)
    assert layer_builder.build_layer(root, install=fake_pip) == layer_dir
    assert _tree_digest(layer_dir) == first
    assert len(installs) == 1
    assert not (layer_dir / "python/bin").exists()
    # pip's bytecode is replaced by the runtime's.
    assert sorted(p.name for p in (layer_dir / "python/pinned_pkg/__pycache__").iterdir()) == [
        "__init__.cpython-312.pyc"
    ]

    code_dir = layer_builder.build_function_code(root)
    assert code_dir == root / "build/function"
    code_digest = _tree_digest(code_dir)
    asset_hashes = (_asset_hash(layer_dir), _asset_hash(code_dir))
    (root / "lambda/payment_core/payments/__pycache__").mkdir(exist_ok=True)
    (root / "lambda/payment_core/payments/__pycache__/money.cpython-311.pyc").write_bytes(b"\0")
    assert _tree_digest(layer_builder.build_function_code(root)) == code_digest  # the dev's bytecode is not shipped

    # From scratch (a fresh clone, CI) the bytes, and so the asset hashes, are the same ...
    shutil.rmtree(root / "build")
    layer_builder.build_layer(root, install=fake_pip)
    layer_builder.build_function_code(root)
    assert len(installs) == 2
    assert (_tree_digest(layer_dir), _tree_digest(code_dir)) == (first, code_digest)
    assert (_asset_hash(layer_dir), _asset_hash(code_dir)) == asset_hashes
    # ... and built elsewhere: no path of the build machine is in the bytecode.
    assert _tree_digest(layer_builder.build_function_code(root, tmp_path / "elsewhere/function")) == code_digest

    money_pyc = code_dir / "payment_core/payments/__pycache__/money.cpython-312.pyc"
    before = money_pyc.read_bytes()
    (root / "lambda/payment_core/payments/money.py").write_text("CHANGED = True\n")
    layer_builder.build_function_code(root)
    assert (code_dir / "payment_core/payments/money.py").read_text() == "CHANGED = True\n"
    assert money_pyc.read_bytes() != before
    layer_builder.build_layer(root, install=fake_pip)
    assert len(installs) == 2  # the layer does not depend on the package

    (root / "lambda/requirements.txt").write_text("wrapt==2.5.2\n")
    layer_builder.build_layer(root, install=fake_pip)
    assert len(installs) == 3


def test_the_cli_builds_the_layer_where_asked_and_prints_it(tmp_path, monkeypatch, capsys):
    built: list[tuple[Path, Path | None]] = []

    def fake_build(root: Path, out_dir: Path | None = None) -> Path:
        built.append((root, out_dir))
        return tmp_path / "out"

    monkeypatch.setattr(layer_builder, "build_layer", fake_build)
    assert layer_builder.main(["lib.layer", str(tmp_path / "out")]) == 0
    assert built == [(PROJECT_ROOT, tmp_path / "out")]
    assert capsys.readouterr().out.strip() == str(tmp_path / "out")
