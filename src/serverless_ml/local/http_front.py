"""An API Gateway HTTP API or a Lambda function URL in front of a function, on 127.0.0.1.

Requests become Lambda events and the function's answers HTTP responses the way
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
(payload formats 1.0 and 2.0, both response formats) and
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html (function URLs: payload 2.0,
``routeKey`` ``$default``) document them. Fields AWS leaves out when empty (``cookies``,
``queryStringParameters``, ``body``, ``pathParameters``) are left out in 2.0 and null in 1.0.

An HTTP API serves its one route (404 ``Not Found`` elsewhere) under stage throttling (a token
bucket, 429 ``Too Many Requests``); a function URL serves every path with no throttle of its own.
Both answer 429 when the function is at its concurrency and 500 ``Internal Server Error`` when
it fails or returns what the front cannot turn into a response.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from serverless_ml.core.plan_types import HttpPlan
from serverless_ml.local.http_server import (
    HOST,
    LocalRequest,
    LocalResponse,
    ServerStats,
    serve,
)
from serverless_ml.local.invocation import Invoke, InvokeResult

PAYLOAD_VERSIONS: Final = ("1.0", "2.0")
ACCOUNT_ID: Final = "123456789012"  # the documentation's example account
REGION: Final = "us-east-1"
DEFAULT_ROUTE: Final = "$default"
NOT_FOUND: Final = {"message": "Not Found"}
TOO_MANY_REQUESTS: Final = {"message": "Too Many Requests"}
INTERNAL_ERROR: Final = {"message": "Internal Server Error"}
JSON_TYPE: Final = "application/json"
# Bodies of these content types reach the function as text when they are UTF-8; every other
# body is base64 (the documentation: "If the content type of the request is binary, the body
# is base64-encoded").
TEXT_SUBTYPES: Final = ("json", "xml", "javascript", "x-www-form-urlencoded", "yaml", "graphql")
# The caller a SigV4-signed request carries (placeholders shaped like the documentation's).
IAM_CALLER: Final = {
    "accessKey": "AKIA...",
    "accountId": "111122223333",
    "callerId": "AIDA...",
    "cognitoIdentity": None,
    "principalOrgId": None,
    "userArn": "arn:aws:iam::111122223333:user/example-user",
    "userId": "AIDA...",
}
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip
_PATH_VARIABLE: Final = re.compile(r"\{([^{}+]+)(\+?)\}")

Clock = Callable[[], float]


class TokenBucket:
    """HTTP API stage throttling: ``burst`` requests at once, refilled at ``rate_per_s``."""

    def __init__(self, rate_per_s: float, burst: int, clock: Clock = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate_per_s, burst, clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Spend one token; False (throttle the request) when there is none."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
            self._at = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


# --- requests --------------------------------------------------------------------------------


def endpoint_id(plan: HttpPlan) -> str:
    """A stable API id (10 characters) or URL id (32) for the endpoint, like AWS's."""
    digest = hashlib.sha256(f"{plan.endpoint}/{plan.name}/{plan.key}".encode()).digest()
    ident = base64.b32encode(digest).decode("ascii").lower()
    return ident[:32] if plan.endpoint == "function_url" else ident[:10]


def endpoint_domain(plan: HttpPlan) -> str:
    """``<api-id>.execute-api.<region>.amazonaws.com`` or ``<url-id>.lambda-url.<region>.on.aws``."""
    if plan.endpoint == "function_url":
        return f"{endpoint_id(plan)}.lambda-url.{REGION}.on.aws"
    return f"{endpoint_id(plan)}.execute-api.{REGION}.amazonaws.com"


