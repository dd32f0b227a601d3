"""Lambda code and environment as the AWS python runtime presents them (see lambda_runtime).

* the function zip goes to ``<state>/lambda-cache/<digest>/task`` and every layer zip to
  ``.../opt`` in the function's layer order, so a layer's ``python/`` is ``opt/python``,
  where AWS mounts ``/opt/python``;
* the interpreter is the function's runtime's (``python3.12`` -> a 3.12 found by
  ``lib.python_runtime``), never the emulator's own; none on the machine is a runtime error;
* the import path is task root, ``opt/python/lib/pythonX.Y/site-packages``, ``opt/python``
  and the SDK the runtime bundles (``lib.python_runtime.RUNTIME_SDK``, built once for that
  Python, see ``localcloud.lambda_runtimes``; never the dev venv's newer boto3);
* the environment is clean: the function's variables, the variables the AWS runtime sets,
  test credentials and ``AWS_ENDPOINT_URL`` = the emulator;
* the network is the emulator's (``localcloud.network``): ``LOCALCLOUD_NETWORK`` names the
  table the bootstrap answers names and routes from, and ``SSL_CERT_FILE`` the CA bundle
  OpenSSL trusts by default (this machine's plus the run's CA, ``localcloud.network_tls``).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from lib.python_runtime import python_version
from localcloud.faults import LAMBDA_ACCESS_KEY_ID
from localcloud.lambda_runtimes import runtime_sdk
from localcloud.network import HOSTS_FILE, NETWORK_DIR
from localcloud.network_tls import TRUST_FILE
from localcloud.patches.runtime_state import RUNTIME

BOOTSTRAP = Path(__file__).resolve().parent.parent / "lambda_bootstrap.py"
_prepare_lock = threading.Lock()


def _function_digest(fn: Any, layers: list[Any]) -> str:
    digest = hashlib.sha256(fn.code_sha_256.encode())
    for layer in layers:
        digest.update(layer.code_sha_256.encode())
    return digest.hexdigest()[:32]


def _resolve_layers(fn: Any) -> list[Any]:
    from moto.awslambda.utils import get_backend

    backend = get_backend(fn.account_id, fn.region)
    resolved = []
    for layer_ref in fn.layers:
        layer = backend.layers_versions_by_arn(layer_ref["Arn"])
        if layer is None:
            raise RuntimeError(f"layer {layer_ref['Arn']} no longer exists")
        resolved.append(layer)
    return resolved


def _unzip(code: bytes, target: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        archive.extractall(target)


def prepare_code(fn: Any) -> Path:
    """Unpack code and layers once per (code, layers) digest; return the digest directory."""
    layers = _resolve_layers(fn)
    root = RUNTIME.state_dir / "lambda-cache" / _function_digest(fn, layers)
    with _prepare_lock:
        if (root / ".complete").exists():
            return root
        staging = Path(tempfile.mkdtemp(dir=RUNTIME.state_dir, prefix="unpack-"))
        _unzip(fn.code_bytes, staging / "task")
        (staging / "opt").mkdir()
        for layer in layers:
            _unzip(layer.code_bytes, staging / "opt")
        (staging / ".complete").touch()
        root.parent.mkdir(parents=True, exist_ok=True)
        if root.exists():  # an interrupted earlier unpack
            shutil.rmtree(root)
        staging.rename(root)
    return root


def trace_header() -> str:
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=0;Lineage=localcloud"


def build_environment(fn: Any, environment_id: str, code_root: Path) -> dict[str, str]:
    """The environment of one execution environment (per-invocation values travel with each request)."""
    task, opt = code_root / "task", code_root / "opt"
    major, minor = python_version(str(fn.run_time))
    # The python3.12 runtime's order: /var/task, /opt/python/lib/python3.12/site-packages,
    # /opt/python, then /var/lang/lib/python3.12/site-packages where its boto3 lives.
    sys_path = [
        task,
        opt / "python" / "lib" / f"python{major}.{minor}" / "site-packages",
        opt / "python",
        runtime_sdk(str(fn.run_time)),
    ]
    started = time.gmtime()
    log_stream = time.strftime("%Y/%m/%d", started) + f"/[{fn.version}]{environment_id.replace('-', '')}"
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task),
        "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
        "_HANDLER": fn.handler or "",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
        "AWS_REGION": fn.region,
        "AWS_DEFAULT_REGION": fn.region,
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout),
        "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        # A key of their own: the fault switch recognises calls made by function code by it.
        "AWS_ACCESS_KEY_ID": LAMBDA_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "_X_AMZN_TRACE_ID": trace_header(),
        # Hermetic: a developer's ~/.aws files must not change what the handler sees.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # OpenSSL's default trust store (read by ssl.create_default_context): the runtime's CA
        # bundle on AWS; here this machine's plus the run's CA. A function may set its own.
        "SSL_CERT_FILE": str(RUNTIME.state_dir / NETWORK_DIR / TRUST_FILE),
    }
    environment.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
    # Set after the function's variables: the handler must talk to the emulator.
    environment["AWS_ENDPOINT_URL"] = RUNTIME.endpoint
    environment["LOCALCLOUD_SYS_PATH"] = os.pathsep.join(str(p) for p in sys_path)
    environment["LOCALCLOUD_INVOKED_FUNCTION_ARN"] = fn.function_arn
    environment["LOCALCLOUD_NETWORK"] = str(RUNTIME.state_dir / NETWORK_DIR / HOSTS_FILE)
    return environment
