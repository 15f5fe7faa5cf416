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

_ALARM_KEY = (
    "alarms reach someone (issue #8): the alarm topic is encrypted with its own customer-managed "
    "key (alias and key policy letting CloudWatch use it for this topic); the topic is updated "
    "in place to use it"
)
_CHECKOV = (
    "one security gate (issue #8): what the plan accepts or meets otherwise is told to checkov "
    "as a Metadata checkov.skip entry with the plan's reason; metadata changes nothing deployed"
)
_ALARMS = "/Resources/ServiceAlarms"


def _cdk_gate(*logical_ids: str) -> dict[str, str]:
    """The alarm key's lines and the checkov metadata of ``logical_ids`` in a reference stack."""
    return {
        f"+ {_ALARMS}KeyAlias91669C4E": _ALARM_KEY,
        f"+ {_ALARMS}KeyDDAAD78E": _ALARM_KEY,
        f"+ {_ALARMS}Topic9264C83B/Properties/KmsMasterKeyId": _ALARM_KEY,
        **{f"+ /Resources/{lid}/Metadata": _CHECKOV for lid in logical_ids},
    }


def _pulumi_gate(service: str) -> dict[str, str]:
    return {
        f"+ /aws:kms/alias:Alias::{service}-key-alias": _ALARM_KEY,
        f"+ /aws:kms/key:Key::{service}-key": _ALARM_KEY,
        f"~ /aws:sns/topic:Topic::{service}-topic/dependencies": _ALARM_KEY,
        f"+ /aws:sns/topic:Topic::{service}-topic/inputs/kmsMasterKeyId": _ALARM_KEY,
    }


_CORE = ("ServiceInferenceFunctionB15191E9", "ServiceInferenceLogGroup8EB7AD76",
         "ServiceQueuefailuresB2B582CC")  # fmt: skip

DELIBERATE: dict[tuple[str, str], dict[str, str]] = {
    ("cdk", "FraudDetectionStack"): {
        f"~ {_QUEUE}/DeletionPolicy": _RETAIN,
        f"~ {_QUEUE}/UpdateReplacePolicy": _RETAIN,
        **_cdk_gate(
            *_CORE,
            "ServiceHttpAccessLogs1DC65C1B",
            "ServiceTabledecisions56E067DA",
            "ServiceTabletransactionsCFA8E5B3",
        ),
    },
    ("cdk", "IoTAnomalyStack"): {
        f"~ {_QUEUE}/DeletionPolicy": _RETAIN,
        f"~ {_QUEUE}/UpdateReplacePolicy": _RETAIN,
        "~ /Resources/ServiceInferencePolicyBBFE091F/Properties/PolicyDocument/Statement": _UNDO,
        **_cdk_gate(*_CORE, "ServiceTableanomaliesB5FD12C9"),
    },
    ("cdk", "ImageProcessingStack"): _cdk_gate(
        *_CORE, "ServiceBucketuploads7F1262CC", "ServiceTableresults1D361695"
    ),
    ("pulumi", "ImageProcessingStack"): _pulumi_gate("image-processing"),
    ("pulumi", "FraudDetectionStack"): {
        "~ /aws:sns/topicPolicy:TopicPolicy::fraud-detection-topic-policy/inputs/policy": _POLICY,
        "~ /aws:sqs/queuePolicy:QueuePolicy::fraud-detection-queue-failures-policy/inputs/policy": (
            _POLICY
        ),
        "~ /aws:sqs/queue:Queue::fraud-detection-queue-failures/retain_on_delete": _RETAIN,
        "~ /aws:sqs/queuePolicy:QueuePolicy::fraud-detection-queue-failures-policy/"
        "retain_on_delete": _RETAIN,
        **_pulumi_gate("fraud-detection"),
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
        **_pulumi_gate("iot-anomaly"),
    },
}
