"""CLI for the shared layer builder (``lib/layer.py``): ``python scripts/build_layer.py [OUT_DIR]``.

Prints the directory holding ``python/``. ``build_layer`` is re-exported for callers that load
this file by path.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, the project root is not on the path
    sys.path.insert(0, str(ROOT))

from lib.layer import build_layer  # noqa: E402

__all__ = ["build_layer"]


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else None
    print(build_layer(ROOT, out_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
