"""The reference services, defined once and rendered by both backends."""

from __future__ import annotations

from serverless_ml.spec import (
    AlertTopic,
    ConcurrencyPlan,
    DynamoStreamTrigger,
    EdgeFunctionSpec,
    HttpTrigger,
    InferenceServiceSpec,
    KinesisTrigger,
    ModelArtifact,
    NewBucket,
    NewStream,
    NewTable,
    ResultObjects,
    ResultsTable,
    S3Trigger,
    ScheduledAction,
)
from serverless_ml.spec.personalization import EdgePersonalizationSpec


def memory_for(concurrency: ConcurrencyPlan | None, default_mb: int) -> int:
    """The scenario's memory, raised to what Lambda Managed Instances need (2 GB and one vCPU
    at the plan's memory per vCPU) when the plan runs on them."""
    managed = None if concurrency is None else concurrency.managed
    return default_mb if managed is None else max(default_mb, managed.minimum_memory_mb)


def fraud_detection(
    *, name: str = "fraud-detection", concurrency: ConcurrencyPlan | None = None
) -> InferenceServiceSpec:
    """Fraud scoring: one transaction over HTTPS (IAM-signed HTTP API) and a DynamoDB stream of
    new transactions, decided into a decisions table.

    Default capacity: provisioned concurrency on a business-hours schedule with target tracking
    on the utilization's Maximum between the scheduled bounds (replace it with the output of
    ``serverless-ml plan`` on your own traffic). On Lambda Managed Instances
    (``ConcurrencyPlan.managed_instances``) memory rises to what they need.
    """
    return InferenceServiceSpec(
        name=name,
        model=ModelArtifact.packaged("fraud"),
        function_package="sml_handlers.fraud",
        description="Fraud scoring (GBDT, ONNX Runtime): HTTPS per transaction and DynamoDB stream",
        memory_mb=memory_for(concurrency, 1024),
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
        triggers=(
            HttpTrigger(kind="http_api", route="POST /score", auth="iam"),
            DynamoStreamTrigger(
                new_table=NewTable(name_suffix="transactions", partition_key="transaction_id")
            ),
        ),
        outputs=(ResultsTable(name_suffix="decisions", partition_key="transaction_id"),),
    )


def iot_anomaly_detection(
    *, name: str = "iot-anomaly", concurrency: ConcurrencyPlan | None = None
) -> InferenceServiceSpec:
    """IoT anomaly detection: sensor readings arrive on a Kinesis stream (on-demand shards),
    each batch is scored in one onnxruntime call, anomalies land in a table keyed by device
    and timestamp, and one aggregated SNS alert goes out per batch with anomalies.

    Stream consumers are busy by nature (a batch every second per shard), so environments stay
    warm without provisioned concurrency: the default is on-demand. A steady fleet of sensors is
    the steady traffic Lambda Managed Instances suit (``ConcurrencyPlan.managed_instances``:
    memory then rises to what they need).
    """
    return InferenceServiceSpec(
        name=name,
        model=ModelArtifact.packaged("iot"),
        function_package="sml_handlers.iot",
        description="IoT anomaly detection (ONNX Runtime): Kinesis batches -> anomalies + alerts",
        memory_mb=memory_for(concurrency, 1024),
        timeout_s=60,
        concurrency=concurrency or ConcurrencyPlan.on_demand(),
        triggers=(
            KinesisTrigger(
                new_stream=NewStream(name_suffix="readings"),
                batch_size=500,
                max_batching_window_s=1,
            ),
        ),
        outputs=(
            # The handler undoes its rows when the batch's alert fails, so the retry alerts.
            ResultsTable(
                name_suffix="anomalies",
                partition_key="device_id",
                sort_key="timestamp",
                undo_writes=True,
            ),
            AlertTopic(),
        ),
    )


def image_processing(
    *, name: str = "image-processing", concurrency: ConcurrencyPlan | None = None
) -> InferenceServiceSpec:
    """Image and document processing: uploads under ``uploads/`` in a new bucket invoke the
    function asynchronously; each image is read as one handwritten digit, each scan under
    ``uploads/documents/`` as a row of digits; results go to a table keyed by object version
    and to ``results/`` in the same bucket (outside the watched prefix: no loop).

    Uploads arrive in bursts with idle hours between: on-demand by default (replace it with
    ``serverless-ml plan`` on your own traffic).
    """
    return InferenceServiceSpec(
        name=name,
        model=ModelArtifact.packaged("digits"),
        function_package="sml_handlers.image",
        description="Handwritten digits and documents on S3 upload (CNN, ONNX Runtime)",
        memory_mb=memory_for(concurrency, 1024),
        timeout_s=60,
        concurrency=concurrency or ConcurrencyPlan.on_demand(),
        triggers=(S3Trigger(new_bucket=NewBucket(name_suffix="uploads"), prefix="uploads/"),),
        outputs=(
            ResultsTable(name_suffix="results", partition_key="object_id"),
            ResultObjects(bucket="uploads", prefix="results/"),
        ),
        extra_requirements=("pillow==13.0.0",),
    )


def edge_personalization(*, name: str = "edge-personalization") -> EdgePersonalizationSpec:
    """Edge personalization: a CloudFront distribution in front of a new site bucket (origin
    access control); on each cache miss an origin-request function reads the viewer's
    country, device, referrer and visit count, scores every content variant with the
    compiled personalization model (53 KB of Python, no numpy) and rewrites ``/page`` to
    ``/variants/<variant>/page``. Responses are cached per variant input for 5 minutes.
    """
    return EdgePersonalizationSpec(
        function=EdgeFunctionSpec(
            name=name,
            model=ModelArtifact.packaged("personalization", runtime="compiled"),
            function_package="sml_handlers.personalize",
            description="Content variant per visit (GBDT compiled to Python) at origin request",
            event_type="origin-request",
            memory_mb=128,
            timeout_s=5,
            config={"mode": "uri"},
        ),
    )


EDGE_SCENARIOS = {"edge-personalization": edge_personalization}
"""The edge reference services (their own shape: a distribution, not an alias)."""

EDGE_STACK_IDS = {"edge-personalization": "EdgePersonalizationStack"}
"""Their CDK stacks, each pinned to us-east-1 (Lambda@Edge)."""

SCENARIOS = {
    "fraud-detection": fraud_detection,
    "iot-anomaly": iot_anomaly_detection,
    "image-processing": image_processing,
}
"""Every reference service by name: CDK stacks, Pulumi programs and tests iterate it."""

STACK_IDS = {
    "fraud-detection": "FraudDetectionStack",
    "iot-anomaly": "IoTAnomalyStack",
    "image-processing": "ImageProcessingStack",
}
"""The CDK stack id of each scenario (ids are API: renaming replaces the stack)."""
