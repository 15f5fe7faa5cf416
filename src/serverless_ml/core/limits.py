"""AWS quotas and prices the library checks against, each with its source.

Every number the library enforces lives here once; renderers and the bundler import it.
Sources were read on 2026-11 (see DESIGN.md); quotas marked "hard" cannot be raised.
"""

from __future__ import annotations

from typing import Final

MB: Final = 1024 * 1024

# --- Lambda -----------------------------------------------------------------------------------
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
LAMBDA_ZIP_DIRECT_UPLOAD_BYTES: Final = 50 * MB  # zipped, direct upload (hard)
LAMBDA_UNZIPPED_BYTES: Final = 250 * MB  # incl. layers (hard); error text: 262144000 bytes
LAMBDA_MAX_LAYERS: Final = 5
LAMBDA_MEMORY_MIN_MB: Final = 128
LAMBDA_MEMORY_MAX_MB: Final = 10_240
LAMBDA_MB_PER_VCPU: Final = 1_769  # "at 1,769 MB, a function has the equivalent of one vCPU"
LAMBDA_EPHEMERAL_MIN_MB: Final = 512
LAMBDA_EPHEMERAL_MAX_MB: Final = 10_240
LAMBDA_TIMEOUT_MAX_S: Final = 900
LAMBDA_SYNC_PAYLOAD_BYTES: Final = 6 * MB
LAMBDA_ASYNC_PAYLOAD_BYTES: Final = 1 * MB
# Asynchronous invocation (EventInvokeConfig): 0-2 retries, event age 60 s - 6 h.
# https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html
LAMBDA_ASYNC_RETRIES_MAX: Final = 2
LAMBDA_ASYNC_EVENT_AGE_RANGE_S: Final = (60, 21_600)
LAMBDA_SCALING_ENVS_PER_10S: Final = 1_000
LAMBDA_RESERVED_CONCURRENCY_MAX: Final = 1_000  # default account quota (soft)
LAMBDA_LOG_RETENTION_DAYS: Final = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)  # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html

# Python runtimes onnxruntime wheels can run on: they need glibc >= 2.28, which Lambda provides
# from python3.12 (Amazon Linux 2023); python3.11 and older run on Amazon Linux 2 (glibc 2.26).
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
LAMBDA_PYTHON_RUNTIMES: Final = ("python3.12", "python3.13", "python3.14")
LAMBDA_LATEST_PYTHON_RUNTIME: Final = "python3.14"
LAMBDA_ARCHITECTURES: Final = ("arm64", "x86_64")

# --- DynamoDB stream event source mapping ------------------------------------------------------
# https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html ,
# https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
STREAM_BATCH_SIZE_MAX: Final = 10_000
STREAM_RETRY_ATTEMPTS_RANGE: Final = (-1, 10_000)
STREAM_RECORD_AGE_RANGE_S: Final = (-1, 604_800)  # -1 = infinite; else 60..604800
STREAM_RECORD_AGE_MIN_S: Final = 60
STREAM_PARALLELIZATION_MAX: Final = 10
STREAM_BATCHING_WINDOW_MAX_S: Final = 300
STREAM_TUMBLING_WINDOW_MAX_S: Final = 900

# --- SnapStart -------------------------------------------------------------------------------
# https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html
SNAPSTART_MIN_PYTHON: Final = (3, 12)
SNAPSTART_RESTORE_HOOK_TIMEOUT_S: Final = 10
SNAPSTART_MAX_EPHEMERAL_MB: Final = 512

