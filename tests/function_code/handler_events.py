"""Handler-test events: the library's AWS-shaped builders plus moto tables with a real stream.

``http_event`` and ``to_item`` come from ``serverless_ml.local.events`` (shared with the local
runner); ``StreamTables`` reads a moto table's real stream into Lambda-shaped batches.
"""

from __future__ import annotations

from typing import Any

from serverless_ml.local.events import as_lambda_record, http_event, stream_records, to_item

__all__ = [
    "DECISIONS_TABLE",
    "TRANSACTIONS_TABLE",
    "StreamTables",
    "http_event",
    "sample_transactions",
    "to_item",
]

TRANSACTIONS_TABLE = "fraud-transactions"
DECISIONS_TABLE = "fraud-decisions"


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
        records: list[dict[str, Any]] = []
        for record in stream_records(self.streams, self.stream_arn):
            sequence = record["dynamodb"]["SequenceNumber"]
            if sequence not in self._seen:
                self._seen.add(sequence)
                records.append(as_lambda_record(record, self.stream_arn))
        return {"Records": records}

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
