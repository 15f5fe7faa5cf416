"""The local HTTP API / function URL front over a real server on a free port: the events it
sends (payload 2.0 and 1.0, field by field), how it answers (routes, stage throttling, function
errors, cookies, binary bodies), its stats, and the real fraud handler behind it."""

from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from email.message import Message
from types import ModuleType
from typing import Any

import pytest

from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import HttpPlan
from serverless_ml.local.events import http_event
from serverless_ml.local.http_front import (
    IAM_CALLER,
    endpoint_id,
    http_api_event,
    http_response,
    request_time,
    serve_http,
)
from serverless_ml.local.http_server import LocalRequest, ServerStats
from serverless_ml.local.invocation import FunctionError, Invoke, InvokeResult
from serverless_ml.reference.scenarios import fraud_detection
from tests.function_code.conftest import FRAUD_MODEL_DIR
from tests.function_code.handler_events import sample_transactions
from tests.function_code.handlers import import_with_model

FRAUD_HTTP = next(b for b in build_plan(fraud_detection()).bindings if isinstance(b, HttpPlan))
API = dataclasses.replace(FRAUD_HTTP, auth="none")  # POST /score, rate 100/s, burst 200
URL = dataclasses.replace(API, endpoint="function_url")
TIME = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")
OK = {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"}


# --- helpers (the CloudFront front's tests use them too) -------------------------------------


@dataclasses.dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    url: str,
    *,
    method: str = "POST",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request with urllib (an HTTP error status is a reply, not an exception)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


def send_raw(
    url: str, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes = b""
) -> Reply:
    """One request whose headers may repeat (urllib takes a dict), over http.client."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (*headers, ("Content-Length", str(len(body)))):
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


class FakeFunction:
    """An ``Invoke`` that records its events and answers ``answer`` (a payload, or a whole
    ``InvokeResult``)."""

    def __init__(self, answer: Any = OK) -> None:
        self.answer = answer
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> InvokeResult:
        self.events.append(json.loads(json.dumps(event)))
        if isinstance(self.answer, InvokeResult):
            return self.answer
        return InvokeResult(request_id=str(uuid.uuid4()), payload=self.answer)


def in_process(handler: Callable[[Any, Any], Any]) -> Invoke:
    """A handler imported in this process as an ``Invoke``: JSON in and out, as Lambda passes
    them; an exception is the function error Lambda would report."""

    def invoke(event: dict[str, Any]) -> InvokeResult:
        request_id = str(uuid.uuid4())
        try:
            payload = json.loads(json.dumps(handler(json.loads(json.dumps(event)), None)))
        except Exception as error:
            return InvokeResult(request_id, error=FunctionError(type(error).__name__, str(error)))
        return InvokeResult(request_id, payload=payload)

    return invoke


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fn() -> FakeFunction:
    return FakeFunction()


@pytest.fixture
def api(fn: FakeFunction) -> Iterator[str]:
    with serve_http(API, fn) as url:
        yield url


# --- payload 2.0 -----------------------------------------------------------------------------


def test_an_http_api_request_becomes_a_2_0_event_field_by_field(api: str, fn: FakeFunction) -> None:
    before_ms = int(time.time() * 1000)  # timeEpoch is whole milliseconds, truncated
    reply = send_raw(
        api,
        "POST",
        "/score?b=2&a=1&a=3&q=x%20y",
        [
            ("Content-Type", "application/json"),
            ("User-Agent", "test-agent/1.0"),
            ("X-Tag", "one"),
            ("X-Tag", "two"),
            ("Cookie", "session=abc; theme=dark"),
            ("Cookie", "extra=1"),
        ],
        b'{"amount": 12.5}',
    )
    assert (reply.status, reply.body) == (200, b"ok")
    (event,) = fn.events
    context = event.pop("requestContext")
    assert event == {
        "version": "2.0",
        "routeKey": "POST /score",
        "rawPath": "/score",
        "rawQueryString": "b=2&a=1&a=3&q=x%20y",
        "cookies": ["session=abc", "theme=dark", "extra=1"],
        "headers": {
            "content-length": "16",
            "content-type": "application/json",
            "host": api.removeprefix("http://"),
            "user-agent": "test-agent/1.0",
            "x-tag": "one,two",
        },
        "queryStringParameters": {"b": "2", "a": "1,3", "q": "x y"},
        "body": '{"amount": 12.5}',
        "isBase64Encoded": False,
    }
    api_id = endpoint_id(API)
    assert len(api_id) == 10
    assert context.pop("http") == {
        "method": "POST",
        "path": "/score",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "test-agent/1.0",
    }
    assert before_ms <= context["timeEpoch"] <= time.time() * 1000
    assert TIME.match(context["time"])
    assert context.pop("time") == request_time(context.pop("timeEpoch") / 1000)
    assert uuid.UUID(context.pop("requestId"))
    assert context == {
        "accountId": "123456789012",
        "apiId": api_id,
        "domainName": f"{api_id}.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": api_id,
        "routeKey": "POST /score",
        "stage": "$default",
    }


def test_a_function_url_takes_every_path_with_route_key_default() -> None:
    fn = FakeFunction()
    with serve_http(URL, fn) as url:
        assert send(f"{url}/any/path?x=1", method="GET").status == 200
        assert send(f"{url}/", method="DELETE").status == 200
    first, second = fn.events
    assert (first["routeKey"], first["rawPath"], first["rawQueryString"]) == (
        "$default",
        "/any/path",
        "x=1",
    )
    assert "body" not in first and "cookies" not in first and "pathParameters" not in first
    context = first["requestContext"]
    url_id = endpoint_id(URL)
    assert len(url_id) == 32
    assert (context["apiId"], context["domainPrefix"]) == (url_id, url_id)
    assert context["domainName"] == f"{url_id}.lambda-url.us-east-1.on.aws"
    assert (context["routeKey"], context["stage"]) == ("$default", "$default")
    assert (context["authentication"], context["authorizer"]) == (None, None)
    assert second["requestContext"]["http"]["method"] == "DELETE"


@pytest.mark.parametrize(
    "plan", [FRAUD_HTTP, dataclasses.replace(FRAUD_HTTP, endpoint="function_url")]
)
def test_iam_auth_is_not_verified_but_the_event_carries_a_signed_caller(plan: HttpPlan) -> None:
    fn = FakeFunction()
    with serve_http(plan, fn) as url:
        assert send(f"{url}/score", body=b"{}").status == 200  # no signature: still let through
    assert fn.events[0]["requestContext"]["authorizer"] == {"iam": IAM_CALLER}


@pytest.mark.parametrize(
    ("content_type", "body", "encoded"),
    [
        ("application/octet-stream", b"\x00\xffbinary", True),
        ("image/png", b"looks like text", True),
        ("text/plain", b"\xff\xfe not utf-8", True),
        ("application/json; charset=utf-8", '{"name": "Zoë"}'.encode(), False),
        ("application/vnd.api+json", b"{}", False),
        ("text/csv", b"a,b\n1,2", False),
    ],
)
def test_binary_bodies_are_base64_and_text_is_as_sent(
    api: str, fn: FakeFunction, content_type: str, body: bytes, encoded: bool
) -> None:
    assert send(f"{api}/score", body=body, headers={"Content-Type": content_type}).status == 200
    event = fn.events[0]
    assert event["isBase64Encoded"] is encoded
    assert (base64.b64decode(event["body"]) if encoded else event["body"].encode()) == body


# --- payload 1.0 -----------------------------------------------------------------------------


def test_payload_1_0_has_single_and_multi_value_maps() -> None:
    fn = FakeFunction()
    with serve_http(API, fn, payload_version="1.0") as url:
        target = "/score?a=1&a=3&b=2"
        headers = [("X-Tag", "one"), ("X-Tag", "two"), ("Cookie", "a=1"), ("User-Agent", "ua")]
        assert send_raw(url, "POST", target, headers, b"hello").status == 200
    (event,) = fn.events
    context = event.pop("requestContext")
    assert event.pop("headers") == {
        "Host": url.removeprefix("http://"),
        "X-Tag": "two",
        "Cookie": "a=1",
        "User-Agent": "ua",
        "Content-Length": "5",
    }
    assert event.pop("multiValueHeaders")["X-Tag"] == ["one", "two"]
    assert event == {
        "version": "1.0",
        "resource": "/score",
        "path": "/score",
        "httpMethod": "POST",
        "queryStringParameters": {"a": "3", "b": "2"},
        "multiValueQueryStringParameters": {"a": ["1", "3"], "b": ["2"]},
        "pathParameters": None,
        "stageVariables": None,
        "body": "hello",
        "isBase64Encoded": False,
    }
    assert TIME.match(context.pop("requestTime"))
    assert isinstance(context.pop("requestTimeEpoch"), int)
    assert context.pop("extendedRequestId") == context.pop("requestId")
    identity = context.pop("identity")
    assert (identity["sourceIp"], identity["userAgent"], identity["userArn"]) == (
        "127.0.0.1",
        "ua",
        None,
    )
    assert context == {
        "accountId": "123456789012",
        "apiId": endpoint_id(API),
        "domainName": f"{endpoint_id(API)}.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": endpoint_id(API),
        "httpMethod": "POST",
        "path": "/score",
        "protocol": "HTTP/1.1",
        "resourceId": None,
        "resourcePath": "/score",
        "stage": "$default",
    }


def test_payload_1_0_identity_carries_the_iam_caller() -> None:
    event = http_api_event(LocalRequest("POST", "/score"), FRAUD_HTTP, payload_version="1.0")
    identity = event["requestContext"]["identity"]
    assert (identity["accessKey"], identity["userArn"]) == (
        IAM_CALLER["accessKey"],
        IAM_CALLER["userArn"],
    )
    assert (event["body"], event["queryStringParameters"]) == (None, None)


@pytest.mark.parametrize(("plan", "version"), [(URL, "1.0"), (API, "3.0")])
def test_payload_versions_an_endpoint_cannot_send_are_refused(plan: HttpPlan, version: str) -> None:
    with (
        pytest.raises(ValueError, match="payload"),
        serve_http(plan, FakeFunction(), payload_version=version),
    ):
        pass


def test_path_variables_become_path_parameters() -> None:
    plan = dataclasses.replace(API, method="ANY", path="/items/{id}/{rest+}")
    request = LocalRequest("GET", "/items/42/a/b%20c")
    event = http_api_event(request, plan, payload_version="2.0")
    assert event["routeKey"] == "ANY /items/{id}/{rest+}"
    assert event["pathParameters"] == {"id": "42", "rest": "a/b c"}
    v1 = http_api_event(request, plan, payload_version="1.0")
    assert (v1["resource"], v1["pathParameters"]) == (
        "/items/{id}/{rest+}",
        {"id": "42", "rest": "a/b c"},
    )


def test_the_sample_events_are_the_fronts_events() -> None:
    """``events.http_event`` (the handler tests' events) is this front's event for a sample
    request, so both stay one shape."""
    event = http_event('{"a": 1}')
    assert event["requestContext"]["apiId"] == event["requestContext"]["domainPrefix"]
    assert event["requestContext"]["time"] == request_time(
        event["requestContext"]["timeEpoch"] / 1000
    )
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)
    assert http_event("{}", kind="function_url")["requestContext"]["authorizer"] == {
        "iam": IAM_CALLER
    }


# --- answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/score"), ("POST", "/other"), ("POST", "/score/x"), ("POST", "/")]
)
def test_other_routes_are_404_and_never_invoke(
    api: str, fn: FakeFunction, method: str, path: str
) -> None:
    reply = send(f"{api}{path}", method=method, body=b"{}" if method == "POST" else None)
    assert (reply.status, reply.json()) == (404, {"message": "Not Found"})
    assert reply.headers["Content-Type"] == "application/json"
    assert fn.events == []


def test_the_stage_throttle_is_a_token_bucket() -> None:
    fn, clock = FakeFunction(), FakeClock()
    plan = dataclasses.replace(API, throttle_rate_per_s=2, throttle_burst=3)
    with serve_http(plan, fn, clock=clock) as url:
        statuses = [send(f"{url}/score", body=b"{}").status for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = send(f"{url}/score", body=b"{}")
        assert limited.json() == {"message": "Too Many Requests"}
        clock.now += 0.5  # one token back at 2/s
        assert [send(f"{url}/score", body=b"{}").status for _ in range(2)] == [200, 429]
        clock.now += 10.0  # refilled to the burst, not beyond
        assert [send(f"{url}/score", body=b"{}").status for _ in range(4)] == [200, 200, 200, 429]
    assert len(fn.events) == 7


def test_a_function_url_has_no_stage_throttle() -> None:
    plan = dataclasses.replace(URL, throttle_rate_per_s=0, throttle_burst=0)
    with serve_http(plan, FakeFunction(), clock=FakeClock()) as url:
        assert [send(url, method="GET").status for _ in range(3)] == [200, 200, 200]


@pytest.mark.parametrize("plan", [API, URL])
@pytest.mark.parametrize(
    ("result", "status", "message"),
    [
        (InvokeResult("r", throttled=True), 429, "Too Many Requests"),
        (
            InvokeResult("r", error=FunctionError("ValueError", "boom")),
            500,
            "Internal Server Error",
        ),
        (
            InvokeResult("r", error=FunctionError("Sandbox.Timedout", "3.00 s")),
            500,
            "Internal Server Error",
        ),
    ],
)
def test_throttled_and_failed_invokes(
    plan: HttpPlan, result: InvokeResult, status: int, message: str
) -> None:
    with serve_http(plan, FakeFunction(result)) as url:
        reply = send(f"{url}/score", body=b"{}")
    assert (reply.status, reply.json()) == (status, {"message": message})


def test_a_2_0_response_sets_cookies_headers_and_a_base64_body(fn: FakeFunction) -> None:
    fn.answer = {
        "statusCode": 201,
        "headers": {"Content-Type": "image/png", "X-Custom": "a,b"},
        "cookies": ["session=abc; Path=/; HttpOnly", "theme=dark"],
        "body": base64.b64encode(b"\x89PNG\x00").decode(),
        "isBase64Encoded": True,
    }
    with serve_http(API, fn) as url:
        reply = send(f"{url}/score", body=b"{}")
    assert (reply.status, reply.body) == (201, b"\x89PNG\x00")
    assert (reply.headers["Content-Type"], reply.headers["X-Custom"]) == ("image/png", "a,b")
    assert reply.headers.get_all("Set-Cookie") == ["session=abc; Path=/; HttpOnly", "theme=dark"]


@pytest.mark.parametrize(
    ("payload", "body"),
    [
        ({"message": "hi"}, {"message": "hi"}),
        ("Hello from Lambda!", "Hello from Lambda!"),
        ([1, 2], [1, 2]),
    ],
)
def test_a_2_0_payload_without_status_code_is_a_200_json_body(payload: Any, body: Any) -> None:
    reply = http_response(InvokeResult("r", payload=payload), "2.0")
    assert (reply.status, json.loads(reply.body)) == (200, body)
    assert reply.headers == [("Content-Type", "application/json")]


def test_a_1_0_response_merges_multi_value_headers() -> None:
    payload = {
        "statusCode": "202",
        "headers": {"X-Multi": "replaced", "X-Single": "s"},
        "multiValueHeaders": {"x-multi": ["a", "b"]},
        "body": "done",
        "cookies": ["ignored=1"],  # a 2.0 field
    }
    reply = http_response(InvokeResult("r", payload=payload), "1.0")
    assert (reply.status, reply.body) == (202, b"done")
    assert reply.headers == [("X-Single", "s"), ("x-multi", "a"), ("x-multi", "b")]


@pytest.mark.parametrize(
    ("payload", "version"),
    [
        ({"message": "no statusCode"}, "1.0"),
        ({"statusCode": "abc"}, "2.0"),
        ({"statusCode": 700}, "2.0"),
        ({"statusCode": True}, "2.0"),
        ({"statusCode": 200, "body": {"not": "a string"}}, "2.0"),
        ({"statusCode": 200, "body": "***", "isBase64Encoded": True}, "2.0"),
        ({"statusCode": 200, "headers": ["X-A", "1"]}, "2.0"),
        ({"statusCode": 200, "cookies": "a=1"}, "2.0"),
    ],
)
def test_malformed_responses_are_500(payload: Any, version: str) -> None:
    reply = http_response(InvokeResult("r", payload=payload), version)
    assert (reply.status, json.loads(reply.body)) == (500, {"message": "Internal Server Error"})


# --- the server ------------------------------------------------------------------------------


def test_stats_record_every_request_and_log_lines_are_counted_not_printed(
    capfd: pytest.CaptureFixture[str],
) -> None:
    stats, clock = ServerStats(), FakeClock()
    plan = dataclasses.replace(API, throttle_rate_per_s=1, throttle_burst=1)
    with serve_http(plan, FakeFunction(), clock=clock, stats=stats) as url:
        statuses = [
            send(f"{url}/score", body=b"{}").status,
            send(f"{url}/score", body=b"{}").status,
            send(f"{url}/nope", method="GET").status,
        ]
    assert statuses == [200, 429, 404]
    summary = stats.summary()
    assert (summary["requests"], summary["statuses"], summary["crashes"]) == (
        3,
        {200: 1, 404: 1, 429: 1},
        0,
    )
    assert 0.0 < summary["p50_ms"] <= summary["p99_ms"] <= summary["max_ms"]
    assert [(r.method, r.path, r.status) for r in stats.records] == [
        ("POST", "/score", 200),
        ("POST", "/score", 429),
        ("GET", "/nope", 404),
    ]
    assert stats.log_lines == 3
    assert capfd.readouterr().err == ""


def test_requests_are_served_concurrently() -> None:
    both_inside = threading.Barrier(2, timeout=5)

    def invoke(event: dict[str, Any]) -> InvokeResult:
        both_inside.wait()  # only passes when two invokes run at once
        return InvokeResult("r", payload=OK)

    with serve_http(API, invoke) as url:
        replies: list[int] = []
        threads = [
            threading.Thread(target=lambda: replies.append(send(f"{url}/score", body=b"{}").status))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert replies == [200, 200]


def test_a_front_that_raises_answers_500_and_is_counted() -> None:
    def broken(event: dict[str, Any]) -> InvokeResult:
        raise RuntimeError("a bug in the pool")

    stats = ServerStats()
    with serve_http(API, broken, stats=stats) as url:
        assert send(f"{url}/score", body=b"{}").status == 500
        assert send(f"{url}/score", body=b"{}").status == 500  # the server is still up
    assert stats.crashes == 2


def test_the_server_stops_and_its_thread_is_joined_on_exit() -> None:
    with serve_http(API, FakeFunction()) as url:
        assert send(f"{url}/score", body=b"{}").status == 200
    assert not [t for t in threading.enumerate() if t.name == "sml-http-front"]
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/score", data=b"{}", timeout=2)


def test_head_answers_headers_only() -> None:
    plan = dataclasses.replace(URL)
    with serve_http(plan, FakeFunction()) as url:
        reply = send(url, method="HEAD")
    assert (reply.status, reply.body, reply.headers["Content-Length"]) == (200, b"", "2")


# --- the real fraud handler ------------------------------------------------------------------


@pytest.fixture(scope="module")
def fraud() -> ModuleType:
    return import_with_model("sml_handlers.fraud.handler", FRAUD_MODEL_DIR)


def test_the_fraud_handler_behind_the_http_api(fraud: ModuleType) -> None:
    """Real HTTP in, the real handler in process, its decisions out: the same answer the
    handler gives the sample event, a 400 for a bad body, a 404 the handler never sees."""
    transactions = sample_transactions(5, seed=7)
    stats = ServerStats()
    with serve_http(API, in_process(fraud.handler), stats=stats) as url:
        for txn in transactions:
            body = json.dumps(txn).encode()
            reply = send(f"{url}/score", body=body, headers={"Content-Type": "application/json"})
            direct = fraud.handler(http_event(body.decode()), None)
            assert (reply.status, reply.json()) == (200, json.loads(direct["body"]))
            assert reply.json()["transaction_id"] == txn["transaction_id"]
            assert reply.headers["Content-Type"] == "application/json"
        binary = send(
            f"{url}/score", body=body, headers={"Content-Type": "application/octet-stream"}
        )
        assert binary.json() == reply.json()  # base64 in the event, decoded by the handler
        bad = send(
            f"{url}/score", body=b'{"amount": "lots"}', headers={"Content-Type": "application/json"}
        )
        assert (bad.status, bad.json()["error"]) == (400, "invalid_transaction")
        assert send(f"{url}/score", method="GET").status == 404
    assert stats.statuses() == {200: 6, 400: 1, 404: 1}


def test_the_fraud_handler_behind_a_function_url_answers_405_itself(fraud: ModuleType) -> None:
    with serve_http(URL, in_process(fraud.handler)) as url:
        reply = send(f"{url}/score", method="GET")
    assert (reply.status, reply.headers["Allow"]) == (405, "POST")
