"""The kept syntax tree builds exactly the components a fresh parse builds, new ones every time.

``localcloud/patches/stepfunctions_parse_cache.py`` is used here as plain functions (the test
process's moto stays unpatched, so ``AmazonStateLanguageParser.parse`` is moto's own parse and
the reference): the components are compared field by field, recursively, for the stack's two
real definitions; the components an execution evaluates are then the same by construction.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException
from moto.stepfunctions.parser.asl.parse.test_state.asl_parser import TestStateAmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from lib.components.batch_file_workflow import batch_file_definition
from lib.components.workflow import workflow_definition
from localcloud.patches import stepfunctions_parse_cache
from tests.localcloud.conftest import local_batch_spec

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:payment-workflow-dev:7"
# The shape tests/localcloud/test_batch_file_workflow.py runs.
BATCH_SPEC = local_batch_spec("arn:aws:lambda:us-east-1:123456789012:function:batch-steps", "batch-files")
DEFINITIONS = {
    "payment": json.dumps(workflow_definition(FUNCTION, partition="aws", authorization_window_seconds=600)),
    "batch-file": json.dumps(batch_file_definition(BATCH_SPEC)),
}


def shape(value: Any, path: frozenset[int] = frozenset()) -> Any:
    """Everything an evaluation reads from ``value``: types and field values, recursively."""
    if value is None or isinstance(value, (str, int, float, bool, enum.Enum)):
        return value
    if id(value) in path:
        return ("cycle", type(value).__qualname__)
    inner = path | {id(value)}
    if isinstance(value, (list, tuple)):
        return [shape(item, inner) for item in value]
    if isinstance(value, dict):
        return {repr(key): shape(item, inner) for key, item in value.items()}
    fields = vars(value) if hasattr(value, "__dict__") else {}
    return (type(value).__qualname__, {name: shape(field, inner) for name, field in sorted(fields.items())})


def components(value: Any, seen: set[int] | None = None) -> Iterator[Any]:
    """Every evaluation component reachable from ``value``."""
    seen = set() if seen is None else seen
    if id(value) in seen or value is None or isinstance(value, (str, int, float, bool, enum.Enum)):
        return
    seen.add(id(value))
    if isinstance(value, EvalComponent):
        yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else None
    if children is None:
        children = vars(value).values() if hasattr(value, "__dict__") else ()
    for child in children:
        yield from components(child, seen)


def without_addresses(text: str) -> str:
    """A repr names objects of its own by their address (``<... object at 0x7f...>``)."""
    return re.sub(r" at 0x[0-9a-f]+>", " at ...>", text)


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    stepfunctions_parse_cache.syntax_tree.cache_clear()


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_the_kept_tree_builds_what_a_fresh_parse_builds(name: str) -> None:
    definition = DEFINITIONS[name]
    reference = shape(AmazonStateLanguageParser.parse(definition)[0])
    first = stepfunctions_parse_cache.parse(definition)[0]
    second = stepfunctions_parse_cache.parse(definition)[0]
    assert stepfunctions_parse_cache.syntax_tree.cache_info().hits == 1
    assert shape(first) == reference
    assert shape(second) == reference
    # Nothing evaluated is shared between two executions' programs.
    first_ids = {id(component) for component in components(first)}
    assert len(first_ids) > 50
    assert first_ids.isdisjoint(id(component) for component in components(second))


def test_the_kept_state_declaration_builds_what_a_fresh_test_state_parse_builds() -> None:
    state = json.dumps(json.loads(DEFINITIONS["payment"])["States"]["Validate"])
    reference = shape(TestStateAmazonStateLanguageParser.parse(state)[0])
    assert shape(stepfunctions_parse_cache.parse_test_state(state)[0]) == reference
    assert shape(stepfunctions_parse_cache.parse_test_state(state)[0]) == reference
    # Kept per rule: the same text parsed as a whole definition is another tree.
    with pytest.raises(ASLParserException):
        stepfunctions_parse_cache.parse(state)


def test_n_executions_of_one_definition_parse_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parses = []
    state_machine = ASLParser.state_machine

    def counted(parser: ASLParser) -> Any:
        parses.append(parser)
        return state_machine(parser)

    monkeypatch.setattr(ASLParser, "state_machine", counted)
    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(stepfunctions_parse_cache.parse))
    worker = SimpleNamespace(
        _evaluation_details=SimpleNamespace(state_machine_details=SimpleNamespace(definition=DEFINITIONS["payment"]))
    )
    programs = [ExecutionWorker._get_evaluation_entrypoint(worker) for _ in range(5)]  # type: ignore[arg-type]
    assert len(parses) == 1
    assert len({id(program) for program in programs}) == 5


@pytest.mark.parametrize(
    "definition",
    [
        # ANTLR syntax errors: ASLParserException with the parser's lines.
        '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Bogus": 1}}}',
        "not json",
        # Well-formed but refused by the Preprocessor: a ValueError, raised anew on every call.
        '{"StartAt": "Missing"}',
        '{"StartAt": "A", "States": {"A": {"Type": "Wait", "End": true}}}',
    ],
)
def test_a_refused_definition_is_refused_alike_every_time(definition: str) -> None:
    with pytest.raises(Exception) as fresh:
        AmazonStateLanguageParser.parse(definition)
    for _ in range(2):
        with pytest.raises(type(fresh.value)) as cached:
            stepfunctions_parse_cache.parse(definition)
        assert without_addresses(repr(cached.value)) == without_addresses(repr(fresh.value))
