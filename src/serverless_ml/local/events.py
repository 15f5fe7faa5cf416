"""Lambda events shaped like the ones AWS delivers, for the local runner and the handler tests.

HTTP API payload format 2.0, from the example in
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
Lambda function URL request, from the example in
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-request-payload
DynamoDB stream batches are read from a real table's stream (moto here) and wrapped the way
Lambda's event source mapping delivers them (example event in
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html): each record gains ``eventSourceARN``
and ``ApproximateCreationDateTime`` becomes epoch seconds.
"""

from __future__ import annotations

import base64
import copy
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

STREAM_RECORD_VERSION: Final = "1.1"  # what Lambda's DynamoDB event example carries
GET_RECORDS_LIMIT: Final = 1000  # the DynamoDB Streams GetRecords maximum


def http_event(
    body: str | None,
    *,
    method: str = "POST",
    kind: str = "http_api",
    base64_body: bool = False,
) -> dict[str, Any]:
    """An HTTP API 2.0 (``kind="http_api"``), function URL (``"function_url"``) or API Gateway
    REST proxy, payload 1.0 (``"rest_api"``) request."""
    if base64_body and body is not None:
        body = base64.b64encode(body.encode("utf-8")).decode("ascii")
    if kind == "rest_api":
        return _rest_event(body, method=method, base64_body=base64_body)
    extra: dict[str, Any]
    if kind == "http_api":
        domain, route = "id.execute-api.us-east-1.amazonaws.com", "POST /score"
        extra = {"apiId": "api-id", "domainPrefix": "id", "stage": "$default"}
    elif kind == "function_url":
        domain, route = "abcdefg.lambda-url.us-east-1.on.aws", "$default"
        extra = {
            "apiId": "abcdefg",
            "domainPrefix": "abcdefg",
            "stage": "$default",
            "authorizer": {"iam": {"accessKey": "AKIA...", "accountId": "111122223333"}},
        }
    else:
        raise ValueError(f"kind must be 'http_api' or 'function_url', got {kind!r}")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": "/score",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "host": domain,
            "user-agent": "curl/8.5.0",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "domainName": domain,
            "http": {
                "method": method,
                "path": "/score",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "curl/8.5.0",
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": route,
            "time": "12/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1583348638390,
            **extra,
        },
        "isBase64Encoded": base64_body,
    }
    if body is not None:
        event["body"] = body
    return event


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
    """A GetRecords record as Lambda delivers it: plus ``eventSourceARN``, epoch-second times,
    JSON round-tripped."""
    delivered = copy.deepcopy(dict(record))
    delivered["eventVersion"] = STREAM_RECORD_VERSION
    delivered["eventSourceARN"] = stream_arn
    created = delivered["dynamodb"].get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        delivered["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    result: dict[str, Any] = json.loads(json.dumps(delivered))
    return result


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