# --- Lambda Managed Instances (re:Invent 2025; sources read 2026-11) --------------------------
# Functions on EC2 capacity providers in the user's VPC. Developer guide:
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances.html
# Python 3.13 and later ("Lambda Managed Instances runtimes"):
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-runtimes.html
LMI_MIN_PYTHON: Final = (3, 13)
# "The minimum supported function size is 2GB and 1 vCPU"; memory per vCPU 2.0-8.0 GiB
# (ExecutionEnvironmentMemoryGiBPerVCpu) with 2:1, 4:1 and 8:1 the ratios AWS names, and "for
# Python applications, choose a higher ratio of memory to vCPUs (such as 4 to 1 or 8 to 1)":
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-scaling.html ,
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-best-practices.html ,
# https://docs.aws.amazon.com/lambda/latest/api/API_LambdaManagedInstancesCapacityProviderConfig.html
LMI_MEMORY_MIN_MB: Final = 2_048
LMI_MIN_VCPUS: Final = 1
LMI_MEMORY_GIB_PER_VCPU: Final = (2.0, 4.0, 8.0)
# Functions on a capacity provider take up to 32 GB (pulumi-aws 7.51 FunctionArgs.memorySize,
# from the Lambda API: "128 MB to 32,768 MB (32 GB)"); Lambda (default) stays at 10,240 MB.
LMI_MEMORY_MAX_MB: Final = 32_768
# PerExecutionEnvironmentMaxConcurrency: 1-1600; Python's default is "16 concurrent requests per
# vCPU", one process per concurrent request:
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-python-runtime.html
LMI_MAX_CONCURRENCY_RANGE: Final = (1, 1_600)
LMI_PYTHON_DEFAULT_CONCURRENCY_PER_VCPU: Final = 16
# FunctionScalingConfig Min/MaxExecutionEnvironments: 0-15000 each; Lambda launches three
# instances and three execution environments by default "for AZ resiliency":
# https://docs.aws.amazon.com/lambda/latest/api/API_FunctionScalingConfig.html
LMI_EXECUTION_ENVIRONMENTS_RANGE: Final = (0, 15_000)
LMI_DEFAULT_MIN_ENVIRONMENTS: Final = 3
# Capacity provider (AWS::Lambda::CapacityProvider): 1-16 subnets, up to 5 security groups
# (the API allows 0; aws-cdk-lib's CapacityProvider asks for 1-5); instance types 1-30 characters
# of [a-zA-Z0-9.-], up to 400, allowed xor excluded; one architecture:
# https://docs.aws.amazon.com/lambda/latest/api/API_CapacityProviderVpcConfig.html ,
# https://docs.aws.amazon.com/lambda/latest/api/API_InstanceRequirements.html ,
# https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-capacityprovider-instancerequirements.html
LMI_SUBNETS_RANGE: Final = (1, 16)
LMI_SECURITY_GROUPS_RANGE: Final = (1, 5)
LMI_INSTANCE_TYPES_MAX: Final = 400
LMI_INSTANCE_TYPE_CHARS_MAX: Final = 30
# MaxVCpuCount: the API takes 2-15000, aws-cdk-lib 2.275's CapacityProvider refuses below 12 (and
# both backends must deploy the same spec); the service default is 400 (aws-cdk-lib docs):
# https://docs.aws.amazon.com/lambda/latest/api/API_CapacityProviderScalingConfig.html
LMI_MAX_VCPU_RANGE: Final = (12, 15_000)
LMI_DEFAULT_MAX_VCPU: Final = 400
# Target tracking on the capacity provider's average CPU (percent, 0-100; SAM's
# AverageCPUUtilization): https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-capacityprovider-scalingconfig.html
LMI_CPU_METRIC: Final = "LambdaCapacityProviderAverageCPUUtilization"
# Capacity-provider metrics in AWS/Lambda, dimension CapacityProviderName (CPUUtilization,
# MemoryUtilization in percent): https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-monitoring.html
LMI_METRICS_NAMESPACE: Final = "AWS/Lambda"
# "If your traffic more than doubles within 5 minutes, you may see throttles":
LMI_SCALE_DOUBLING_WINDOW_S: Final = 300
# The operator role: trusted by lambda.amazonaws.com, "at minimum" the AWS managed policy
# AWSLambdaManagedEC2ResourceOperator (its EC2 writes conditioned on
# ec2:ManagedResourceOperator = scaler.lambda.amazonaws.com):
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-operator-role.html ,
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaManagedEC2ResourceOperator.html
LMI_OPERATOR_PRINCIPAL: Final = "lambda.amazonaws.com"
LMI_OPERATOR_POLICY: Final = "AWSLambdaManagedEC2ResourceOperator"
# arn:aws:lambda:<region>:<account>:capacity-provider:<name> (the function config's pattern):
LMI_CAPACITY_PROVIDER_ARN: Final = (
    r"^arn:aws[a-zA-Z-]*:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"capacity-provider:[a-zA-Z0-9-_]+$"
)
# EC2 instance-type names: a "g" right after the generation digit is AWS Graviton (arm64):
# https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
EC2_GRAVITON_TYPE: Final = r"^[a-z]+[0-9]+g[a-z0-9-]*\."

