"""README's layout table against the tree: it cannot name a file that is gone or miss one that came.

Every path in the table's first column exists; every top-level entry of the repository, every
module of ``lib/``, every function's handler module and every module and feature package of the
Lambda package has a row. Paths are written out in full
(no ``<function>`` placeholders), so a count like "the four handlers" has nothing to hide behind.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from payment_core.contract import FUNCTION_NAMES

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_ROW = re.compile(r"^\|(?P<paths>[^|]*)\|(?P<what>.*)\|\s*$")
_CODE = re.compile(r"`([^`]+)`")


def layout_rows(text: str) -> list[tuple[list[str], str]]:
    """(paths, what) of each row of the table under ``## Layout``."""
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        match = _ROW.match(line)
        if match is None or set(match["paths"].strip()) <= {"-", " "} or match["paths"].strip() == "path":
            continue
        rows.append((_CODE.findall(match["paths"]), match["what"].strip()))
    return rows


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [path for path in listed.splitlines() if (ROOT / path).exists()]  # a deletion not committed yet


@pytest.fixture(scope="module")
def listed() -> set[str]:
    rows = layout_rows(README.read_text())
    assert rows, "README has no layout table under '## Layout'"
    for paths, what in rows:
        assert paths, f"a layout row names no path in backticks: {what!r}"
        assert what, f"the layout row of {', '.join(paths)} says nothing about it"
    every = [path for paths, _ in rows for path in paths]
    assert len(every) == len(set(every)), f"paths listed twice: {sorted({p for p in every if every.count(p) > 1})}"
    return set(every)


def test_every_listed_path_exists(listed: set[str]) -> None:
    missing = sorted(
        path for path in listed if not ((ROOT / path).is_dir() if path.endswith("/") else (ROOT / path).is_file())
    )
    assert missing == [], f"README's layout lists paths that do not exist (a directory ends with '/'): {missing}"


def test_every_top_level_entry_is_listed(listed: set[str]) -> None:
    # A directory counts as listed when it has a row or something in it does (lib/ by its modules).
    top_level = {path.split("/")[0] + ("/" if "/" in path else "") for path in tracked_files()}
    covered = {path.split("/")[0] + ("/" if "/" in path else "") for path in listed}

    assert sorted(top_level - covered) == []


def test_every_module_of_lib_is_listed(listed: set[str]) -> None:
    modules = {path for path in tracked_files() if path.startswith("lib/") and path.endswith(".py")}
    modules -= {path for path in modules if path.endswith("/__init__.py")}

    assert sorted(modules - listed) == []


def test_every_function_handler_is_listed(listed: set[str]) -> None:
    handlers = {f"lambda/payment_core/handlers/{function}.py" for function in FUNCTION_NAMES}
    on_disk = {
        path
        for path in tracked_files()
        if re.fullmatch(r"lambda/payment_core/handlers/[^/]+\.py", path) and not path.endswith("/__init__.py")
    }

    assert on_disk == handlers, "a handler module without a function in the contract, or the other way round"
    assert sorted(handlers - listed) == []


def test_every_module_and_feature_of_the_lambda_package_is_listed(listed: set[str]) -> None:
    package = "lambda/payment_core/"
    inside = [path[len(package) :] for path in tracked_files() if path.startswith(package)]
    modules = {package + path for path in inside if "/" not in path and path.endswith(".py") and path != "__init__.py"}
    features = {package + path.split("/")[0] + "/" for path in inside if "/" in path} - {package + "handlers/"}

    assert sorted((modules | features) - listed) == []


def test_the_table_is_read_as_written() -> None:
    # The reader itself: a row with two paths, a directory, and the header and rule skipped.
    text = "# x\n\n## Layout\n\n| path | what |\n| --- | --- |\n| `a.py`, `b/` | two |\n\n## Next\n| `c` | no |\n"

    assert layout_rows(text) == [(["a.py", "b/"], "two")]
