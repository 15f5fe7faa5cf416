"""EdgeFunctionSpec: a Lambda@Edge function behind CloudFront (the second function shape).

Lambda@Edge allows no environment variables, layers, VPC, provisioned concurrency or
container images, lives in us-east-1 as a numbered version, and limits viewer-event functions
to 128 MB, 5 s and 1 MB of code (origin events: 10,240 MB, 30 s, 50 MB). The spec has no field
for what Lambda@Edge refuses; ``config`` is baked into the bundle instead of the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from serverless_ml.core import limits
from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.model import ModelArtifact

EdgeEvent = Literal["viewer-request", "viewer-response", "origin-request", "origin-response"]
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
_CONFIG_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, kw_only=True)
class EdgeFunctionSpec:
    """What the user wants at the edge. Validated on construction (coded ``SpecError``)."""

    name: str
    model: ModelArtifact
    function_package: str
    event_type: EdgeEvent = "viewer-request"
    description: str = ""
    runtime: str = "python3.13"
    architecture: Literal["x86_64"] = "x86_64"
    memory_mb: int = 128
    timeout_s: int = 5
    include_body: bool = False
    config: Mapping[str, str] = field(default_factory=dict)
    log_retention_days: int = 30
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))
        if not _NAME.match(self.name):
            raise SpecError(
                "SML101", f"edge function name {self.name!r}: 3-40 lowercase letters, digits, '-'"
            )
        if self.event_type not in limits.EDGE_EVENT_TYPES:
            raise SpecError(
                "SML401", f"event_type {self.event_type!r}: use one of {limits.EDGE_EVENT_TYPES}"
            )
        if self.runtime not in limits.LAMBDA_PYTHON_RUNTIMES:
            raise SpecError(
                "SML105", f"runtime {self.runtime!r}: use one of {limits.LAMBDA_PYTHON_RUNTIMES}"
            )
        if self.architecture not in limits.EDGE_ARCHITECTURES:
            raise SpecError(
                "SML402",
                f"architecture {self.architecture!r}: Lambda@Edge runs x86_64 functions only",
            )
        memory, timeout = self.limits
        if not limits.LAMBDA_MEMORY_MIN_MB <= self.memory_mb <= memory:
            raise SpecError(
                "SML403",
                f"memory_mb={self.memory_mb}: {self.event_type} functions get "
                f"{limits.LAMBDA_MEMORY_MIN_MB}..{memory} MB",
            )
        if not 1 <= self.timeout_s <= timeout:
            raise SpecError(
                "SML404",
                f"timeout_s={self.timeout_s}: {self.event_type} functions get 1..{timeout} s",
            )
        if not re.match(
            r"^[a-zA-Z_][a-zA-Z0-9_]*(\.[a-zA-Z_][a-zA-Z0-9_]*)+$", self.function_package
        ):
            raise SpecError(
                "SML104",
                f"function_package {self.function_package!r}: a dotted package holding handler.py",
            )
        if self.include_body and not self.event_type.endswith("request"):
            raise SpecError(
                "SML406",
                "include_body applies to viewer-request and origin-request events only "
                "(CloudFront passes no body to response events)",
            )
        if not self.model.compiled:
            raise SpecError(
                "SML407",
                f"model {self.model.name!r}: Lambda@Edge cannot carry onnxruntime and numpy "
                "(~30 MB zipped against a 1 MB viewer budget); pass "
                "ModelArtifact(..., runtime='compiled') (a tree or linear model)",
            )
        for key in self.config:
            if not _CONFIG_KEY.match(key):
                raise SpecError("SML405", f"config key {key!r}: letters, digits, '_'")
        if self.log_retention_days not in limits.LAMBDA_LOG_RETENTION_DAYS:
            raise SpecError(
                "SML160", f"log_retention_days={self.log_retention_days}: not a CloudWatch value"
            )

    @property
    def viewer(self) -> bool:
        return self.event_type.startswith("viewer")

    @property
    def limits(self) -> tuple[int, int]:
        """(memory MB, timeout s) allowed for the event type."""
        if self.viewer:
            return limits.EDGE_VIEWER_MEMORY_MAX_MB, limits.EDGE_VIEWER_TIMEOUT_S
        return limits.EDGE_ORIGIN_MEMORY_MAX_MB, limits.EDGE_ORIGIN_TIMEOUT_S

    @property
    def max_code_bytes(self) -> int:
        return limits.EDGE_VIEWER_CODE_BYTES if self.viewer else limits.EDGE_ORIGIN_CODE_BYTES
