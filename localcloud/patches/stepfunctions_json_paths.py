"""The Step Functions interpreter parses each JSONPath expression once, not at every use.

Evidence (``moto/stepfunctions/parser/asl/utils/json_path.py``, ``extract_json``; and
``asl/component/common/path/result_path.py``): every ``InputPath``, ``Parameters`` or
``ResultSelector`` binding (``"payment_id.$": "$.payment_id"``), Choice variable and
``ResultPath`` calls ``jsonpath_ng``'s ``parse(path)`` when it is evaluated, and that builds a
new PLY parser each time (``ExtendedJsonPathParser()`` → ``yacc``, reading its tables). py-spy
(``--gil``) on the emulator running 60 payment-workflow executions (2026-12-03): ~25% of the
samples holding the GIL were in ``jsonpath_ng``'s parser construction.

The patch keeps the parsed expression per path text (the last ``CACHED_PATHS``), for each of the
two parsers moto uses (``jsonpath_ng.ext.parse`` and ``jsonpath_ng.parse``). An expression
object is not changed by ``find``/``update_or_create`` (``jsonpath_ng/jsonpath.py``: only the
``DatumInContext`` results it returns are), so executions may share it. A path that does not
parse raises as before on every use (a failure is not kept). Emulator overhead only: the same
expression is evaluated on the same data.
"""

from __future__ import annotations

import functools
from typing import Any

CACHED_PATHS = 1024


@functools.lru_cache(maxsize=CACHED_PATHS)
def extended_expression(path: str) -> Any:
    """``jsonpath_ng.ext.parse(path)``: what moto's ``extract_json`` evaluates."""
    from jsonpath_ng.ext.parser import parse

    return parse(path)


@functools.lru_cache(maxsize=CACHED_PATHS)
def plain_expression(path: str) -> Any:
    """``jsonpath_ng.parse(path)``: what moto's ``ResultPath`` updates the state input with."""
    from jsonpath_ng.parser import parse

    return parse(path)


def _kept(parse: Any, cached: Any) -> Any:
    def parse_once(path: Any, *args: Any) -> Any:
        # Only a text with no other argument is kept; anything else is moto's call as it was.
        if args or not isinstance(path, str):
            return parse(path, *args)
        return cached(path)

    parse_once._localcloud_parse_once = True  # type: ignore[attr-defined]
    return parse_once


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    # Both modules look ``parse`` up in their globals at every call: replacing the name there
    # reaches every caller.
    if getattr(json_path.parse, "_localcloud_parse_once", False):  # type: ignore[attr-defined]
        return
    json_path.parse = _kept(json_path.parse, extended_expression)  # type: ignore[attr-defined]
    result_path.parse = _kept(result_path.parse, plain_expression)  # type: ignore[attr-defined]
