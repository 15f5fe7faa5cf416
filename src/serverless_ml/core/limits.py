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