@functools.lru_cache(maxsize=64)
def _route_pattern(path: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """``/items/{id}/{rest+}`` as a regex and its variable names (``+`` takes the rest)."""
    parts, names, end = [], [], 0
    for variable in _PATH_VARIABLE.finditer(path):
        parts += [re.escape(path[end : variable.start()]), "(.+)" if variable[2] else "([^/]+)"]
        names.append(variable[1])
        end = variable.end()
    parts.append(re.escape(path[end:]))
    return re.compile("".join(parts) + r"\Z"), tuple(names)


def route_parameters(plan: HttpPlan, request: LocalRequest) -> dict[str, str] | None:
    """The path variables when the request matches the endpoint's route, None when it does not
    (a function URL takes every request; an HTTP API route is ``METHOD /path``, ``ANY`` or
    ``$default``)."""
    if plan.endpoint == "function_url" or plan.method == DEFAULT_ROUTE:
        return {}
    if plan.method not in ("ANY", request.method):
        return None
    pattern, names = _route_pattern(plan.path)
    match = pattern.match(request.path)
    if match is None:
        return None
    return {name: unquote(value) for name, value in zip(names, match.groups(), strict=True)}


def route_key(plan: HttpPlan) -> str:
    if plan.endpoint == "function_url" or plan.method == DEFAULT_ROUTE:
        return DEFAULT_ROUTE
    return f"{plan.method} {plan.path}"


def request_time(epoch_s: float) -> str:
    """``12/Mar/2020:19:03:58 +0000`` (English month names whatever the locale)."""
    t = time.gmtime(epoch_s)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{time.strftime('%H:%M:%S', t)} +0000"
    )


def _grouped(pairs: Iterable[tuple[str, str]], *, fold_case: bool) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for name, value in pairs:
        groups.setdefault(name.lower() if fold_case else name, []).append(value)
    return groups


def _is_text(content_type: str | None) -> bool:
    if content_type is None:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    subtype = kind.partition("/")[2]
    return kind.startswith("text/") or subtype.split("+")[-1] in TEXT_SUBTYPES


def _body(request: LocalRequest) -> tuple[str | None, bool]:
    """(body, isBase64Encoded): UTF-8 text as is, anything else base64; None when empty."""
    if not request.body:
        return None, False
    if _is_text(request.header("content-type")):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode("ascii"), True


def check_payload_version(plan: HttpPlan, payload_version: str) -> None:
    """ValueError unless the endpoint can send ``payload_version`` (function URLs: 2.0 only)."""
    if payload_version not in PAYLOAD_VERSIONS:
        raise ValueError(f"payload_version must be one of {PAYLOAD_VERSIONS}: {payload_version!r}")
    if plan.endpoint == "function_url" and payload_version != "2.0":
        raise ValueError("function URLs send payload format 2.0 only")


