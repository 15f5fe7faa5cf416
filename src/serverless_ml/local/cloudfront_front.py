"""A CloudFront distribution in front of a Lambda@Edge request function, on 127.0.0.1.

Each GET or HEAD becomes a viewer-request or origin-request event shaped as
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
documents it; the function's answer is either the request to send on (to ``fetch_origin``) or a
response generated in the trigger (``status``, ``headers``, ``body``, ``bodyEncoding``:
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses.html).
When the function fails CloudFront answers 503 (function execution error), when it is throttled
503 (Lambda limit exceeded), when its answer is malformed 502 (Lambda validation error):
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/troubleshooting-response-errors.html

Not modelled: caching (every request is a miss), the cache and origin request policies (every
viewer header reaches the event; pass the CloudFront headers a policy would add as
``viewer_headers``), request bodies, and the header restrictions CloudFront validates.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from serverless_ml.core.limits import EDGE_REGION
from serverless_ml.core.plan_types import DistributionPlan, Joined, OriginPlan, Pseudo, Value
from serverless_ml.local.http_front import ACCOUNT_ID
from serverless_ml.local.http_server import (
    HOST,
    LocalRequest,
    LocalResponse,
    ServerStats,
    header_values,
    serve,
)
from serverless_ml.local.invocation import Invoke, InvokeResult

EVENT_TYPES: Final = ("viewer-request", "origin-request")
SERVED_METHODS: Final = ("GET", "HEAD")
# The documentation's example distribution.
DISTRIBUTION_ID: Final = "EDFDVBD6EXAMPLE"
DISTRIBUTION_DOMAIN: Final = "d111111abcdef8.cloudfront.net"
VIA: Final = "2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)"
ORIGIN_USER_AGENT: Final = "Amazon CloudFront"
# What CloudFront itself sets on a request it sends to the origin.
ORIGIN_SET_HEADERS: Final = frozenset({"host", "user-agent", "via", "x-forwarded-for"})
KEEPALIVE_TIMEOUT_S: Final = 5  # CloudFront's defaults for a custom origin
READ_TIMEOUT_S: Final = 30
PSEUDO_VALUES: Final = {"account_id": ACCOUNT_ID, "region": EDGE_REGION, "partition": "aws"}
NO_HEADERS: Final[Mapping[str, str]] = MappingProxyType({})

CfHeaders = dict[str, list[dict[str, str]]]


@dataclass(frozen=True, slots=True)
class EdgeRequest:
    """The request CloudFront sends on after the function: headers as (key, value) pairs;
    ``origin`` is the event's ``origin`` object (origin-request only)."""

    method: str
    uri: str
    querystring: str
    headers: tuple[tuple[str, str], ...]
    client_ip: str
    origin: Mapping[str, Any] | None = None

    def header(self, name: str) -> str | None:
        values = header_values(self.headers, name)
        return values[0] if values else None


EdgeDecision = EdgeRequest | LocalResponse
"""What the function decided: the request to forward, or the response to answer with."""
FetchOrigin = Callable[[EdgeRequest], LocalResponse]


# --- events ----------------------------------------------------------------------------------


def cf_headers(pairs: Iterable[tuple[str, str]]) -> CfHeaders:
    """``{"user-agent": [{"key": "User-Agent", "value": ...}], ...}``, one entry per line sent."""
    headers: CfHeaders = {}
    for name, value in pairs:
        headers.setdefault(name.lower(), []).append({"key": name, "value": value})
    return headers


