"""CLI for the shared layer builder (``lib/layer.py``): ``python scripts/build_layer.py [OUT_DIR]``.

Prints the directory holding ``python/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, the project root is not on the path
    sys.path.insert(0, str(ROOT))

from lib import layer  # noqa: E402

# The pip step, looked up when build_layer runs: callers that load this file by path may
# replace it here (tests/lambda/test_layer_packaging.py does, to build without pip).
_pip_install = layer.pip_install


def build_layer(root: Path, out_dir: Path | None = None) -> Path:
    return layer.build_layer(root, out_dir, install=_pip_install)


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else None
    print(build_layer(ROOT, out_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
