"""CloudWatch metrics as Embedded Metric Format (EMF) lines on stdout, plus cold-start tracking.

Lambda ships stdout to CloudWatch Logs, which extracts EMF documents into metrics: no API call on
the request path and no extra IAM permission. Specification:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
Names, dimensions and environment variables follow Powertools' conventions (``ColdStart`` with
``service`` and ``function_name``; ``POWERTOOLS_METRICS_NAMESPACE``, ``POWERTOOLS_SERVICE_NAME``), so
dashboards and settings written for Powertools functions keep working without importing it.

Safe under concurrent invocations in one process: the cold-start flag is tested and cleared
under a lock (one ``ColdStart`` per environment), and each EMF document is written as one line
under a lock (``sys.stdout`` is a ``TextIOWrapper``, which is not thread-safe). On Lambda
Managed Instances (the plan sets ``SML_REQUESTS_PER_ENVIRONMENT``) no request ever waits for an
INIT: environments are initialized before the version turns ACTIVE, so no ``ColdStart`` is
counted.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, Final

from sml_handlers.runtime import env

NAMESPACE_ENV: Final = env.METRICS_NAMESPACE
SERVICE_ENV: Final = env.SERVICE_NAME
DEFAULT_NAMESPACE: Final = "ServerlessML"
FUNCTION_NAME_ENV: Final = env.FUNCTION_NAME
MANAGED_INSTANCES_ENV: Final = env.REQUESTS_PER_ENVIRONMENT
COLD_START: Final = "ColdStart"
INFERENCE_LATENCY: Final = "InferenceLatency"
MILLISECONDS: Final = "Milliseconds"
COUNT: Final = "Count"

_ENCODER: Final = json.JSONEncoder(separators=(",", ":"))
_WRITE_LOCK: Final = threading.Lock()


def emf_document(
    namespace: str,
    dimensions: Mapping[str, str],
    values: Mapping[str, tuple[float, str]],
    *,
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """One EMF document: ``values`` maps metric name -> (value, unit), all sharing ``dimensions``."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in values.items()],
                }
            ],
        },
        **dimensions,
    }
    document.update({name: value for name, (value, _) in values.items()})
    return document


class Metrics:
    """Per-environment metrics: a ColdStart count on the first real invocation, latencies after."""

    def __init__(
        self, *, namespace: str, service: str, function_name: str, cold_starts: bool = True
    ) -> None:
        """``cold_starts=False``: the environment's first request is not a cold start
        (Managed Instances)."""
        self.namespace = namespace
        self.service = service
        self.function_name = function_name
        self._cold = cold_starts
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, default_service: str) -> Metrics:
        return cls(
            namespace=os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE,
            service=os.environ.get(SERVICE_ENV) or default_service,
            function_name=os.environ.get(FUNCTION_NAME_ENV, ""),
            cold_starts=not os.environ.get(MANAGED_INSTANCES_ENV),
        )

    @property
    def cold(self) -> bool:
        return self._cold

    def record_cold_start(self) -> bool:
        """Emit ``ColdStart=1`` if this is the environment's first invocation; True if it was."""
        with self._lock:
            if not self._cold:
                return False
            self._cold = False
        dimensions = {"service": self.service}
        if self.function_name:  # absent outside Lambda; EMF dimension values must be non-empty
            dimensions["function_name"] = self.function_name
        self.emit(emf_document(self.namespace, dimensions, {COLD_START: (1, COUNT)}))
        return True

    def absorb_cold_start(self) -> None:
        """A warmer took the cold start: no real caller waited, so nothing is counted."""
        self._cold = False

    def record_latency(self, milliseconds: float) -> None:
        values = {INFERENCE_LATENCY: (round(milliseconds, 3), MILLISECONDS)}
        self.emit(emf_document(self.namespace, {"service": self.service}, values))

    def record_counts(self, counts: Mapping[str, int]) -> None:
        """One EMF document of per-invocation counts (records read, failed, written...)."""
        values = {name: (float(value), COUNT) for name, value in counts.items()}
        self.emit(emf_document(self.namespace, {"service": self.service}, values))

    @staticmethod
    def emit(document: Mapping[str, Any]) -> None:
        line = _ENCODER.encode(document) + "\n"
        with _WRITE_LOCK:
            sys.stdout.write(line)
