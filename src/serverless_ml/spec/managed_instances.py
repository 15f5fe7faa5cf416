"""Lambda Managed Instances: the function runs on EC2 capacity in the user's VPC.

A ``CapacityProvider`` is where: a new one in the user's subnets and security groups (the stack
creates it with its operator role), or an existing one by ARN. ``ManagedInstances`` is how the
function uses it: requests per execution environment, memory per vCPU, and the number of
environments Lambda keeps. Environments are kept running, so no request waits for an INIT; the
price is the EC2 instances' plus a management fee instead of GB-seconds (see
``docs/managed-instances.md`` for when that pays). Functions on one capacity provider are
isolated by containers, not microVMs: use one capacity provider per trust boundary.

Values the service checks against the function (memory, runtime, architecture) are checked by
``InferenceServiceSpec``; this module checks what stands on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Literal

from serverless_ml.core import limits
from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.triggers import is_token

_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
_INSTANCE_TYPE = re.compile(r"^[a-zA-Z0-9.\-]+$")


def _ids(
    values: tuple[str, ...], pattern: re.Pattern[str], what: str, code: str, bounds: tuple[int, int]
) -> None:
    low, high = bounds
    if not low <= len(values) <= high:
        raise SpecError(
            code, f"a new capacity provider takes {low}-{high} {what}, got {len(values)}"
        )
    for value in values:
        if not is_token(value) and not pattern.match(value):
            raise SpecError(code, f"{value!r} is not a {what[:-1]} id")
    if len(set(values)) != len(values):
        raise SpecError(code, f"{what} listed twice: {sorted(values)}")


@dataclass(frozen=True, kw_only=True)
class CapacityProvider:
    """Where Managed Instances run. Build it with :meth:`new` or :meth:`existing`.

    New (the stack creates it, named ``<service>-capacity``, with an operator role Lambda
    assumes to launch the instances):

    - ``subnet_ids`` (1-16; spread them over Availability Zones: Lambda launches three
      instances by default for AZ resiliency) and ``security_group_ids`` (1-5). The instances
      need egress to the AWS APIs the function calls (CloudWatch Logs, X-Ray, DynamoDB, SNS):
      a NAT gateway or VPC endpoints.
    - ``architecture``: the instances' (default: the function's; they must match).
    - ``allowed_instance_types`` or ``excluded_instance_types`` (not both; default: Lambda
      chooses, which AWS recommends for availability).
    - ``max_vcpu``: vCPUs the provider may run across all instances (12-15000; default the
      service's 400). This caps the bill and the throughput.
    - ``target_cpu_utilization``: percent CPU to scale on (manual scaling mode); default None
      lets Lambda scale automatically.

    Existing (``existing_arn``): none of the settings above; the provider's owner decides them.
    """

    existing_arn: str | None = None
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    architecture: Literal["arm64", "x86_64"] | None = None
    allowed_instance_types: tuple[str, ...] = ()
    excluded_instance_types: tuple[str, ...] = ()
    max_vcpu: int | None = None
    target_cpu_utilization: float | None = None

    def __post_init__(self) -> None:
        for name in ("subnet_ids", "security_group_ids", "allowed_instance_types",
                     "excluded_instance_types"):  # fmt: skip
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.existing_arn is not None:
            self._check_existing()
        else:
            self._check_new()

    def _check_existing(self) -> None:
        settings = [f.name for f in fields(self)
                    if f.name != "existing_arn" and getattr(self, f.name) != f.default]  # fmt: skip
        if settings:
            raise SpecError(
                "SML901",
                f"an existing capacity provider takes no settings for a new one ({settings}): "
                "its owner decides them; drop them or create a new provider",
            )
        arn = self.existing_arn
        assert arn is not None
        if not is_token(arn) and not re.match(limits.LMI_CAPACITY_PROVIDER_ARN, arn):
            raise SpecError(
                "SML902",
                f"{arn!r} is not a capacity provider ARN "
                "(arn:aws:lambda:<region>:<account>:capacity-provider:<name>)",
            )

    def _check_new(self) -> None:
        _ids(self.subnet_ids, _SUBNET, "subnets", "SML903", limits.LMI_SUBNETS_RANGE)
        _ids(self.security_group_ids, _SECURITY_GROUP, "security groups", "SML904",
             limits.LMI_SECURITY_GROUPS_RANGE)  # fmt: skip
        if self.architecture is not None and self.architecture not in limits.LAMBDA_ARCHITECTURES:
            raise SpecError("SML106", f"architecture {self.architecture!r}: use arm64 or x86_64")
        if self.allowed_instance_types and self.excluded_instance_types:
            raise SpecError(
                "SML905",
                "allowed_instance_types and excluded_instance_types: give one of them, not both",
            )
        types = self.allowed_instance_types or self.excluded_instance_types
        if len(types) > limits.LMI_INSTANCE_TYPES_MAX or len(set(types)) != len(types):
            raise SpecError(
                "SML906",
                f"instance types: at most {limits.LMI_INSTANCE_TYPES_MAX}, each once",
            )
        for name in types:
            if not _INSTANCE_TYPE.match(name) or len(name) > limits.LMI_INSTANCE_TYPE_CHARS_MAX:
                raise SpecError(
                    "SML906",
                    f"instance type {name!r}: an EC2 type such as 'm7g.large' (letters, digits, "
                    f"'.', '-'; at most {limits.LMI_INSTANCE_TYPE_CHARS_MAX} characters)",
                )
        low, high = limits.LMI_MAX_VCPU_RANGE
        if self.max_vcpu is not None and not low <= self.max_vcpu <= high:
            raise SpecError("SML907", f"max_vcpu={self.max_vcpu}: use {low}..{high}")
        target = self.target_cpu_utilization
        if target is not None and not 0 < target <= 100:
            raise SpecError(
                "SML908",
                f"target_cpu_utilization={target}: a percentage of CPU, above 0 and at most 100",
            )

    # -- constructors -----------------------------------------------------------------------
    @classmethod
    def new(
        cls,
        *,
        subnet_ids: tuple[str, ...] | list[str],
        security_group_ids: tuple[str, ...] | list[str],
        architecture: Literal["arm64", "x86_64"] | None = None,
        allowed_instance_types: tuple[str, ...] | list[str] = (),
        excluded_instance_types: tuple[str, ...] | list[str] = (),
        max_vcpu: int | None = None,
        target_cpu_utilization: float | None = None,
    ) -> CapacityProvider:
        return cls(
            subnet_ids=tuple(subnet_ids),
            security_group_ids=tuple(security_group_ids),
            architecture=architecture,
            allowed_instance_types=tuple(allowed_instance_types),
            excluded_instance_types=tuple(excluded_instance_types),
            max_vcpu=max_vcpu,
            target_cpu_utilization=target_cpu_utilization,
        )

    @classmethod
    def existing(cls, arn: str) -> CapacityProvider:
        return cls(existing_arn=arn)

    @property
    def is_new(self) -> bool:
        return self.existing_arn is None

    @property
    def existing_name(self) -> str | None:
        """The existing provider's name, read from a literal ARN (None for a token)."""
        arn = self.existing_arn
        if arn is None or is_token(arn):
            return None
        return arn.rsplit(":", 1)[1]

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        if self.existing_arn is not None:
            return {"existing_arn": self.existing_arn}
        return {
            "subnet_ids": list(self.subnet_ids),
            "security_group_ids": list(self.security_group_ids),
            "architecture": self.architecture,
            "allowed_instance_types": list(self.allowed_instance_types),
            "excluded_instance_types": list(self.excluded_instance_types),
            "max_vcpu": self.max_vcpu,
            "target_cpu_utilization": self.target_cpu_utilization,
        }

    @classmethod
    def from_dict(cls, data: Any) -> CapacityProvider:
        _known(data, {f.name for f in fields(cls)}, "capacity_provider")
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        return cls(**values)


@dataclass(frozen=True, kw_only=True)
class ManagedInstances:
    """How the function uses its capacity provider (``ConcurrencyPlan.managed_instances``).

    - ``capacity_provider``: where; None leaves it to deploy time (the reference stacks read
      subnets and security groups, or an existing provider's ARN, from CDK context / Pulumi
      config), so a concurrency plan file stays free of network settings.
    - ``max_concurrency``: requests one execution environment serves at once (1-1600); None
      keeps Lambda's default (Python: 16 per vCPU). The Python runtime runs one process per
      concurrent request, each with its own copy of the model.
    - ``memory_gib_per_vcpu``: 2, 4 or 8 GiB of the function's memory per vCPU (default 4: AWS
      advises 4:1 or 8:1 for Python, whose processes each load the model). The function's
      ``memory_mb`` / (this x 1024) is its vCPUs per environment, at least 1.
    - ``min_environments`` / ``max_environments``: execution environments Lambda keeps and may
      run for the published version (0-15000; None: Lambda's, 3 and unbounded).
    """

    capacity_provider: CapacityProvider | None = None
    max_concurrency: int | None = None
    memory_gib_per_vcpu: float = 4.0
    min_environments: int | None = None
    max_environments: int | None = None

    def __post_init__(self) -> None:
        low, high = limits.LMI_MAX_CONCURRENCY_RANGE
        if self.max_concurrency is not None and not low <= self.max_concurrency <= high:
            raise SpecError(
                "SML910",
                f"max_concurrency={self.max_concurrency}: requests per execution environment, "
                f"{low}..{high}",
            )
        if self.memory_gib_per_vcpu not in limits.LMI_MEMORY_GIB_PER_VCPU:
            raise SpecError(
                "SML911",
                f"memory_gib_per_vcpu={self.memory_gib_per_vcpu}: use one of "
                f"{limits.LMI_MEMORY_GIB_PER_VCPU} (4 or 8 for Python)",
            )
        low, high = limits.LMI_EXECUTION_ENVIRONMENTS_RANGE
        for name in ("min_environments", "max_environments"):
            value = getattr(self, name)
            if value is not None and not low <= value <= high:
                raise SpecError("SML912", f"{name}={value}: use {low}..{high}")
        if (
            self.min_environments is not None
            and self.max_environments is not None
            and self.min_environments > self.max_environments
        ):
            raise SpecError(
                "SML912",
                f"min_environments={self.min_environments} > max_environments="
                f"{self.max_environments}",
            )

    @property
    def minimum_memory_mb(self) -> int:
        """The smallest function these settings allow: 2 GB, and one vCPU at the ratio."""
        per_vcpu = int(self.memory_gib_per_vcpu * 1024) * limits.LMI_MIN_VCPUS
        return max(limits.LMI_MEMORY_MIN_MB, per_vcpu)

    def vcpus(self, memory_mb: int) -> int:
        """vCPUs of one execution environment of a ``memory_mb`` function."""
        return max(limits.LMI_MIN_VCPUS, int(memory_mb // (self.memory_gib_per_vcpu * 1024)))

    def requests_per_environment(self, memory_mb: int) -> int:
        """Requests one environment serves at once: the setting, else Python's default."""
        if self.max_concurrency is not None:
            return self.max_concurrency
        return limits.LMI_PYTHON_DEFAULT_CONCURRENCY_PER_VCPU * self.vcpus(memory_mb)

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        provider = self.capacity_provider
        return {
            "capacity_provider": None if provider is None else provider.to_dict(),
            "max_concurrency": self.max_concurrency,
            "memory_gib_per_vcpu": self.memory_gib_per_vcpu,
            "min_environments": self.min_environments,
            "max_environments": self.max_environments,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ManagedInstances:
        _known(data, {f.name for f in fields(cls)}, "managed_instances")
        provider = data.get("capacity_provider")
        ratio = data.get("memory_gib_per_vcpu", 4.0)
        return cls(
            capacity_provider=None if provider is None else CapacityProvider.from_dict(provider),
            max_concurrency=data.get("max_concurrency"),
            memory_gib_per_vcpu=float(ratio) if isinstance(ratio, int | float) else ratio,
            min_environments=data.get("min_environments"),
            max_environments=data.get("max_environments"),
        )


def _known(data: Any, known: set[str], what: str) -> None:
    if not isinstance(data, dict):
        raise SpecError("SML915", f"{what} in a concurrency plan must be a JSON object")
    unknown = sorted(set(data) - known)
    if unknown:
        raise SpecError("SML915", f"unknown {what} fields {unknown}; known: {sorted(known)}")
