"""DynamoDB attribute values written into a response body directly, not member by member through
moto's model-driven serializer.

moto 5.2.5 (``moto/core/serialize.py``) builds every JSON response by walking botocore's output
shape: for each ``AttributeValue`` it tries all ten members (``S``, ``N``, ``B``, ``SS``, ``NS``,
``BS``, ``M``, ``L``, ``NULL``, ``BOOL``), each through a value picker that tries several spellings
of the key. A payment item is ~50 attribute values, so a ``BatchGetItem`` of 100 payments cost
~0.5 s of CPU (contention workload, this machine), and the polling clients of the scale model spent
~30% of the emulator's CPU there (py-spy).

The wire form of an attribute value is fixed by the DynamoDB API reference (``AttributeValue``:
exactly one member; ``B``/``BS`` base64-encoded, numbers as strings, ``M``/``L`` nested values), and
the value moto hands the serializer is already that form with raw bytes (``dynamo_to_dict``). This
patch writes it out as the serializer would have: same members, binaries base64-encoded, strings as
``str``; anything else (a member it does not know, a value that is not a plain dict) goes through
moto's path. Only the DynamoDB service's serializer is changed; the envelope (``Count``,
``ConsumedCapacity``, ...) is still moto's.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

_STRINGS = frozenset({"S", "N"})
_STRING_LISTS = frozenset({"SS", "NS"})
_BOOLEANS = frozenset({"BOOL", "NULL"})


class _NotPlain(Exception):
    """A value this writer does not know: moto's serializer answers it."""


def _base64(value: Any) -> str:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if not isinstance(raw, bytes):
        raise _NotPlain
    return base64.b64encode(raw).decode("utf-8")


def wire_attribute_value(value: Any) -> dict[str, Any]:
    """The JSON form of one attribute value, as moto's serializer writes it."""
    if not isinstance(value, dict):
        raise _NotPlain
    wire: dict[str, Any] = {}
    for member, inner in value.items():
        if inner is None:
            continue  # the serializer leaves out a member whose value is None
        if member in _STRINGS:
            wire[member] = inner if isinstance(inner, str) else str(inner)
        elif member in _STRING_LISTS:
            wire[member] = [str(element) for element in inner]
        elif member == "B":
            wire[member] = _base64(inner)
        elif member == "BS":
            wire[member] = [_base64(element) for element in inner]
        elif member == "M":
            wire[member] = {name: wire_attribute_value(element) for name, element in inner.items()}
        elif member == "L":
            wire[member] = [wire_attribute_value(element) for element in inner]
        elif member in _BOOLEANS and isinstance(inner, bool):
            wire[member] = inner
        else:
            raise _NotPlain
    return wire


def _direct_attribute_values(serialize_structure: Any) -> Any:
    @functools.wraps(serialize_structure)
    def serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and self.operation_model.service_model.service_name == "dynamodb":
            try:
                wire = wire_attribute_value(value)
            except _NotPlain:
                pass
            else:
                self._default_serialize(serialized, wire, shape, key)
                return
        serialize_structure(self, serialized, value, shape, key)

    serialize_type_structure._localcloud_direct = True  # type: ignore[attr-defined]
    return serialize_type_structure


def apply() -> None:
    from moto.core.serialize import get_serializer_class

    serializer = get_serializer_class("dynamodb", "json")
    if not getattr(serializer._serialize_type_structure, "_localcloud_direct", False):
        serializer._serialize_type_structure = _direct_attribute_values(  # type: ignore[method-assign]
            serializer._serialize_type_structure
        )