def local_value(value: Value) -> str:
    """A plan value as text on this machine (pseudo parameters: the local account and region)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Pseudo):
        return PSEUDO_VALUES[value.name]
    if isinstance(value, Joined):
        return "".join(local_value(part) for part in value.parts)
    raise ValueError(f"{value} is known only after deploy: give the origin a domain name")


def origin_object(origin: OriginPlan) -> dict[str, Any]:
    """The origin-request event's ``origin``: ``s3`` behind origin access control, else
    ``custom`` over HTTPS."""
    domain = local_value(origin.domain_name)
    if origin.oac_name is not None:
        return {
            "s3": {
                "authMethod": "origin-access-identity",
                "customHeaders": {},
                "domainName": domain,
                "path": origin.origin_path,
                "region": EDGE_REGION,
            }
        }
    return {
        "custom": {
            "customHeaders": {},
            "domainName": domain,
            "keepaliveTimeout": KEEPALIVE_TIMEOUT_S,
            "path": origin.origin_path,
            "port": origin.https_port,
            "protocol": "https",
            "readTimeout": READ_TIMEOUT_S,
            "sslProtocols": list(origin.origin_ssl_protocols),
        }
    }


def _origin_domain(origin: Mapping[str, Any]) -> str:
    settings = origin.get("s3") or origin.get("custom")
    if not isinstance(settings, Mapping) or not isinstance(settings.get("domainName"), str):
        raise ValueError("origin must be {'s3': {...}} or {'custom': {...}} with a domainName")
    domain: str = settings["domainName"]
    return domain


def _origin_headers(
    request: LocalRequest, origin: Mapping[str, Any], viewer_headers: Mapping[str, str]
) -> list[tuple[str, str]]:
    """What reaches an origin-request function: the CloudFront viewer headers (the request's
    own win), the viewer's headers, and the ones CloudFront sets for the origin."""
    sent = {name.lower() for name, _ in request.headers}
    added = [(name, value) for name, value in viewer_headers.items() if name.lower() not in sent]
    kept = [(n, v) for n, v in request.headers if n.lower() not in ORIGIN_SET_HEADERS]
    forwarded_for = ", ".join(
        [*header_values(request.headers, "x-forwarded-for"), request.client_ip]
    )
    return [
        *added,
        *kept,
        ("Host", _origin_domain(origin)),
        ("User-Agent", ORIGIN_USER_AGENT),
        ("Via", VIA),
        ("X-Forwarded-For", forwarded_for),
    ]


def new_request_id() -> str:
    """An id shaped like CloudFront's ``x-amz-cf-id`` (56 characters of URL-safe base64)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(40)).decode("ascii")


def cloudfront_request_event(
    request: LocalRequest,
    *,
    event_type: str,
    distribution_id: str,
    distribution_domain: str,
    origin: Mapping[str, Any],
    viewer_headers: Mapping[str, str] = NO_HEADERS,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The ``Records[0].cf`` event for ``request``. A viewer-request event carries the viewer's
    headers as sent; an origin-request event also carries ``origin`` and the headers CloudFront
    adds for the origin (``viewer_headers`` such as ``CloudFront-Viewer-Country``, unless the
    request already has them, then Host, User-Agent, Via and X-Forwarded-For)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"event_type must be one of {EVENT_TYPES}, got {event_type!r}")
    origin_facing = event_type == "origin-request"
    headers = _origin_headers(request, origin, viewer_headers) if origin_facing else request.headers
    cf_request: dict[str, Any] = {
        "clientIp": request.client_ip,
        "headers": cf_headers(headers),
        "method": request.method,
        "querystring": request.query,
        "uri": request.path,
    }
    if origin_facing:
        cf_request["origin"] = dict(origin)
    config = {
        "distributionDomainName": distribution_domain,
        "distributionId": distribution_id,
        "eventType": event_type,
        "requestId": request_id or new_request_id(),
    }
    return {"Records": [{"cf": {"config": config, "request": cf_request}}]}


# --- the function's answer -------------------------------------------------------------------


def error_response(status: int, cause: str, detail: str) -> LocalResponse:
    """CloudFront's own error answer (``X-Cache: <cause> from cloudfront``)."""
    body = f"{status} ERROR\nThe request could not be satisfied.\n{detail}\n".encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("X-Cache", f"{cause} from cloudfront"),
    ]
    return LocalResponse(status, headers, body)


def _header_pairs(headers: object) -> list[tuple[str, str]]:
    """A function's ``headers`` object as (key, value) pairs (``key`` defaults to the name)."""
    if not isinstance(headers, Mapping):
        raise ValueError("headers must be an object")
    pairs = []
    for name, entries in headers.items():
        if not isinstance(entries, list):
            raise ValueError(f"header {name!r}: a list of {{key, value}}")
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise ValueError(f"header {name!r}: entries are {{key, value}} objects")
            key, value = entry.get("key") or name, entry.get("value")
            if not isinstance(value, str) or not isinstance(key, str) or key.lower() != name:
                raise ValueError(f"header {name!r}: each entry needs a value and a matching key")
            pairs.append((key, value))
    return pairs


def _generated(response: Mapping[str, Any]) -> LocalResponse:
    """A response generated in a request trigger (only ``status`` is required)."""
    status = str(response["status"])
    if not status.isdigit() or not 100 <= int(status) <= 599:
        raise ValueError(f"status {status!r} is not an HTTP status code")
    body = response.get("body") or ""
    encoding = response.get("bodyEncoding") or "text"
    if not isinstance(body, str) or encoding not in ("text", "base64"):
        raise ValueError("body must be a string and bodyEncoding text or base64")
    raw = base64.b64decode(body, validate=True) if encoding == "base64" else body.encode()
    headers = _header_pairs(response.get("headers") or {})
    headers.append(("X-Cache", "LambdaGeneratedResponse from cloudfront"))
    return LocalResponse(int(status), headers, raw)


