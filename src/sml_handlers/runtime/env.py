"""Every environment variable a handler reads, named once.

The library's plan (``serverless_ml.core``) imports these names to set the variables, and the
handlers import them to read them: a rename cannot leave the two apart. Standard library only.
"""

from __future__ import annotations

from typing import Final

# Set by the plan from the service's parts.
RESULTS_TABLE: Final = "SML_RESULTS_TABLE"  # name of the results table (ResultsTable part)
ALERT_TOPIC_ARN: Final = "SML_ALERT_TOPIC_ARN"  # ARN of the alert topic (AlertTopic part)
MODEL_DIR: Final = "SML_MODEL_DIR"  # model directory (default: model/ in the bundle)

RESULTS_BUCKET: Final = "SML_RESULTS_BUCKET"  # bucket of result objects (ResultObjects part)
RESULTS_PREFIX: Final = "SML_RESULTS_PREFIX"  # their key prefix, e.g. "results/"
MAX_OBJECT_BYTES: Final = "SML_MAX_OBJECT_BYTES"  # largest upload a handler reads

# Set by the plan on Lambda Managed Instances only: one execution environment serves up to
# REQUESTS_PER_ENVIRONMENT requests at once (Python: one process per request) on
# VCPUS_PER_ENVIRONMENT vCPUs, so each request's share of the CPU is their ratio.
REQUESTS_PER_ENVIRONMENT: Final = "SML_REQUESTS_PER_ENVIRONMENT"
VCPUS_PER_ENVIRONMENT: Final = "SML_VCPUS_PER_ENVIRONMENT"

# Set by the plan for every function (Powertools' names, so its tools read them too).
SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
LOG_LEVEL: Final = "POWERTOOLS_LOG_LEVEL"

# Set by Lambda in every environment.
FUNCTION_NAME: Final = "AWS_LAMBDA_FUNCTION_NAME"
FUNCTION_MEMORY_MB: Final = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"

# Not a variable: the file in the bundle root that carries config where the shape allows no
# environment (Lambda@Edge). JSON object of strings, written by the bundler from the plan.
BAKED_CONFIG_FILE: Final = "sml_config.json"

# A result object's key: <prefix><source key><RESULT_OBJECT_SUFFIX> (the spec's loop check
# and the handler both use it).
RESULT_OBJECT_SUFFIX: Final = ".json"