# --- Lambda@Edge ------------------------------------------------------------------------------
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html
EDGE_REGION: Final = "us-east-1"
EDGE_VIEWER_CODE_BYTES: Final = 1 * MB  # conservative (older docs); newest docs say 50 MB
EDGE_ORIGIN_CODE_BYTES: Final = 50 * MB
EDGE_VIEWER_TIMEOUT_S: Final = 5
EDGE_ORIGIN_TIMEOUT_S: Final = 30
EDGE_VIEWER_MEMORY_MAX_MB: Final = 128
EDGE_ORIGIN_MEMORY_MAX_MB: Final = 10_240
EDGE_ARCHITECTURES: Final = ("x86_64",)  # "restrictions": arm64 functions are not supported
EDGE_EVENT_TYPES: Final = ("viewer-request", "viewer-response", "origin-request", "origin-response")
EDGE_TRUST_PRINCIPALS: Final = ("lambda.amazonaws.com", "edgelambda.amazonaws.com")

# --- Prices, us-east-1, USD (https://aws.amazon.com/lambda/pricing/, read 2026-11) --------------
PRICE_REQUEST_PER_MILLION: Final = 0.20
PRICE_GB_S: Final = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
PRICE_PC_HELD_GB_S: Final = {"x86_64": 0.0000041667, "arm64": 0.0000033334}
PRICE_PC_RUNNING_GB_S: Final = {"x86_64": 0.0000097222, "arm64": 0.0000077778}
PRICE_SNAPSTART_CACHE_GB_S: Final = 0.0000015046  # 3-hour minimum per published version
PRICE_SNAPSTART_RESTORE_GB: Final = 0.0001397998
# Lambda@Edge (same page, "Lambda@Edge pricing"): no free tier, x86_64 only.
EDGE_PRICE_REQUEST_PER_MILLION: Final = 0.60
EDGE_PRICE_GB_S: Final = 0.00005001
SNAPSTART_CACHE_MIN_S: Final = 3 * 3600
# Lambda Managed Instances (same page, "Lambda Managed Instances"): the EC2 instance's price, plus
# a management fee of 15% of the instance's On-Demand price, plus $0.20 per 1M requests; no
# duration (GB-s) charge. Savings Plans and Reserved Instances discount the instance, not the fee.
LMI_MANAGEMENT_FEE_RATE: Final = 0.15
LMI_PRICE_REQUEST_PER_MILLION: Final = 0.20
# EC2 On-Demand, Linux, us-east-1, USD per hour (https://aws.amazon.com/ec2/pricing/on-demand/,
# read 2026-11): the instances the worked examples in docs/managed-instances.md use.
EC2_ON_DEMAND_HOURLY: Final = {
    "m7g.large": 0.0816,  # 2 vCPU, 8 GiB, Graviton3
    "m7g.xlarge": 0.1632,  # 4 vCPU, 16 GiB
    "c7g.large": 0.0725,  # 2 vCPU, 4 GiB
    "c7g.xlarge": 0.145,  # 4 vCPU, 8 GiB
}
EC2_INSTANCE_SHAPES: Final = {  # vCPUs, GiB
    "m7g.large": (2, 8),
    "m7g.xlarge": (4, 16),
    "c7g.large": (2, 4),
    "c7g.xlarge": (4, 8),
}
HOURS_PER_MONTH: Final = 730
# INIT is billed like duration for on-demand zip functions on managed runtimes since 2025-08-01
# (https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/).
LAMBDA_INIT_BILLED: Final = True


# --- S3 ----------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (3-63 chars,
# lowercase letters, digits, '-', '.'); event types from the notification event list:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
S3_BUCKET_NAME_MAX: Final = 63
S3_OBJECT_KEY_MAX_BYTES: Final = 1024
S3_EVENT_TYPES: Final = (
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
)
