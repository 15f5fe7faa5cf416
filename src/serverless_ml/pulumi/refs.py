"""Resolve the plan's ``Ref`` values to Pulumi Outputs."""

from __future__ import annotations

import pulumi

from serverless_ml.core.plan_types import Pseudo, Ref, Value


class RefResolver:
    """Maps ``Ref(resource, attribute)`` to an Output; resources register as they are created.

    Registration happens before use: a ``Ref`` to a resource that was never registered is a
    renderer bug and raises ``KeyError`` naming the ``Ref``.
    """

    def __init__(self) -> None:
        self._outputs: dict[tuple[str, str], pulumi.Output[str]] = {}
        self._pseudo: dict[Pseudo, pulumi.Output[str]] = {}

    def register_pseudo(self, pseudo: Pseudo, output: pulumi.Output[str]) -> None:
        """The deploy-time value of a pseudo parameter (the caller's account id)."""
        self._pseudo[pseudo] = output

    def register(self, resource: str, **attributes: pulumi.Output[str]) -> None:
        for attribute, output in attributes.items():
            self._outputs[(resource, attribute)] = output

    def resolve(self, value: Value) -> pulumi.Input[str]:
        """A literal stays a literal; a ``Ref`` becomes its Output plus the ``suffix``."""
        if isinstance(value, str):
            return value
        if isinstance(value, Pseudo):
            return self._pseudo[value]
        try:
            output = self._outputs[(value.resource, value.attribute)]
        except KeyError as exc:
            raise KeyError(f"no resource registered for {value}") from exc
        return pulumi.Output.concat(output, value.suffix) if value.suffix else output

    def resolve_all(self, values: tuple[Value, ...]) -> list[pulumi.Input[str]]:
        return [self.resolve(v) for v in values]


__all__ = ["Ref", "RefResolver"]
