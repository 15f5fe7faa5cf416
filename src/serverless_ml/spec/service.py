"""InferenceServiceSpec: the one backend-neutral description of an inference service."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeVar, get_args

from serverless_ml.core import limits
from serverless_ml.core.plan_types import SUBJECTS
from serverless_ml.spec.acknowledgments import Acknowledge
from serverless_ml.spec.alarms import AlarmSettings
from serverless_ml.spec.concurrency import ConcurrencyPlan
from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.model import ModelArtifact
from serverless_ml.spec.outputs import AlertTopic, Output, ResultObjects, ResultsTable
from serverless_ml.spec.triggers import DynamoStreamTrigger, HttpTrigger, S3Trigger, Trigger
from sml_handlers.runtime import env

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
_ALIAS = re.compile(r"^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$")
_ENV_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")
RESERVED_ENV_PREFIXES = ("AWS_", "LAMBDA_", "SML_", "POWERTOOLS_")
PartT = TypeVar("PartT")


@dataclass(frozen=True, kw_only=True)
class InferenceServiceSpec:
    """What the user wants deployed. Validated on construction (coded ``SpecError``).

    ``name`` prefixes every physical resource name (function, tables, queues, topic, log group),
    so it must be unique per account and region; add a stage suffix (``fraud-prod``) to deploy
    twice.
    """

    name: str
    model: ModelArtifact
    function_package: str
    description: str = ""
    runtime: str = "python3.13"
    architecture: Literal["arm64", "x86_64"] = "arm64"
    memory_mb: int = 1024
    timeout_s: int = 10
    ephemeral_storage_mb: int = 512
    reserved_concurrency: int | None = None
    concurrency: ConcurrencyPlan = field(default_factory=ConcurrencyPlan.on_demand)
    alias_name: str = "live"
    triggers: tuple[Trigger, ...] = ()
    outputs: tuple[Output, ...] = ()
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    log_retention_days: int = 30
    tracing: bool = True
    environment: Mapping[str, str] = field(default_factory=dict)
    extra_requirements: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    acknowledgments: tuple[Acknowledge, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "environment", MappingProxyType(dict(self.environment)))
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))
        object.__setattr__(self, "triggers", tuple(self.triggers))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        object.__setattr__(self, "acknowledgments", tuple(self.acknowledgments))
        for check in (
            self._check_names,
            self._check_runtime,
            self._check_sizes,
            self._check_concurrency,
            self._check_snapstart,
            self._check_managed_instances,
            self._check_environment,
            self._check_parts,
            self._check_acknowledgments,
        ):
            check()

    # -- checks, one concern each ----------------------------------------------------------------
    def _check_names(self) -> None:
        if not _NAME.match(self.name):
            raise SpecError(
                "SML101",
                f"service name {self.name!r}: use 3-40 lowercase letters, digits and '-', "
                "starting with a letter (it prefixes every resource name)",
            )
        if self.alias_name == "$LATEST":
            raise SpecError(
                "SML102",
                "alias_name '$LATEST' would bypass provisioned concurrency and SnapStart: "
                "triggers always target a published version's alias (e.g. 'live')",
            )
        if not _ALIAS.match(self.alias_name):
            raise SpecError("SML103", f"alias_name {self.alias_name!r}: letters, digits, '-', '_'")
        if not re.match(
            r"^[a-zA-Z_][a-zA-Z0-9_]*(\.[a-zA-Z_][a-zA-Z0-9_]*)+$", self.function_package
        ):
            raise SpecError(
                "SML104",
                f"function_package {self.function_package!r}: a dotted package such as "
                "'sml_handlers.fraud' holding handler.py",
            )

    def _check_runtime(self) -> None:
        if self.runtime not in limits.LAMBDA_PYTHON_RUNTIMES:
            raise SpecError(
                "SML105",
                f"runtime {self.runtime!r}: onnxruntime wheels need glibc 2.28, which Lambda "
                f"offers from python3.12; use one of {limits.LAMBDA_PYTHON_RUNTIMES}",
            )
        if self.architecture not in limits.LAMBDA_ARCHITECTURES:
            raise SpecError("SML106", f"architecture {self.architecture!r}: use arm64 or x86_64")

    def _check_sizes(self) -> None:
        # Managed Instances functions may take up to 32 GB (SML922 checks their minimum).
        high = (
            limits.LMI_MEMORY_MAX_MB
            if self.concurrency.managed is not None
            else limits.LAMBDA_MEMORY_MAX_MB
        )
        if not limits.LAMBDA_MEMORY_MIN_MB <= self.memory_mb <= high:
            raise SpecError(
                "SML107",
                f"memory_mb={self.memory_mb}: Lambda allows {limits.LAMBDA_MEMORY_MIN_MB}.."
                f"{high} MB",
            )
        if not 1 <= self.timeout_s <= limits.LAMBDA_TIMEOUT_MAX_S:
            raise SpecError(
                "SML108", f"timeout_s={self.timeout_s}: use 1..{limits.LAMBDA_TIMEOUT_MAX_S}"
            )
        low, high = limits.LAMBDA_EPHEMERAL_MIN_MB, limits.LAMBDA_EPHEMERAL_MAX_MB
        if not low <= self.ephemeral_storage_mb <= high:
            raise SpecError(
                "SML109", f"ephemeral_storage_mb={self.ephemeral_storage_mb}: use {low}..{high}"
            )
        if self.log_retention_days not in limits.LAMBDA_LOG_RETENTION_DAYS:
            raise SpecError(
                "SML160",
                f"log_retention_days={self.log_retention_days}: CloudWatch accepts "
                f"{limits.LAMBDA_LOG_RETENTION_DAYS}",
            )

    def _check_concurrency(self) -> None:
        peak = self.concurrency.peak_provisioned
        if self.reserved_concurrency is not None:
            if not 0 <= self.reserved_concurrency <= limits.LAMBDA_RESERVED_CONCURRENCY_MAX:
                raise SpecError(
                    "SML161",
                    f"reserved_concurrency={self.reserved_concurrency}: use 0.."
                    f"{limits.LAMBDA_RESERVED_CONCURRENCY_MAX} (the default account quota)",
                )
            if self.reserved_concurrency < peak:
                raise SpecError(
                    "SML162",
                    f"reserved_concurrency={self.reserved_concurrency} is below the peak provisioned "
                    f"concurrency {peak}: raise it to >= {peak} or lower the plan",
                )

    def _check_snapstart(self) -> None:
        if self.concurrency.mode != "snapstart":
            return
        version = tuple(int(p) for p in self.runtime.removeprefix("python").split("."))
        if version < limits.SNAPSTART_MIN_PYTHON:
            raise SpecError("SML163", f"SnapStart needs Python >= 3.12, not {self.runtime}")
        if self.ephemeral_storage_mb > limits.SNAPSTART_MAX_EPHEMERAL_MB:
            raise SpecError(
                "SML164",
                f"SnapStart does not support ephemeral storage above "
                f"{limits.SNAPSTART_MAX_EPHEMERAL_MB} MB (got {self.ephemeral_storage_mb})",
            )

    def _check_managed_instances(self) -> None:
        """What Lambda Managed Instances requires of the function (the plan's own settings
        are checked by ``ManagedInstances`` and ``CapacityProvider``)."""
        managed = self.concurrency.managed
        if managed is None:
            return
        provider = managed.capacity_provider
        if provider is None:
            raise SpecError(
                "SML920",
                "Managed Instances need a capacity provider: CapacityProvider.new(subnet_ids=..., "
                "security_group_ids=...) or CapacityProvider.existing(arn) (the reference stacks "
                "take them from CDK context or Pulumi config; docs/managed-instances.md)",
            )
        version = tuple(int(p) for p in self.runtime.removeprefix("python").split("."))
        if version < limits.LMI_MIN_PYTHON:
            raise SpecError(
                "SML921", f"Managed Instances run Python 3.13 and later, not {self.runtime}"
            )
        if self.memory_mb < managed.minimum_memory_mb:
            raise SpecError(
                "SML922",
                f"memory_mb={self.memory_mb}: Managed Instances functions need at least "
                f"{limits.LMI_MEMORY_MIN_MB} MB and one vCPU, which at "
                f"{managed.memory_gib_per_vcpu:g} GiB per vCPU is {managed.minimum_memory_mb} MB",
            )
        if provider.architecture is not None and provider.architecture != self.architecture:
            raise SpecError(
                "SML924",
                f"the capacity provider's architecture {provider.architecture} differs from the "
                f"function's {self.architecture}: its instances could not run the function",
            )
        graviton = re.compile(limits.EC2_GRAVITON_TYPE)
        for name in provider.allowed_instance_types:
            arm = bool(graviton.match(name))
            if arm != (self.architecture == "arm64"):
                raise SpecError(
                    "SML925",
                    f"allowed instance type {name!r} is {'arm64' if arm else 'x86_64'}, the "
                    f"function {self.architecture}: no such instance could run it",
                )
        if self.reserved_concurrency is not None:
            raise SpecError(
                "SML926",
                "reserved_concurrency with Managed Instances: their concurrency is environments x "
                "requests per environment, capped by the capacity provider's max_vcpu; cap it "
                "with ManagedInstances(max_environments=...) instead",
            )

    def _check_environment(self) -> None:
        for key in self.environment:
            if not _ENV_KEY.match(key):
                raise SpecError("SML165", f"environment key {key!r}: letters, digits, '_'")
            if key.startswith(RESERVED_ENV_PREFIXES):
                raise SpecError(
                    "SML166",
                    f"environment key {key!r} uses a reserved prefix {RESERVED_ENV_PREFIXES}: "
                    "the library or Lambda sets those",
                )

    def _check_parts(self) -> None:
        """Every part is a known kind; keys are unique across all parts (they name construct
        ids, Pulumi names, IAM Sids and physical names); one part per environment binding."""
        for field_name, allowed in (("triggers", TRIGGER_TYPES), ("outputs", OUTPUT_TYPES)):
            for item in getattr(self, field_name):
                if not isinstance(item, allowed):
                    raise SpecError(
                        "SML180",
                        f"{field_name} holds {type(item).__name__}: use "
                        + ", ".join(t.__name__ for t in allowed),
                    )
        for single in (HttpTrigger, ResultsTable, AlertTopic):
            count = sum(isinstance(p, single) for p in self.parts)
            if count > 1:
                raise SpecError(
                    "SML181",
                    f"{count} {single.__name__} parts: a service has at most one (its handler "
                    "reads one endpoint / table / topic)",
                )
        results = {p.key for p in self.outputs if isinstance(p, ResultsTable)}
        for trigger in self.triggers:
            if (
                isinstance(trigger, DynamoStreamTrigger)
                and trigger.new_table
                and trigger.key in results
            ):
                raise SpecError(
                    "SML168",
                    "the results table cannot be the table whose stream triggers the function: "
                    "every write would invoke it again (a loop)",
                )
        self._check_result_objects()
        seen: dict[str, tuple[str, str]] = {}
        for part in self.parts:
            # Keys become IAM Sids with '-', '_' and case folded: 'a-b' and 'A_b' are one key.
            folded = part.key.replace("-", "_").lower()
            if folded in seen:
                other, kind = seen[folded]
                raise SpecError(
                    "SML167",
                    f"part key {part.key!r} ({type(part).__name__}) clashes with {other!r} "
                    f"({kind}): keys must be unique across triggers and outputs, ignoring case, "
                    "'-' and '_' (rename a suffix, or set name=... on an existing stream)",
                )
            seen[folded] = (part.key, type(part).__name__)
        if self.alarms.topic == "new" and any(
            isinstance(p, AlertTopic) and p.name_suffix == "alarms" for p in self.outputs
        ):
            raise SpecError(
                "SML195",
                "AlertTopic(name_suffix='alarms') would share its name with the alarm topic "
                f"{self.name}-alarms: choose another suffix",
            )

    def _check_acknowledgments(self) -> None:
        keys = {p.key for p in self.parts} | set(SUBJECTS)
        seen: set[tuple[str, str]] = set()
        for ack in self.acknowledgments:
            if ack.part not in keys:
                raise SpecError(
                    "SML199",
                    f"acknowledgment of {ack.rule!r} names part {ack.part!r}: use a part key of "
                    f"this service or one of {list(SUBJECTS)}: {sorted(keys - set(SUBJECTS))}",
                )
            if (ack.rule, ack.part) in seen:
                raise SpecError(
                    "SML199", f"rule {ack.rule!r} on {ack.part!r} is acknowledged twice"
                )
            seen.add((ack.rule, ack.part))

    def _check_result_objects(self) -> None:
        """Result objects go to a bucket a trigger of this service creates, never where it
        watches (Lambda's recursive-loop detection stops a loop only after ~16 calls)."""
        s3 = [t for t in self.triggers if isinstance(t, S3Trigger)]
        buckets = {t.new_bucket.name_suffix: t for t in s3 if t.new_bucket is not None}
        shared = {(t.retry_attempts, t.max_event_age_s, t.on_failure_queue_arn,
                   t.max_object_bytes) for t in s3}  # fmt: skip
        if len(shared) > 1:
            raise SpecError(
                "SML191",
                "S3 triggers share the alias' one asynchronous-invocation config and the "
                "handler's size limit: give them the same retry_attempts, max_event_age_s, "
                "on_failure_queue_arn and max_object_bytes",
            )
        for out in self.outputs:
            if not isinstance(out, ResultObjects):
                continue
            trigger = buckets.get(out.bucket)
            if trigger is None:
                raise SpecError(
                    "SML192",
                    f"ResultObjects(bucket={out.bucket!r}) names no bucket an S3 trigger of "
                    f"this service creates; use the name_suffix of one of {sorted(buckets)}",
                )
            # A result's key is <prefix><source key><RESULT_SUFFIX>, and the source key matches
            # the trigger's filter: whether it matches again depends only on the filter.
            probe = f"{out.prefix}{trigger.prefix}x{trigger.suffix}{env.RESULT_OBJECT_SUFFIX}"
            if trigger.watches(probe):
                raise SpecError(
                    "SML189",
                    f"results under {out.prefix!r} would land where the trigger watches "
                    f"(prefix {trigger.prefix!r}, suffix {trigger.suffix!r}): every result "
                    "would invoke the function again. Use a prefix outside the watched one",
                )

    @property
    def parts(self) -> tuple[Trigger | Output, ...]:
        """Every trigger and output, in order."""
        return (*self.triggers, *self.outputs)

    def part(self, kind: type[PartT]) -> tuple[PartT, ...]:
        """The parts of one kind, e.g. ``spec.part(KinesisTrigger)``."""
        return tuple(p for p in self.parts if isinstance(p, kind))


TRIGGER_TYPES: tuple[type, ...] = get_args(Trigger)  # add a kind to the union, not here
OUTPUT_TYPES: tuple[type, ...] = get_args(Output)
