"""Resolve the plan's ``Ref`` values to Pulumi Outputs."""

from __future__ import annotations

import pulumi

from serverless_ml.core.plan_types import Joined, Pseudo, Ref, Value


class RefResolver:
    """Maps ``Ref(resource, attribute)`` to an Output; resources register as they are created.

    Registration happens before use: a ``Ref`` to a resource that was never registered is a
    renderer bug and raises ``KeyError`` naming the ``Ref``.
    """

    def __init__(
        self,
        invoke_parent: pulumi.Resource | None = None,
        invoke_provider: pulumi.ProviderResource | None = None,
    ) -> None:
        """``invoke_provider``: whose region/account the pseudo parameters are (default: the
        parent's provider, i.e. the stack's)."""
        self._outputs: dict[tuple[str, str], pulumi.Output[str]] = {}
        self._pseudo: dict[Pseudo, pulumi.Output[str]] = {}
        self._invoke_parent = invoke_parent
        self._invoke_provider = invoke_provider

    def register(self, resource: str, **attributes: pulumi.Output[str]) -> None:
        for attribute, output in attributes.items():
            self._outputs[(resource, attribute)] = output

    def resolve(self, value: Value) -> pulumi.Input[str]:
        """A literal stays a literal; a ``Ref`` becomes its Output plus the ``suffix``."""
        if isinstance(value, str):
            return value
        if isinstance(value, Pseudo):
            if value not in self._pseudo:
                self._pseudo[value] = self._lookup(value)
            return self._pseudo[value]
        if isinstance(value, Joined):
            return pulumi.Output.concat(*[self.resolve(part) for part in value.parts])
        try:
            output = self._outputs[(value.resource, value.attribute)]
        except KeyError as exc:
            raise KeyError(f"no resource registered for {value}") from exc
        return pulumi.Output.concat(output, value.suffix) if value.suffix else output

    def _lookup(self, pseudo: Pseudo) -> pulumi.Output[str]:
        """The provider's own answer (the region / account / partition it deploys to)."""
        import pulumi_aws as aws

        opts = pulumi.InvokeOutputOptions(
            parent=self._invoke_parent, provider=self._invoke_provider
        )
        if pseudo.name == "region":
            return aws.get_region_output(opts=opts).region
        if pseudo.name == "partition":
            return aws.get_partition_output(opts=opts).partition
        return aws.get_caller_identity_output(opts=opts).account_id

    def resolve_all(self, values: tuple[Value, ...]) -> list[pulumi.Input[str]]:
        return [self.resolve(v) for v in values]


__all__ = ["Ref", "RefResolver"]
