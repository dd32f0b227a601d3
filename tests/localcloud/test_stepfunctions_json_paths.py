"""A kept JSONPath expression reads and writes exactly what a freshly parsed one does.

``localcloud/patches/stepfunctions_json_paths.py`` is installed here only for the duration of a
test (monkeypatch): moto's own ``extract_json`` and ``ResultPath`` run once with moto's parse
and once with the kept expressions, on the paths of the stack's real definitions and on paths
of every shape (filters, slices, wildcards, recursive descent, missing keys, invalid text).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import jsonpath_ng.ext.parser
import jsonpath_ng.parser
import pytest
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.utils import json_path

from localcloud.patches import stepfunctions_json_paths
from tests.localcloud.test_stepfunctions_parse_cache import DEFINITIONS

SHAPES = [
    "$",
    "$.a",
    "$.a.b",
    "$.items[0]",
    "$.items[-1]",
    "$.items[*]",
    "$.items[*].n",
    "$.items[1:]",
    "$.items[?(@.n > 1)]",
    "$.items[?(@.name == 'x')].n",
    "$..n",
    "$['a']['b']",
    "$.missing",
    "$.a.missing",
    "$.[",
    "$$$",
    "",
]
DOCUMENTS: list[Any] = [
    {"a": {"b": 1}, "items": [{"n": 1, "name": "x"}, {"n": 2, "name": "y"}, {"n": 3}]},
    {"payment_id": "p-1", "status": "ok", "error": {"Error": "E", "Cause": "c"}, "items": []},
    {"a": None, "items": [1, 2, 3]},
    [],
]


def paths_in(value: Any) -> Iterator[str]:
    if isinstance(value, str) and value.startswith("$"):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from paths_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from paths_in(item)


DEFINITION_PATHS = sorted({path for text in DEFINITIONS.values() for path in paths_in(json.loads(text))})
PATHS = DEFINITION_PATHS + SHAPES


def outcome(call: Callable[..., Any], *arguments: Any) -> tuple[str, Any]:
    try:
        return "value", call(*arguments)
    except Exception as error:
        return type(error).__name__, str(error)


@pytest.fixture(autouse=True)
def empty_caches() -> None:
    stepfunctions_json_paths.extended_expression.cache_clear()
    stepfunctions_json_paths.plain_expression.cache_clear()


def kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the patch for this test only: the caller's moto is restored afterwards."""
    monkeypatch.setattr(json_path, "parse", json_path.parse)
    monkeypatch.setattr(result_path, "parse", result_path.parse)
    stepfunctions_json_paths.apply()


def test_the_definitions_have_paths_to_compare() -> None:
    assert {"$.payment_id", "$.status", "$.error"} <= set(DEFINITION_PATHS)


def test_kept_expressions_extract_what_fresh_ones_extract(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = [[outcome(json_path.extract_json, path, document) for document in DOCUMENTS] for path in PATHS]
    kept(monkeypatch)
    for _ in range(2):  # the second round reads kept expressions only
        assert [[outcome(json_path.extract_json, path, document) for document in DOCUMENTS] for path in PATHS] == fresh
    assert stepfunctions_json_paths.extended_expression.cache_info().hits > 0


def test_kept_expressions_update_what_fresh_ones_update(monkeypatch: pytest.MonkeyPatch) -> None:
    def update(path: str, document: Any) -> Any:
        return result_path.parse(path).update_or_create(document, {"result": [1, 2]})

    def updates() -> list[list[tuple[str, Any]]]:
        return [[outcome(update, path, copy.deepcopy(document)) for document in DOCUMENTS] for path in PATHS]

    fresh = updates()
    kept(monkeypatch)
    assert updates() == fresh
    assert updates() == fresh
    # A shared expression leaves no trace of one update in the next one's input.
    assert DOCUMENTS[0]["a"] == {"b": 1}


def test_a_path_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parses: list[str] = []
    parse = jsonpath_ng.ext.parser.parse

    def counted(path: str, debug: bool | None = None) -> Any:
        parses.append(path)
        return parse(path, debug)

    monkeypatch.setattr(jsonpath_ng.ext.parser, "parse", counted)
    kept(monkeypatch)
    for status in ("ok", "declined", "ok"):
        assert json_path.extract_json("$.status", {"status": status}) == status
    assert parses == ["$.status"]


def test_a_path_that_does_not_parse_is_refused_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = outcome(jsonpath_ng.parser.parse, "$.[")
    assert fresh[0] != "value"
    kept(monkeypatch)
    assert outcome(result_path.parse, "$.[") == fresh
    assert outcome(result_path.parse, "$.[") == fresh
