"""The cdk-nag gate can fail: an unacknowledged finding stops the synth."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sqs as sqs

from serverless_ml.cdk import enable_nag


def test_gate_fails_on_an_unacknowledged_finding(tmp_path: object) -> None:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Bad")
    sqs.Queue(stack, "Plain")  # no TLS enforcement, no DLQ: AwsSolutions-SQS3/SQS4
    enable_nag(app)
    with pytest.raises(Exception, match=r"(?s)ValidationFailed.*AwsSolutions-SQS4"):
        app.synth()
