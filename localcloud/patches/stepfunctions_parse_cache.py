"""The Step Functions interpreter parses a definition's text once, not once per execution.

Evidence (``moto/stepfunctions/parser/backend/execution_worker.py``,
``_get_evaluation_entrypoint``): every execution calls ``AmazonStateLanguageParser.parse``
on its state machine's definition: an ANTLR lex and parse of the whole text
(``parser.state_machine()``), then ``Preprocessor().visit(tree)`` to build the evaluation
components. py-spy on the e2e emulator during the chaos test (2026-12-03, 909 samples): ~22% of
the server's CPU was that parse, repeated for the same few definitions, under the server's GIL.

The patch keeps the ANTLR syntax tree and the syntax errors ANTLR reported, per definition text
(the last ``CACHED_DEFINITIONS``), and still runs the ``Preprocessor`` on every call: each
execution gets evaluation components of its own, as before. They must not be shared: they are
mutable per execution (the redrive patch sets ``program.start_at`` on the one it resumes; moto
gives a component its ``heap_key`` while it evaluates). The tree is only read by the
``Preprocessor`` (ANTLR's context getters and ``getText`` compute, never store), so concurrent
executions may visit it. A definition with syntax errors raises ``ASLParserException`` with the
same error lines on every call, cached or not; any other exception is raised as before and
nothing is kept. ``TestState`` parses a state declaration (``state_decl_body``) with its own
``Preprocessor``, so its trees are kept under that rule's name. Emulator overhead only: the
components an execution runs are built from the same tree by the same code.
"""

from __future__ import annotations

import functools
from typing import Any

CACHED_DEFINITIONS = 64
STATE_MACHINE_RULE = "state_machine"  # AmazonStateLanguageParser: a whole definition
STATE_DECLARATION_RULE = "state_decl_body"  # TestStateAmazonStateLanguageParser: one state


@functools.lru_cache(maxsize=CACHED_DEFINITIONS)
def syntax_tree(definition: str, rule: str) -> tuple[Any, tuple[str, ...]]:
    """ANTLR's tree of ``definition`` for ``rule`` and the syntax errors it reported, exactly as
    moto's parsers build them (same lexer, parser, listener); a tuple, so no caller can alter it."""
    from antlr4 import CommonTokenStream, InputStream
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse.asl_parser import SyntaxErrorListener

    listener = SyntaxErrorListener()  # type: ignore[no-untyped-call]
    parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    tree = getattr(parser, rule)()
    return tree, tuple(listener.errors)


def _components(definition: str, rule: str, preprocessor: Any) -> tuple[Any, Any]:
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException

    tree, errors = syntax_tree(definition, rule)
    if errors:
        raise ASLParserException(errors=list(errors))
    return preprocessor.visit(tree), tree


def parse(definition: str) -> tuple[Any, Any]:
    """``AmazonStateLanguageParser.parse`` with the syntax tree kept: new components every call."""
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    return _components(definition, STATE_MACHINE_RULE, Preprocessor())


def parse_test_state(definition: str) -> tuple[Any, Any]:
    """``TestStateAmazonStateLanguageParser.parse`` with the syntax tree kept."""
    from moto.stepfunctions.parser.asl.parse.test_state.preprocessor import TestStatePreprocessor

    return _components(definition, STATE_DECLARATION_RULE, TestStatePreprocessor())


def apply() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.test_state.asl_parser import TestStateAmazonStateLanguageParser

    for owner, cached in (
        (AmazonStateLanguageParser, parse),
        (TestStateAmazonStateLanguageParser, parse_test_state),
    ):
        original = owner.__dict__["parse"].__func__
        if getattr(original, "_localcloud_parse_once", False):
            continue

        def parse_once(definition: str, cached: Any = cached, original: Any = original) -> tuple[Any, Any]:
            # Only text is a cache key; whatever else a caller passes fails in moto's own way.
            if not isinstance(definition, str):
                return original(definition)
            return cached(definition)  # type: ignore[no-any-return]

        parse_once._localcloud_parse_once = True  # type: ignore[attr-defined]
        owner.parse = staticmethod(parse_once)  # type: ignore[method-assign]
