"""``lib/config`` is a one-way chain: checks and limits <- slices <- PlatformConfig <- presets.

Read from the source with ``ast`` (no import runs), so a circle is caught even where Python would
tolerate it (``TYPE_CHECKING`` imports, imports inside functions).
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "lib" / "config"
PACKAGE = "lib.config"


def _imported_config_modules(source: str) -> set[str]:
    """The ``lib.config`` modules one module's source imports (the package itself excluded)."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                raise AssertionError(f"relative import of {node.module!r}: lib/config imports by full name")
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        prefix = f"{PACKAGE}."
        imported.update(name.removeprefix(prefix).split(".")[0] for name in names if name.startswith(prefix))
    return imported


def _module_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    return {name: _imported_config_modules(source) & set(sources) for name, source in sources.items()}


def _first_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        return list(cycle.args[1])
    return None


def _config_sources() -> dict[str, str]:
    return {path.stem: path.read_text() for path in CONFIG.glob("*.py") if path.stem != "__init__"}


def test_lib_config_has_no_import_cycle() -> None:
    sources = _config_sources()
    assert {"checks", "limits", "platform_config", "presets"} <= set(sources)
    assert _first_cycle(_module_graph(sources)) is None


def test_the_checks_and_limits_import_no_other_config_module() -> None:
    graph = _module_graph(_config_sources())
    assert graph["checks"] == set()
    assert graph["limits"] == set()


def test_only_presets_import_platform_config_and_nothing_imports_presets() -> None:
    graph = _module_graph(_config_sources())
    assert {name for name, imports in graph.items() if "platform_config" in imports} == {"presets", "dev_preset"}
    assert {name for name, imports in graph.items() if "presets" in imports} == set()
    # Dev, written out in full, is read only by the presets made from it.
    assert {name for name, imports in graph.items() if "dev_preset" in imports} == {"presets"}


@pytest.mark.parametrize(
    "guarded",
    [
        "from lib.config.slice import Thing\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from lib.config.slice import Thing\n",
        "def late() -> None:\n    import lib.config.slice\n",
        "from lib.config import slice\n",
    ],
)
def test_the_check_sees_every_way_of_importing_back(guarded: str) -> None:
    # The schema <-> slice circle this test replaced went through a TYPE_CHECKING import.
    sources = {"schema": "from lib.config.checks import require\n", "slice": "from lib.config.schema import X\n"}
    sources["checks"] = ""
    assert _first_cycle(_module_graph(sources)) is None
    sources["schema"] += guarded
    assert _first_cycle(_module_graph(sources)) is not None
