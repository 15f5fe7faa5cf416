"""Events shaped like the ones AWS sends, for handler tests.

HTTP API payload format 2.0, from the example in
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
Lambda function URL request, from the example in
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-request-payload
DynamoDB stream batches are read from a real (moto) table's stream and wrapped the way Lambda's
event source mapping delivers them (example event in
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html): each record gains ``eventSourceARN``
and ``ApproximateCreationDateTime`` is epoch seconds.
"""

from __future__ import annotations

import base64
import copy
import json
import math
from typing import Any

TRANSACTIONS_TABLE = "fraud-transactions"
DECISIONS_TABLE = "fraud-decisions"


def http_event(
    body: str | None,
    *,
    method: str = "POST",
    kind: str = "http_api",
    base64_body: bool = False,
) -> dict[str, Any]:
    """An HTTP API 2.0 (``kind="http_api"``) or function URL (``"function_url"``) request."""
    if base64_body and body is not None:
        body = base64.b64encode(body.encode("utf-8")).decode("ascii")
    extra: dict[str, Any]
    if kind == "http_api":
        domain, route, extra = (
            "id.execute-api.us-east-1.amazonaws.com",
            "POST /score",
            {
                "apiId": "api-id",
                "domainPrefix": "id",
                "stage": "$default",
            },
        )
    elif kind == "function_url":
        domain, route, extra = (
            "abcdefg.lambda-url.us-east-1.on.aws",
            "$default",
            {
                "apiId": "abcdefg",
                "domainPrefix": "abcdefg",
                "stage": "$default",
                "authorizer": {"iam": {"accessKey": "AKIA...", "accountId": "111122223333"}},
            },
        )
    else:
        raise ValueError(kind)
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


def to_item(obj: dict[str, Any]) -> dict[str, Any]:
    """A transaction dict as a DynamoDB item (what a producer would PutItem)."""
    item: dict[str, Any] = {}
    for name, value in obj.items():
        if isinstance(value, bool):
            item[name] = {"BOOL": value}
        elif isinstance(value, int | float):
            assert math.isfinite(value)
            item[name] = {"N": repr(value)}
        elif value is None:
            item[name] = {"NULL": True}
        else:
            item[name] = {"S": str(value)}
    return item


class StreamTables:
    """A transactions table with a stream and a decisions table, in moto."""

    def __init__(self) -> None:
        import boto3
        from botocore.config import Config

        self.dynamodb = boto3.client("dynamodb")
        created = self.dynamodb.create_table(
            TableName=TRANSACTIONS_TABLE,
            KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.stream_arn: str = created["TableDescription"]["LatestStreamArn"]
        self.dynamodb.create_table(
            TableName=DECISIONS_TABLE,
            KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "transaction_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        # moto 5.2 does not answer botocore's account-based streams endpoint; use the regional one.
        self.streams = boto3.client(
            "dynamodbstreams",
            endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com",
            config=Config(retries={"max_attempts": 1}),
        )
        self._seen: set[str] = set()

    def put(self, item: dict[str, Any]) -> None:
        self.dynamodb.put_item(TableName=TRANSACTIONS_TABLE, Item=item)

    def delete(self, transaction_id: str) -> None:
        self.dynamodb.delete_item(
            TableName=TRANSACTIONS_TABLE, Key={"transaction_id": {"S": transaction_id}}
        )

    def next_batch(self) -> dict[str, Any]:
        """Every stream record not returned before, as one Lambda event."""
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        records: list[dict[str, Any]] = []
        for shard in shards["Shards"]:
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
            for record in self.streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
                sequence = record["dynamodb"]["SequenceNumber"]
                if sequence not in self._seen:
                    self._seen.add(sequence)
                    records.append(self._as_lambda_record(record))
        return {"Records": records}

    def _as_lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        record = copy.deepcopy(record)
        record["eventVersion"] = "1.1"
        record["eventSourceARN"] = self.stream_arn
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
        delivered: dict[str, Any] = json.loads(json.dumps(record))  # as JSON delivery gives it
        return delivered

    def decisions(self) -> dict[str, dict[str, Any]]:
        items = self.dynamodb.scan(TableName=DECISIONS_TABLE)["Items"]
        return {item["transaction_id"]["S"]: item for item in items}


def sample_transactions(n: int, *, seed: int, fraud_rate: float = 0.2) -> list[dict[str, Any]]:
    """``n`` transactions (JSON-ready dicts) from the project's synthetic generator.

    The fraud rate is raised above the generator's default so small samples hold declines too.
    """
    from serverless_ml.models.fraud_data import generate_transactions

    transactions, _ = generate_transactions(n, seed=seed, fraud_rate=fraud_rate)
    return [dict(txn) for txn in transactions]
