"""Deliberate differences from the committed snapshots of the reference stacks, each with why.

Key: (backend, stack); value: ``{diff line: reason}`` with diff lines as
``tests.golden.snapshot.diff`` prints them. Empty means the refactor changed nothing a deployed
stack would see.
"""

from __future__ import annotations

_POLICY = (
    "resource policies are plan data now, rendered from core's one JSON form by both backends: "
    "Pulumi's TLS statements take CDK's shape (Sid AllowPublishThroughSSLOnly / none, Principal "
    "'*' for topics, Action and Resource as lists). Same meaning: an in-place policy update, "
    "no replacement"
)

_RETAIN = (
    "nothing lost on destroy (issue #8): the failure queue (and the Kinesis stream, which CDK "
    "already retained) is retained on both backends, decided in the plan; no replacement"
)
_QUEUE = "/Resources/ServiceQueuefailuresB2B582CC"
_UNDO = (
    "IAM proven by execution (issue #8): the IoT handler undoes its rows when the alert fails, "
    "so the retry alerts again; WriteResults now grants dynamodb:DeleteItem on its table. "
    "An in-place policy update"
)

DELIBERATE: dict[tuple[str, str], dict[str, str]] = {
    ("cdk", "FraudDetectionStack"): {
        f"~ {_QUEUE}/DeletionPolicy": _RETAIN,
        f"~ {_QUEUE}/UpdateReplacePolicy": _RETAIN,
    },
    ("cdk", "IoTAnomalyStack"): {
        f"~ {_QUEUE}/DeletionPolicy": _RETAIN,
        f"~ {_QUEUE}/UpdateReplacePolicy": _RETAIN,
        "~ /Resources/ServiceInferencePolicyBBFE091F/Properties/PolicyDocument/Statement": _UNDO,
    },
    ("pulumi", "FraudDetectionStack"): {
        "~ /aws:sns/topicPolicy:TopicPolicy::fraud-detection-topic-policy/inputs/policy": _POLICY,
        "~ /aws:sqs/queuePolicy:QueuePolicy::fraud-detection-queue-failures-policy/inputs/policy": (
            _POLICY
        ),
        "~ /aws:sqs/queue:Queue::fraud-detection-queue-failures/retain_on_delete": _RETAIN,
        "~ /aws:sqs/queuePolicy:QueuePolicy::fraud-detection-queue-failures-policy/"
        "retain_on_delete": _RETAIN,
    },
    ("pulumi", "IoTAnomalyStack"): {
        "~ /aws:iam/rolePolicy:RolePolicy::iot-anomaly-policy/inputs/policy": _UNDO,
        "~ /aws:sns/topicPolicy:TopicPolicy::iot-anomaly-topic-alerts-policy/inputs/policy": _POLICY,
        "~ /aws:sns/topicPolicy:TopicPolicy::iot-anomaly-topic-policy/inputs/policy": _POLICY,
        "~ /aws:sqs/queuePolicy:QueuePolicy::iot-anomaly-queue-failures-policy/inputs/policy": (
            _POLICY
        ),
        "~ /aws:kinesis/stream:Stream::iot-anomaly-kinesis-readings/retain_on_delete": _RETAIN,
        "~ /aws:sqs/queue:Queue::iot-anomaly-queue-failures/retain_on_delete": _RETAIN,
        "~ /aws:sqs/queuePolicy:QueuePolicy::iot-anomaly-queue-failures-policy/retain_on_delete": (
            _RETAIN
        ),
    },
}
