"""Lambda events shaped like the ones AWS delivers, for the local runner and the handler tests.

HTTP API payload format 2.0 and Lambda function URL requests are built by the local HTTP front
(``serverless_ml.local.http_front``, which cites the documentation) from a sample request.
DynamoDB stream batches are read from a real table's stream (moto here) and wrapped the way
Lambda's event source mapping delivers them (example event in
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html): each record gains ``eventSourceARN``
and ``ApproximateCreationDateTime`` becomes epoch seconds.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from serverless_ml.core.plan_types import HttpPlan
from serverless_ml.local.http_front import endpoint_domain, http_api_event
from serverless_ml.local.http_server import LocalRequest
from serverless_ml.local.stream_esm import DYNAMODB_RECORD_VERSION, dynamodb_lambda_record

STREAM_RECORD_VERSION: Final = DYNAMODB_RECORD_VERSION
GET_RECORDS_LIMIT: Final = 1000  # the DynamoDB Streams GetRecords maximum
SAMPLE_TIME_S: Final = 1583348638.390  # the documentation's timeEpoch
SAMPLE_REQUEST_ID: Final = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def http_event(
    body: str | None,
    *,
    method: str = "POST",
    kind: str = "http_api",
    base64_body: bool = False,
) -> dict[str, Any]:
    """An HTTP API 2.0 (``kind="http_api"``), function URL (``"function_url"``) or API Gateway
    REST proxy, payload 1.0 (``"rest_api"``) request: ``method /score`` with a JSON body.

    The first two are what the local HTTP front sends (``http_front.http_api_event``) for the
    documentation's sample request; ``base64_body`` sends the text base64-encoded."""
    if base64_body and body is not None:
        body = base64.b64encode(body.encode("utf-8")).decode("ascii")
    if kind == "rest_api":
        return _rest_event(body, method=method, base64_body=base64_body)
    if kind not in ("http_api", "function_url"):
        raise ValueError(f"kind must be 'http_api' or 'function_url', got {kind!r}")
    plan = _sample_endpoint(kind)
    headers = (
        ("content-type", "application/json"),
        ("host", endpoint_domain(plan)),
        ("user-agent", "curl/8.5.0"),
        ("x-forwarded-proto", "https"),
    )
    request = LocalRequest(method, "/score", headers=headers, client_ip="192.0.2.1")
    event = http_api_event(
        request, plan, payload_version="2.0", now=SAMPLE_TIME_S, request_id=SAMPLE_REQUEST_ID
    )
    if body is not None:
        event.update(body=body, isBase64Encoded=base64_body)
    return event


def _sample_endpoint(kind: str) -> HttpPlan:
    """``POST /score``: an HTTP API without auth, or a function URL with IAM auth."""
    return HttpPlan(
        key="score",
        endpoint=kind,
        name="sample",
        payload_format_version="2.0",
        stage_name="$default",
        method="POST",
        path="/score",
        auth="iam" if kind == "function_url" else "none",
        cors_origins=(),
        throttle_rate_per_s=100,
        throttle_burst=50,
        access_log_group_name=None,
        access_log_format=None,
        access_log_retention_days=30,
    )


def _rest_event(body: str | None, *, method: str, base64_body: bool) -> dict[str, Any]:
    """The shape of AWS's ``apigateway-aws-proxy`` sample event (REST API, Lambda proxy)."""
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "curl/8.5.0",
        "X-Forwarded-Proto": "https",
    }
    return {
        "resource": "/score",
        "path": "/score",
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "123456",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTime": "09/Apr/2015:12:34:56 +0000",
            "requestTimeEpoch": 1428582896000,
            "identity": {"sourceIp": "192.0.2.1", "userAgent": "curl/8.5.0", "apiKey": "k"},
            "path": "/prod/score",
            "resourcePath": "/score",
            "httpMethod": method,
            "apiId": "abc123",
            "protocol": "HTTP/1.1",
        },
        "body": body,
        "isBase64Encoded": base64_body,
    }


def to_item(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A flat JSON object (a transaction) as a DynamoDB item, the way a producer would PutItem it.

    Numbers must be finite: DynamoDB refuses NaN and infinities (ValueError here).
    """
    item: dict[str, Any] = {}
    for name, value in obj.items():
        if isinstance(value, bool):
            item[name] = {"BOOL": value}
        elif isinstance(value, int | float):
            if not math.isfinite(value):
                raise ValueError(f"{name}: DynamoDB numbers must be finite, got {value!r}")
            item[name] = {"N": repr(value)}
        elif value is None:
            item[name] = {"NULL": True}
        else:
            item[name] = {"S": str(value)}
    return item


def stream_records(streams: Any, stream_arn: str) -> Iterator[dict[str, Any]]:
    """Every record of the stream from its trim horizon, shard by shard, as GetRecords returns it.

    ``streams`` is a boto3 ``dynamodbstreams`` client.
    """
    description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    for shard in description["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
            if not page["Records"]:
                break
            yield from page["Records"]
            iterator = page.get("NextShardIterator")


def as_lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it (``stream_esm.dynamodb_lambda_record``)."""
    return dynamodb_lambda_record(record, stream_arn=stream_arn)


def stream_batches(records: Sequence[Mapping[str, Any]], batch_size: int) -> list[dict[str, Any]]:
    """Lambda-shaped records cut into ``{"Records": [...]}`` events of at most ``batch_size``."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return [
        {"Records": [dict(record) for record in records[start : start + batch_size]]}
        for start in range(0, len(records), batch_size)
    ]


def sequence_number(record: Mapping[str, Any]) -> str:
    """The record's ``dynamodb.SequenceNumber`` (its ``itemIdentifier`` in a batch response)."""
    value: str = record["dynamodb"]["SequenceNumber"]
    return value
