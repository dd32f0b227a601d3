"""Stored DynamoDB items read back into the frozen dataclasses that wrote them.

Every model writes one attribute a field (``to_item``) and reads it back the same way, so the
reading is one function over the dataclass's fields: each attribute converted by the decoder the
model names for it (text where it names none). A field with a default may be missing from the
item (an optional attribute, or one older items lack) or null; a required one missing raises
``KeyError`` naming it, as a direct ``item[name]`` would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Model = TypeVar("Model", bound="DataclassInstance")
Decoder = Callable[[Any], object]


def decode_item(
    model: type[Model],
    item: Mapping[str, Any],
    decoders: Mapping[str, Decoder],
    attributes: Mapping[str, str] | None = None,
) -> Model:
    """``model`` built from ``item``: each field from its attribute (``attributes`` names those
    stored under another name than the field's) through its decoder in ``decoders`` (``str`` by
    default); a field with a default keeps it when the item lacks the attribute or holds null."""
    renamed = attributes or {}
    values: dict[str, object] = {}
    for field in fields(model):
        attribute = renamed.get(field.name, field.name)
        optional = field.default is not MISSING or field.default_factory is not MISSING
        if item.get(attribute) is not None or not optional:
            values[field.name] = decoders.get(field.name, str)(item[attribute])
    return model(**values)


def optional_decimal(value: Any) -> Decimal | None:
    """An amount attribute that may be absent or null."""
    return None if value is None else Decimal(value)


def texts(values: Any) -> tuple[str, ...]:
    """A list attribute of strings (a DynamoDB list or string set) as a tuple."""
    return tuple(str(each) for each in values)


def present(**values: Any) -> dict[str, Any]:
    """Those of ``values`` that are set: an optional attribute (or message field) left unset is
    left out, never written as null."""
    return {name: value for name, value in values.items() if value is not None}


def as_stored(value: Any) -> Any:
    """An attribute kept as DynamoDB gave it (a map of whatever was recorded)."""
    return value
