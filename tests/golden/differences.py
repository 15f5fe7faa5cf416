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

DELIBERATE: dict[tuple[str, str], dict[str, str]] = {
    ("pulumi", "FraudDetectionStack"): {
        "~ /aws:sns/topicPolicy:TopicPolicy::fraud-detection-topic-policy/inputs/policy": _POLICY,
        "~ /aws:sqs/queuePolicy:QueuePolicy::fraud-detection-queue-failures-policy/inputs/policy": (
            _POLICY
        ),
    },
    ("pulumi", "IoTAnomalyStack"): {
        "~ /aws:sns/topicPolicy:TopicPolicy::iot-anomaly-topic-alerts-policy/inputs/policy": _POLICY,
        "~ /aws:sns/topicPolicy:TopicPolicy::iot-anomaly-topic-policy/inputs/policy": _POLICY,
        "~ /aws:sqs/queuePolicy:QueuePolicy::iot-anomaly-queue-failures-policy/inputs/policy": (
            _POLICY
        ),
    },
}
