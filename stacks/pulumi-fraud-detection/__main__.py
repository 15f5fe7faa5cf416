"""Pulumi program for the fraud-detection reference stack (see README.md).

The whole service is one spec (``serverless_ml.reference.scenarios.fraud_detection``), decided
into a plan and rendered by ``serverless_ml.pulumi.InferenceService``; the function's artifact is
bundled (and cached by content hash) while the program runs.
"""

import pulumi

from serverless_ml.pulumi import InferenceService, InferenceServiceArgs
from serverless_ml.reference import deployment
from serverless_ml.reference.scenarios import fraud_detection

# `pulumi config set concurrencyPlan plan-out/plans/<fn>.json` deploys the plan that
# `serverless-ml plan` chose on your own traffic (default: the scenario's schedule). A Managed Instances
# plan takes its capacity provider from `pulumi config set subnetIds subnet-a,subnet-b` and
# `securityGroupIds sg-a` (or `capacityProviderArn arn:...`).
concurrency = deployment.from_pulumi_config(pulumi.Config().get)
service = InferenceService(
    "fraud-detection", InferenceServiceArgs(spec=fraud_detection(concurrency=concurrency))
)

pulumi.export("endpoint_url", service.endpoint_url)
pulumi.export("function_name", service.function_name)
pulumi.export("alias_arn", service.alias_arn)
pulumi.export("table_names", service.table_names)
pulumi.export("failure_queue_url", service.queue_urls["failures"])
pulumi.export("alarm_topic_arn", service.topic_arn)
pulumi.export("dashboard_name", service.dashboard_name)
