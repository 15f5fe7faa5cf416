"""HTTP requests and responses from every Lambda HTTP front: HTTP API (payload 2.0 and 1.0),
function URLs, and API Gateway REST APIs (Lambda proxy, payload 1.0).

Payload 2.0 ("version": "2.0", "rawPath", "requestContext.http.method") is what HTTP APIs and
function URLs send; payload 1.0 ("httpMethod", "path", "resource") is what REST APIs send (and
HTTP APIs configured for 1.0). Both carry "body" and "isBase64Encoded", and both accept the same
``{"statusCode", "headers", "body", "isBase64Encoded"}`` response:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
Bodies are parsed strictly: size-capped, valid UTF-8, one JSON object, no NaN/Infinity (Python's
``json`` accepts them by default), no duplicate keys. Every client mistake is a ``RequestError``
naming the offending part, never an exception that would turn into a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from typing import Any, Final

JSON_HEADERS: Final = {"Content-Type": "application/json"}
INT_LIMIT: Final = 2**63  # larger integers are rejected: no transaction field needs them


class RequestError(ValueError):
    """A client error; ``fields`` maps the offending part ("body", a field name) to a message."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in fields.items()))
        self.fields = dict(fields)


def is_http_event(event: object) -> bool:
    """True for a payload 2.0 (HTTP API, function URL) or 1.0 (REST API proxy) request."""
    if not isinstance(event, dict) or not isinstance(event.get("requestContext"), Mapping):
        return False
    return "rawPath" in event or (
        "httpMethod" in event and ("path" in event or "resource" in event)
    )


def method(event: Mapping[str, Any]) -> str:
    """The request's HTTP method, upper-case ('' when absent), from either payload format."""
    value = event.get("httpMethod")
    if value is None:
        context = event.get("requestContext")
        http = context.get("http") if isinstance(context, Mapping) else None
        value = http.get("method") if isinstance(http, Mapping) else None
    return value.upper() if isinstance(value, str) else ""


def _reject_constant(name: str) -> Any:
    raise RequestError({"body": f"{name} is not valid JSON"})


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise RequestError({"body": f"number {text[:40]} is out of range"})
    return value


def _bounded_int(text: str) -> int:
    value = int(text)
    if not -INT_LIMIT <= value <= INT_LIMIT:
        raise RequestError({"body": f"integer {text[:40]} is out of range"})
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise RequestError({"body": f"duplicate key {key[:64]!r}"})
        result[key] = value
    return result


_DECODER: Final = json.JSONDecoder(
    parse_constant=_reject_constant,
    parse_float=_finite_float,
    parse_int=_bounded_int,
    object_pairs_hook=_unique_keys,
)
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _body_bytes(event: Mapping[str, Any], max_bytes: int) -> bytes:
    body = event.get("body")
    if body is None or body == "":
        raise RequestError({"body": "missing request body"})
    if not isinstance(body, str):
        raise RequestError({"body": "request body must be a string"})
    if event.get("isBase64Encoded") is True:
        if len(body) > 4 * (max_bytes // 3 + 1):  # cheap bound before decoding anything big
            raise RequestError({"body": f"request body exceeds {max_bytes} bytes"})
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError({"body": "request body is not valid base64"}) from None
    else:
        if len(body) > max_bytes:  # characters <= UTF-8 bytes: a safe early reject
            raise RequestError({"body": f"request body exceeds {max_bytes} bytes"})
        raw = body.encode("utf-8", errors="surrogatepass")
    if len(raw) > max_bytes:
        raise RequestError({"body": f"request body exceeds {max_bytes} bytes"})
    return raw


def json_object_body(event: Mapping[str, Any], *, max_bytes: int) -> dict[str, Any]:
    """The request body as one JSON object, or ``RequestError``."""
    raw = _body_bytes(event, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError({"body": "request body is not valid UTF-8"}) from None
    try:
        parsed = _DECODER.decode(text)
    except RequestError:
        raise
    except json.JSONDecodeError as error:
        raise RequestError(
            {"body": f"malformed JSON: {error.msg} at position {error.pos}"}
        ) from None
    except (RecursionError, ValueError):  # nested too deeply; an integer over 4300 digits
        raise RequestError(
            {"body": "malformed JSON: nested too deeply or number too long"}
        ) from None
    if not isinstance(parsed, dict):
        raise RequestError({"body": f"expected a JSON object, got {_json_type(parsed)}"})
    return parsed


def _json_type(value: object) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def json_response(
    status: int, payload: object, *, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An HTTP API 2.0 / function URL response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": _ENCODER.encode(payload),
        "isBase64Encoded": False,
    }
