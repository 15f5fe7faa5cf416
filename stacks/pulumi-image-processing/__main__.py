"""Pulumi program for the image-processing reference stack (see README.md).

One spec (``serverless_ml.reference.scenarios.image_processing``), decided into a plan and
rendered by ``serverless_ml.pulumi.InferenceService``: the same plan
`cdk deploy ImageProcessingStack` deploys.
"""

import pulumi

from serverless_ml.pulumi import InferenceService, InferenceServiceArgs
from serverless_ml.reference import deployment
from serverless_ml.reference.scenarios import image_processing

# `pulumi config set concurrencyPlan plan-out/plans/<fn>.json` deploys the plan that
# `serverless-ml plan` chose on your own traffic (default: on-demand). A Managed Instances
# plan takes its capacity provider from `pulumi config set subnetIds subnet-a,subnet-b` and
# `securityGroupIds sg-a` (or `capacityProviderArn arn:...`).
concurrency = deployment.from_pulumi_config(pulumi.Config().get)
service = InferenceService(
    "image-processing", InferenceServiceArgs(spec=image_processing(concurrency=concurrency))
)

pulumi.export("function_name", service.function_name)
pulumi.export("alias_arn", service.alias_arn)
pulumi.export("bucket_names", service.bucket_names)
pulumi.export("table_names", service.table_names)
pulumi.export("failure_queue_url", service.queue_urls["failures"])
pulumi.export("alarm_topic_arn", service.topic_arn)
pulumi.export("dashboard_name", service.dashboard_name)