def http_api_event(
    request: LocalRequest,
    plan: HttpPlan,
    *,
    payload_version: str,
    now: float | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The event the endpoint sends the function for ``request`` (payload ``1.0`` or ``2.0``).

    ``now`` (epoch seconds) and ``request_id`` default to the clock and a new UUID. With
    ``auth == "iam"`` the event carries the caller block of a signed request
    (``requestContext.authorizer.iam`` in 2.0, ``requestContext.identity`` in 1.0); nothing
    is verified.
    """
    check_payload_version(plan, payload_version)
    epoch_s = time.time() if now is None else now
    context = {
        "accountId": ACCOUNT_ID,
        "apiId": endpoint_id(plan),
        "domainName": endpoint_domain(plan),
        "domainPrefix": endpoint_id(plan),
        "requestId": request_id or str(uuid.uuid4()),
        "stage": plan.stage_name if plan.endpoint == "http_api" else DEFAULT_ROUTE,
    }
    parameters = route_parameters(plan, request) or {}
    if payload_version == "1.0":
        return _event_v1(request, plan, context, epoch_s, parameters)
    return _event_v2(request, plan, context, epoch_s, parameters)


def _event_v2(
    request: LocalRequest,
    plan: HttpPlan,
    base: dict[str, Any],
    epoch_s: float,
    parameters: dict[str, str],
) -> dict[str, Any]:
    headers = _grouped(request.headers, fold_case=True)
    cookies = [c.strip() for v in headers.pop("cookie", []) for c in v.split(";") if c.strip()]
    query = _grouped(parse_qsl(request.query, keep_blank_values=True), fold_case=False)
    body, encoded = _body(request)
    context = {**base, **_authorizer_v2(plan)}
    context["http"] = {
        "method": request.method,
        "path": request.path,
        "protocol": request.protocol,
        "sourceIp": request.client_ip,
        "userAgent": request.header("user-agent") or "",
    }
    context.update(
        routeKey=route_key(plan), time=request_time(epoch_s), timeEpoch=int(epoch_s * 1000)
    )
    optional = {
        "cookies": cookies,
        "queryStringParameters": {name: ",".join(values) for name, values in query.items()},
        "body": body,
        "pathParameters": parameters,
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key(plan),
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": {name: ",".join(values) for name, values in headers.items()},
        "requestContext": context,
        "isBase64Encoded": encoded,
    }
    event.update({key: value for key, value in optional.items() if value not in (None, [], {})})
    return event


def _authorizer_v2(plan: HttpPlan) -> dict[str, Any]:
    """Function URLs always carry ``authentication`` and ``authorizer`` (null without IAM)."""
    iam = {"iam": dict(IAM_CALLER)} if plan.auth == "iam" else None
    if plan.endpoint == "function_url":
        return {"authentication": None, "authorizer": iam}
    return {} if iam is None else {"authorizer": iam}


def _event_v1(
    request: LocalRequest,
    plan: HttpPlan,
    base: dict[str, Any],
    epoch_s: float,
    parameters: dict[str, str],
) -> dict[str, Any]:
    """Payload 1.0: single-value maps hold the last value, multi-value maps every value."""
    headers = _grouped(request.headers, fold_case=False)
    query = _grouped(parse_qsl(request.query, keep_blank_values=True), fold_case=False)
    body, encoded = _body(request)
    resource = plan.path or DEFAULT_ROUTE
    context = {
        **base,
        "extendedRequestId": base["requestId"],
        "httpMethod": request.method,
        "identity": _identity_v1(plan, request),
        "path": request.path,
        "protocol": request.protocol,
        "requestTime": request_time(epoch_s),
        "requestTimeEpoch": int(epoch_s * 1000),
        "resourceId": None,
        "resourcePath": resource,
    }
    return {
        "version": "1.0",
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in headers.items()},
        "multiValueHeaders": headers,
        "queryStringParameters": {n: v[-1] for n, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "requestContext": context,
        "pathParameters": parameters or None,
        "stageVariables": None,
        "body": body,
        "isBase64Encoded": encoded,
    }


def _identity_v1(plan: HttpPlan, request: LocalRequest) -> dict[str, Any]:
    signed = plan.auth == "iam"
    return {
        "accessKey": IAM_CALLER["accessKey"] if signed else None,
        "accountId": IAM_CALLER["accountId"] if signed else None,
        "caller": IAM_CALLER["callerId"] if signed else None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": request.client_ip,
        "user": IAM_CALLER["userId"] if signed else None,
        "userAgent": request.header("user-agent") or "",
        "userArn": IAM_CALLER["userArn"] if signed else None,
    }


# --- responses -------------------------------------------------------------------------------


def json_response(status: int, payload: object) -> LocalResponse:
    return LocalResponse(status, [("Content-Type", JSON_TYPE)], json.dumps(payload).encode())


def http_response(result: InvokeResult, payload_version: str) -> LocalResponse:
    """What the endpoint answers for ``result``: the function's response (``statusCode``,
    ``headers``, 1.0 ``multiValueHeaders``, 2.0 ``cookies`` as ``Set-Cookie``, ``body`` decoded
    when ``isBase64Encoded``); in 2.0 any other JSON value is a 200 ``application/json`` body."""
    if result.throttled:
        return json_response(429, TOO_MANY_REQUESTS)
    if result.error is not None:
        return json_response(500, INTERNAL_ERROR)
    payload = result.payload
    if isinstance(payload, Mapping) and "statusCode" in payload:
        return _structured(payload, payload_version) or json_response(500, INTERNAL_ERROR)
    if payload_version == "2.0":
        return json_response(200, payload)
    return json_response(500, INTERNAL_ERROR)  # 1.0 requires statusCode


def _status(value: object) -> int | None:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        return None
    return value


def _response_headers(payload: Mapping[str, Any], payload_version: str) -> list[tuple[str, str]]:
    """``headers``, then ``multiValueHeaders`` (which win for a name in both), then cookies."""
    single = payload.get("headers") or {}
    multi = (payload.get("multiValueHeaders") or {}) if payload_version == "1.0" else {}
    cookies = (payload.get("cookies") or []) if payload_version == "2.0" else []
    if not (isinstance(single, Mapping) and isinstance(multi, Mapping)):
        raise ValueError("headers must be objects")
    if not isinstance(cookies, list):
        raise ValueError("cookies must be a list")
    replaced = {str(name).lower() for name in multi}
    headers = [(str(n), str(v)) for n, v in single.items() if str(n).lower() not in replaced]
    for name, values in multi.items():
        if not isinstance(values, list):
            raise ValueError("multiValueHeaders values must be lists")
        headers += [(str(name), str(value)) for value in values]
    return headers + [("Set-Cookie", str(cookie)) for cookie in cookies]


def _structured(payload: Mapping[str, Any], payload_version: str) -> LocalResponse | None:
    """The response a ``statusCode`` payload describes, None if it is malformed."""
    status = _status(payload.get("statusCode"))
    body = payload.get("body")
    if status is None or not isinstance(body, str | None):
        return None
    try:
        headers = _response_headers(payload, payload_version)
        raw = (
            base64.b64decode(body or "", validate=True)
            if payload.get("isBase64Encoded") is True
            else (body or "").encode("utf-8")
        )
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return None
    return LocalResponse(status, headers, raw)


# --- the front -------------------------------------------------------------------------------


class HttpFront:
    """Route, throttle, invoke, answer: one request at a time, from any number of threads."""

    def __init__(
        self,
        plan: HttpPlan,
        invoke: Invoke,
        *,
        payload_version: str | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.plan = plan
        self.payload_version = payload_version or plan.payload_format_version
        check_payload_version(plan, self.payload_version)
        self._invoke = invoke
        self._bucket = (
            TokenBucket(plan.throttle_rate_per_s, plan.throttle_burst, clock)
            if plan.endpoint == "http_api"
            else None
        )

    def handle(self, request: LocalRequest) -> LocalResponse:
        if route_parameters(self.plan, request) is None:
            return json_response(404, NOT_FOUND)
        if self._bucket is not None and not self._bucket.take():
            return json_response(429, TOO_MANY_REQUESTS)
        event = http_api_event(request, self.plan, payload_version=self.payload_version)
        return http_response(self._invoke(event), self.payload_version)


@contextlib.contextmanager
def serve_http(
    plan: HttpPlan,
    invoke: Invoke,
    *,
    host: str = HOST,
    port: int = 0,
    payload_version: str | None = None,
    clock: Clock = time.monotonic,
    stats: ServerStats | None = None,
) -> Iterator[str]:
    """The endpoint ``plan`` describes, in front of ``invoke``, on ``host:port``; yields the base
    URL. ``payload_version`` overrides the plan's; ``clock`` drives the throttle; every request's
    status and latency go to ``stats`` when given.

    IAM auth is not verified locally: with ``auth == "iam"`` any request is let through and its
    event carries the caller block a signed request would (see ``http_api_event``).
    """
    front = HttpFront(plan, invoke, payload_version=payload_version, clock=clock)
    with serve(front.handle, host=host, port=port, stats=stats) as url:
        yield url
