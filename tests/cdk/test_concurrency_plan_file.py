"""The plan `serverless-ml plan` writes is what `cdk deploy -c <scenario>:concurrency-plan=...`
deploys."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk.assertions import Template

from serverless_ml.reference.cdk_app import build_app
from serverless_ml.spec import ConcurrencyPlan, ScheduledAction


def test_context_plan_file_is_deployed(tmp_path: Path) -> None:
    plan = ConcurrencyPlan.scheduled(
        [ScheduledAction(name="h08", schedule="cron(0 8 * * ? *)", min_capacity=4, max_capacity=4),
         ScheduledAction(name="h20", schedule="cron(0 20 * * ? *)", min_capacity=0,
                         max_capacity=0)],
        min_capacity=0, max_capacity=4,
    )  # fmt: skip
    path = tmp_path / "fraud-detection.json"
    path.write_text(json.dumps(plan.to_dict()))
    app = build_app(
        outdir=tmp_path / "out", nag=False, context={"fraud-detection:concurrency-plan": str(path)}
    )
    template = Template.from_stack(app.node.find_child("FraudDetectionStack"))  # type: ignore[arg-type]
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "MinCapacity": 1,  # the deploy-time floor; the 20:00 action may take it to 0
            "MaxCapacity": 4,
            "ScheduledActions": [
                {"ScheduledActionName": "fraud-detection-h08", "Schedule": "cron(0 8 * * ? *)",
                 "ScalableTargetAction": {"MinCapacity": 4, "MaxCapacity": 4}},
                {"ScheduledActionName": "fraud-detection-h20", "Schedule": "cron(0 20 * * ? *)",
                 "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 0}},
            ],
        },
    )  # fmt: skip
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 0)
