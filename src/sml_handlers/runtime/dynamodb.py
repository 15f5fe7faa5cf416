"""DynamoDB JSON (stream images) to plain Python values, without boto3.

Attribute values are single-key objects naming their type ({"S": "x"}, {"N": "1.5"}, ...):
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html
Numbers become ``int`` when written as integers, else finite ``float``; sets become lists.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Mapping
from typing import Any, Final


class ImageError(ValueError):
    """A stream image that is not valid DynamoDB JSON."""


def _number(text: object) -> int | float:
    if not isinstance(text, str):
        raise ImageError(f"N value must be a string, got {type(text).__name__}")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise ImageError(f"N value {text[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise ImageError(f"N value {text[:40]!r} is not finite")
    return value


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise ImageError(f"S value must be a string, got {type(value).__name__}")
    return value


def _binary(value: object) -> bytes:
    if not isinstance(value, str):
        raise ImageError("B value must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII characters in the string
        raise ImageError("B value is not valid base64") from None


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ImageError("BOOL value must be true or false")
    return value


def _null(value: object) -> None:
    if value is not True:
        raise ImageError("NULL value must be true")


def _items(value: object, kind: str) -> list[Any]:
    if not isinstance(value, list):
        raise ImageError(f"{kind} value must be a list")
    return value


# DynamoDB allows 32 levels of nested maps and lists; deeper input is not DynamoDB JSON (and
# would exhaust Python's recursion limit).
MAX_DEPTH: Final = 32

_SCALARS: dict[str, Callable[[object], Any]] = {
    "S": _string,
    "N": _number,
    "B": _binary,
    "BOOL": _boolean,
    "NULL": _null,
    "SS": lambda value: [_string(item) for item in _items(value, "SS")],
    "NS": lambda value: [_number(item) for item in _items(value, "NS")],
    "BS": lambda value: [_binary(item) for item in _items(value, "BS")],
}


def attribute_value(typed: object, *, depth: int = 0) -> Any:
    """Decode one attribute value such as ``{"N": "42"}`` (``depth``: its nesting level)."""
    if not isinstance(typed, Mapping) or len(typed) != 1:
        raise ImageError("an attribute value must be an object with exactly one type key")
    ((kind, value),) = typed.items()
    if kind in ("M", "L"):
        if depth >= MAX_DEPTH:
            raise ImageError(f"nested deeper than DynamoDB's {MAX_DEPTH} levels")
        if kind == "M":
            return from_dynamodb_image(value, depth=depth + 1)
        return [attribute_value(item, depth=depth + 1) for item in _items(value, "L")]
    decoder = _SCALARS.get(kind)
    if decoder is None:
        raise ImageError(f"unknown attribute type {str(kind)[:20]!r}")
    return decoder(value)


def from_dynamodb_image(image: object, *, depth: int = 0) -> dict[str, Any]:
    """Decode a whole item image (``NewImage``/``OldImage``) into a plain dict."""
    if not isinstance(image, Mapping):
        raise ImageError("an item image must be an object")
    decoded: dict[str, Any] = {}
    for name, typed in image.items():
        try:
            decoded[str(name)] = attribute_value(typed, depth=depth)
        except ImageError as error:
            raise ImageError(f"attribute {str(name)[:64]!r}: {error}") from None
    return decoded
