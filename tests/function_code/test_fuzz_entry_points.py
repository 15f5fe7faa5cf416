"""Every handler entry point, fuzzed on real event shapes (issue #8): no input ends in an
unhandled exception. An HTTP request gets a 2xx/4xx with a field-level message; a bad stream
record is that record's own failure while every neighbour is processed.

The strategies lean on the values that broke handlers before: denormal and extreme floats
(a mean that underflows to zero), timestamps at the ends of datetime's range with a UTC offset,
non-ASCII text where base64 is expected, and nesting deeper than DynamoDB allows.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from sml_handlers.fraud import handler as fraud
from sml_handlers.runtime import aws
from tests.function_code.handler_events import (
    DECISIONS_TABLE,
    StreamTables,
    http_event,
    sample_transactions,
    to_item,
)
from tests.function_code.iot_support import (
    ANOMALIES_TABLE,
    AwsResources,
    encode,
    iot_handler,
    kinesis_event,
    mixed_readings,
    sequence_number,
)

iot = iot_handler()
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

EDGE_FLOATS = st.sampled_from(
    [5e-324, -5e-324, 2.2250738585072014e-308, 1e-300, 1e300, sys.float_info.max, -0.0, 0.0,
     1e15, -1.0, 0.5]
) | st.floats(allow_nan=False, allow_infinity=False)  # fmt: skip
EDGE_INTS = st.sampled_from([0, -1, 1, 2**31, 2**53 + 1, 2**63, -(2**63), 10**30]) | st.integers()
EDGE_TIMES = st.sampled_from(
    ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999Z",
     "2026-01-05T00:00:00.0001Z", "2026-02-30T00:00:00Z", "2026-01-05T24:00:00Z", "", "Z"]
) | st.datetimes().map(lambda d: d.isoformat() + "+13:59")  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | EDGE_INTS | EDGE_FLOATS | EDGE_TIMES | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


def _deep(levels: int, kind: str) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "x"}
    for _ in range(levels):
        value = {"M": {"a": value}} if kind == "M" else {"L": [value]}
    return value


ATTRIBUTES = st.one_of(
    st.builds(lambda x: {"N": x}, st.sampled_from(["5e-324", "1e999", "-0", "1" * 5000, "0x1f",
                                                   "NaN", " 1", "1e-400"])),
    st.builds(lambda x: {"B": x}, st.sampled_from(["é", "AAAA", "====", "ü29tZQ==", "\x00"])),
    st.builds(lambda x: {"S": x}, EDGE_TIMES | st.text(max_size=20)),
    st.builds(_deep, st.integers(30, 400), st.sampled_from(["M", "L"])),
    st.builds(lambda x: {"BOOL": x}, JSON),
    st.builds(lambda x: {"SS": x}, JSON),
    JSON,
)  # fmt: skip


def _mutated_transaction(data: st.DataObject, seed: int) -> dict[str, Any]:
    txn: dict[str, Any] = dict(sample_transactions(1, seed=seed)[0])
    for name in data.draw(st.sets(st.sampled_from(sorted(txn)), min_size=1, max_size=3)):
        txn[name] = data.draw(JSON)
    return txn


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["http_api", "function_url", "rest_api"]))
def test_http_answers_every_request_with_a_2xx_or_4xx(data: st.DataObject, kind: str) -> None:
    shape = data.draw(st.sampled_from(["transaction", "text", "json"]))
    if shape == "transaction":
        body = json.dumps(_mutated_transaction(data, 5))
    elif shape == "text":
        body = data.draw(st.text(max_size=200))
    else:
        body = json.dumps(data.draw(JSON))
    encoded = data.draw(st.booleans())
    method = data.draw(st.sampled_from(["POST", "POST", "GET", "post", ""]))
    event = http_event(body, kind=kind, method=method, base64_body=encoded)
    if data.draw(st.booleans()):
        event["headers"] = data.draw(st.dictionaries(st.text(max_size=10), JSON, max_size=3))
    response = fraud.handler(event, None)
    assert response["statusCode"] in (200, 400, 405)
    payload = json.loads(response["body"])
    if response["statusCode"] == 400:
        assert payload["error"] == "invalid_transaction" and payload["fields"]


@FUZZ
@given(data=st.data())
def test_a_bad_dynamodb_image_fails_alone(data: st.DataObject, aws_env: None) -> None:
    good = sample_transactions(1, seed=21)[0]
    bad = _mutated_transaction(data, 22)
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("SML_RESULTS_TABLE", DECISIONS_TABLE)
        aws.reset_clients()
        tables = StreamTables()
        tables.put(to_item(good))
        item = _item(bad)
        item[data.draw(st.sampled_from([*sorted(item), "note"]))] = data.draw(ATTRIBUTES)
        event = tables.next_batch()
        record = json.loads(json.dumps(event["Records"][0]))
        record["dynamodb"]["NewImage"] = item
        record["dynamodb"]["Keys"] = {"transaction_id": {"S": "fuzzed"}}
        record["dynamodb"]["SequenceNumber"] = "999"
        event["Records"].insert(0, record)
        response = fraud.handler(event, None)
        failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
        assert failed in ([], ["999"])
        assert good["transaction_id"] in tables.decisions()
    aws.reset_clients()


def _item(txn: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB image of ``txn`` whatever its values (non-scalars go in as JSON strings)."""
    item: dict[str, Any] = {}
    for name, value in txn.items():
        try:
            item[name] = to_item({name: value})[name]
        except (ValueError, TypeError):
            item[name] = {"S": json.dumps(value)}
    return item


@FUZZ
@given(data=st.data())
def test_a_bad_kinesis_record_fails_alone(data: st.DataObject, aws_env: None) -> None:
    readings = mixed_readings(2, 1, seed=31)
    bad = dict(readings[0])
    for name in data.draw(st.sets(st.sampled_from(sorted(bad)), min_size=1, max_size=3)):
        bad[name] = data.draw(JSON)
    blob = data.draw(
        st.one_of(
            st.just(encode(bad)), st.binary(max_size=64),
            JSON.map(lambda v: json.dumps(v).encode()),
            st.just(("[" * 100_000).encode()),
        )
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        aws.reset_clients()
        resources = AwsResources()
        patch.setenv("SML_RESULTS_TABLE", ANOMALIES_TABLE)
        patch.setenv("SML_ALERT_TOPIC_ARN", resources.topic_arn)
        event = kinesis_event([blob, *[encode(r) for r in readings]])
        if data.draw(st.booleans()):
            event["Records"][0]["kinesis"]["data"] = data.draw(
                st.text(max_size=40) | st.just(base64.b64encode(b"\xff\xfe").decode())
            )
        response = iot.handler(event, None)
        failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
        assert failed in ([], [sequence_number(0)])
        assert len(resources.anomalies()) >= 1  # the one anomalous neighbour was written
    aws.reset_clients()


@FUZZ
@given(
    event=JSON
    | st.dictionaries(
        st.sampled_from(["Records", "serverless-ml", "rawPath", "httpMethod", "requestContext"]),
        JSON,
    )
)
def test_unknown_events_are_refused_clearly(event: Any) -> None:  # fmt: skip
    for handle in (fraud.handler, iot.handler):
        try:
            handle(event, None)
        except ValueError as error:
            assert "unrecognised event" in str(error) or "records" in str(error).lower()
