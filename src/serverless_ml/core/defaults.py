"""Library-wide defaults, decided once. Values users may change live on the spec dataclasses;
these are the ones the library fixes (with the reason next to each)."""

from __future__ import annotations

from typing import Final

# What the Lambda artifact installs next to the handler: pinned, so bundles are reproducible
# and the model's parity (checked with these versions) holds in the cloud. boto3 is not here:
# the Lambda Python runtime ships it, and handlers import it lazily. Powertools is not here
# either: measured with python3.13 and shipped .pyc, Logger+Metrics add ~32 ms and
# BatchProcessor ~140 ms to a ~300 ms INIT, so sml_handlers.runtime carries small stdlib
# equivalents that the function_code tests check against Powertools' own output.
FUNCTION_REQUIREMENTS: Final = (
    "onnxruntime==1.32.0",
    "numpy==2.4.6",
)

# Lambda writes one JSON object per log record (with the handler's ``extra=`` fields).
LOG_FORMAT: Final = "JSON"

METRICS_NAMESPACE: Final = "ServerlessML"
LOG_LEVEL: Final = "INFO"
TAG_KEY: Final = "serverless-ml:service"

# The event a warmer rule sends; handlers answer it without inference or metrics.
WARMER_EVENT_JSON: Final = '{"serverless-ml": "warmer"}'

# Asynchronous invocations (rare for inference): retry twice within an hour, then keep the event.
ASYNC_MAX_RETRIES: Final = 2
ASYNC_MAX_EVENT_AGE_S: Final = 3600

# SQS failure queues keep messages the maximum 14 days so nothing expires before someone looks.
QUEUE_RETENTION_S: Final = 14 * 24 * 3600
QUEUE_VISIBILITY_TIMEOUT_S: Final = 300

# PC auto-scaling: scale out fast, scale in slowly (AWS's own PC tutorial uses similar values).
SCALE_OUT_COOLDOWN_S: Final = 60
SCALE_IN_COOLDOWN_S: Final = 600

# HTTP API access logs: JSON, one line per request, retained like the function's logs.
ACCESS_LOG_FORMAT: Final = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","routeKey":"$context.routeKey",'
    '"status":"$context.status","latencyMs":"$context.responseLatency",'
    '"integrationLatencyMs":"$context.integrationLatency","error":"$context.error.message"}'
)

# Why the default runtime is not the newest Lambda offers (cdk-nag L1 / LambdaLatestVersion).
RUNTIME_NOT_LATEST_REASON: Final = (
    "python3.13 is the newest runtime whose interpreter our build machines carry to precompile "
    "the artifact's .pyc (the biggest cold-start lever); onnxruntime's wheels for it are "
    "verified by the bundling tests. Set runtime='python3.14' in the spec to move."
)

# numpy's OpenBLAS starts a thread pool at import; inference never calls BLAS (ONNX Runtime owns
# the math), so one thread: measured ~80 ms off `import numpy` per cold start (bench cold-start).
NATIVE_THREADS_ENV: Final = {"OPENBLAS_NUM_THREADS": "1"}
