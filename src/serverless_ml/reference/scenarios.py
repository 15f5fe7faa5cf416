"""The reference services, defined once and rendered by both backends."""

from __future__ import annotations

from serverless_ml.spec import (
    ConcurrencyPlan,
    DynamoStreamTrigger,
    HttpTrigger,
    InferenceServiceSpec,
    ModelArtifact,
    NewTable,
    ScheduledAction,
)


def fraud_detection(
    *, name: str = "fraud-detection", concurrency: ConcurrencyPlan | None = None
) -> InferenceServiceSpec:
    """Fraud scoring: one transaction over HTTPS (IAM-signed HTTP API) and a DynamoDB stream of
    new transactions, decided into a decisions table.

    Default capacity: provisioned concurrency on a business-hours schedule with target tracking
    on the utilization's Maximum between the scheduled bounds (replace it with the output of
    ``serverless-ml plan`` on your own traffic).
    """
    return InferenceServiceSpec(
        name=name,
        model=ModelArtifact.packaged("fraud"),
        function_package="sml_handlers.fraud",
        description="Fraud scoring (GBDT, ONNX Runtime): HTTPS per transaction and DynamoDB stream",
        memory_mb=1024,
        timeout_s=10,
        concurrency=concurrency
        or ConcurrencyPlan.scheduled(
            [
                ScheduledAction(
                    name="business-hours",
                    schedule="cron(0 7 ? * MON-FRI *)",
                    min_capacity=2,
                    max_capacity=10,
                ),
                ScheduledAction(
                    name="off-hours", schedule="cron(0 20 * * ? *)", min_capacity=1, max_capacity=4
                ),
            ],
            min_capacity=1,
            max_capacity=10,
            target_utilization=0.7,
        ),
        http=HttpTrigger(kind="http_api", route="POST /score", auth="iam"),
        dynamo_streams=(
            DynamoStreamTrigger(
                new_table=NewTable(name_suffix="transactions", partition_key="transaction_id")
            ),
        ),
        results_table=NewTable(name_suffix="decisions", partition_key="transaction_id"),
    )


SCENARIOS = {"fraud-detection": fraud_detection}
