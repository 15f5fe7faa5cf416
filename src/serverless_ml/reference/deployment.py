"""Deploy-time settings of the reference stacks, read the same way by the CDK app (context)
and the Pulumi programs (config): the concurrency plan file ``serverless-ml plan`` wrote, and,
for a Lambda Managed Instances plan that leaves its capacity provider to deploy time, the
network of a new provider or an existing provider's ARN.

CDK: ``-c <scenario>:concurrency-plan=plan.json -c <scenario>:subnet-ids=subnet-a,subnet-b
-c <scenario>:security-group-ids=sg-a`` (or ``-c <scenario>:capacity-provider-arn=arn:...``).
Pulumi: ``pulumi config set concurrencyPlan plan.json``, ``subnetIds``, ``securityGroupIds``,
``capacityProviderArn``. Lists are comma-separated or JSON arrays.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from serverless_ml.spec.concurrency import ConcurrencyPlan
from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.managed_instances import CapacityProvider

# The setting names: CDK context keys are "<scenario>:<cdk>", Pulumi config keys "<pulumi>".
SETTINGS = {
    "concurrency_plan": ("concurrency-plan", "concurrencyPlan"),
    "capacity_provider_arn": ("capacity-provider-arn", "capacityProviderArn"),
    "subnet_ids": ("subnet-ids", "subnetIds"),
    "security_group_ids": ("security-group-ids", "securityGroupIds"),
}


def id_list(value: Any) -> tuple[str, ...]:
    """``"a,b"``, ``'["a", "b"]'`` or a list -> ``("a", "b")`` (None or "" -> ())."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SpecError("SML917", f"not a JSON list of ids: {text!r}") from exc
        else:
            return tuple(part.strip() for part in text.split(",") if part.strip())
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise SpecError("SML917", f"expected a list of ids, got {value!r}")
    return tuple(value)


def capacity_provider(
    *, arn: str | None, subnet_ids: Any, security_group_ids: Any
) -> CapacityProvider | None:
    """The provider the deployment names: existing by ARN, new in the given network, or None."""
    subnets, groups = id_list(subnet_ids), id_list(security_group_ids)
    if arn:
        if subnets or groups:
            raise SpecError(
                "SML901",
                "an existing capacity provider's ARN and subnets / security groups for a new "
                "one: give one of them",
            )
        return CapacityProvider.existing(arn)
    if subnets or groups:
        return CapacityProvider.new(subnet_ids=subnets, security_group_ids=groups)
    return None


def concurrency(
    plan_file: str | None, *, arn: str | None, subnet_ids: Any, security_group_ids: Any
) -> ConcurrencyPlan | None:
    """The plan file's concurrency plan (None: the scenario's default), with the deployment's
    capacity provider filled in when the plan runs on Managed Instances and names none."""
    plan = ConcurrencyPlan.from_json_file(plan_file) if plan_file else None
    provider = capacity_provider(
        arn=arn, subnet_ids=subnet_ids, security_group_ids=security_group_ids
    )
    if provider is None:
        return plan
    if plan is None:
        raise SpecError(
            "SML916",
            "a capacity provider was given without a concurrency plan: give a plan file with "
            'mode "managed_instances" (docs/managed-instances.md)',
        )
    return plan.with_capacity_provider(provider)


def from_cdk_context(get: Callable[[str], Any], scenario: str) -> ConcurrencyPlan | None:
    """The concurrency plan CDK context gives ``scenario`` (``get``: ``node.try_get_context``)."""
    return _from_settings(lambda name: get(f"{scenario}:{SETTINGS[name][0]}"))


def from_pulumi_config(get: Callable[[str], Any]) -> ConcurrencyPlan | None:
    """The concurrency plan the stack's Pulumi config gives (``get``: ``Config().get``)."""
    return _from_settings(lambda name: get(SETTINGS[name][1]))


def _from_settings(read: Callable[[str], Any]) -> ConcurrencyPlan | None:
    return concurrency(
        read("concurrency_plan"),
        arn=read("capacity_provider_arn"),
        subnet_ids=read("subnet_ids"),
        security_group_ids=read("security_group_ids"),
    )