def _forwarded(request: Mapping[str, Any], sent: Mapping[str, Any]) -> EdgeRequest:
    """The request the function returned (read-only fields must be as sent)."""
    uri, querystring = request.get("uri"), request.get("querystring", "")
    if not isinstance(uri, str) or not uri.startswith("/") or not isinstance(querystring, str):
        raise ValueError("uri must start with / and querystring be a string")
    for field in ("method", "clientIp"):
        if request.get(field, sent[field]) != sent[field]:
            raise ValueError(f"{field} is read-only")
    origin = request.get("origin", sent.get("origin"))
    return EdgeRequest(
        method=sent["method"],
        uri=uri,
        querystring=querystring,
        headers=tuple(_header_pairs(request.get("headers", {}))),
        client_ip=sent["clientIp"],
        origin=origin if isinstance(origin, Mapping) else None,
    )


def edge_result(result: InvokeResult, event: Mapping[str, Any]) -> EdgeDecision:
    """What CloudFront does with the function's answer to ``event``: forward the request it
    returned, answer the response it generated, or answer an error of its own."""
    if result.throttled:
        return error_response(503, "LambdaLimitExceeded", "The Lambda function was throttled.")
    if result.error is not None:
        return error_response(503, "LambdaExecutionError", "The Lambda function failed.")
    payload, sent = result.payload, event["Records"][0]["cf"]["request"]
    try:
        if isinstance(payload, Mapping) and "status" in payload:
            return _generated(payload)
        if isinstance(payload, Mapping):
            return _forwarded(payload, sent)
    except (ValueError, binascii.Error):
        pass
    return error_response(
        502, "LambdaValidationError", "The Lambda function returned an invalid response."
    )


# --- the distribution ------------------------------------------------------------------------


class CloudFrontFront:
    """One cache behaviour: build the event, invoke, then answer or fetch from the origin."""

    def __init__(
        self,
        distribution: DistributionPlan,
        event_type: str,
        invoke: Invoke,
        fetch_origin: FetchOrigin,
        *,
        viewer_headers: Mapping[str, str] = NO_HEADERS,
    ) -> None:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"event_type must be one of {EVENT_TYPES}, got {event_type!r}")
        self.distribution, self.event_type = distribution, event_type
        self._invoke, self._fetch_origin = invoke, fetch_origin
        self._viewer_headers = viewer_headers
        self._origin = origin_object(distribution.origin)

    def handle(self, request: LocalRequest) -> LocalResponse:
        request_id = new_request_id()
        response = self._answer(request, request_id)
        return LocalResponse(
            response.status, [*response.headers, ("X-Amz-Cf-Id", request_id)], response.body
        )

    def _answer(self, request: LocalRequest, request_id: str) -> LocalResponse:
        if request.method not in SERVED_METHODS:
            return error_response(
                403, "Error", "This distribution serves only GET and HEAD requests locally."
            )
        event = cloudfront_request_event(
            request,
            event_type=self.event_type,
            distribution_id=DISTRIBUTION_ID,
            distribution_domain=DISTRIBUTION_DOMAIN,
            origin=self._origin,
            viewer_headers=self._viewer_headers,
            request_id=request_id,
        )
        decision = edge_result(self._invoke(event), event)
        return decision if isinstance(decision, LocalResponse) else self._fetch(decision)

    def _fetch(self, request: EdgeRequest) -> LocalResponse:
        try:
            response = self._fetch_origin(request)
        except Exception:  # the origin cannot be reached: CloudFront's 502
            return error_response(502, "Error", "CloudFront could not connect to the origin.")
        headers = [*response.headers, ("Via", VIA), ("X-Cache", "Miss from cloudfront")]
        return LocalResponse(response.status, headers, response.body)


@contextlib.contextmanager
def serve_cloudfront(
    distribution: DistributionPlan,
    event_type: str,
    invoke: Invoke,
    fetch_origin: FetchOrigin,
    *,
    host: str = HOST,
    port: int = 0,
    viewer_headers: Mapping[str, str] = NO_HEADERS,
    stats: ServerStats | None = None,
) -> Iterator[str]:
    """``distribution``'s default behaviour with ``invoke`` associated at ``event_type``, in
    front of ``fetch_origin``, on ``host:port``; yields the base URL. ``viewer_headers`` are the
    CloudFront headers an origin request policy would add (``CloudFront-Viewer-Country``);
    every request's status and latency go to ``stats`` when given."""
    front = CloudFrontFront(
        distribution, event_type, invoke, fetch_origin, viewer_headers=viewer_headers
    )
    with serve(front.handle, host=host, port=port, stats=stats) as url:
        yield url
