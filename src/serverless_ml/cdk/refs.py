"""Resolve the plan's ``Ref`` values to CDK tokens (and to cdk-nag's names for them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, Fn, Stack
from constructs import IConstruct

from serverless_ml.core.plan_types import Joined, Pseudo, Ref, Value

_PSEUDO = {"account_id": Aws.ACCOUNT_ID, "region": Aws.REGION, "partition": Aws.PARTITION}


@dataclass(frozen=True)
class _Attribute:
    token: Callable[[], str]
    scope: IConstruct


class RefResolver:
    """Maps ``Ref(resource, attribute)`` to a token; resources register as they are created."""

    def __init__(self) -> None:
        self._attributes: dict[tuple[str, str], _Attribute] = {}

    def register(self, resource: str, scope: IConstruct, **attributes: Callable[[], str]) -> None:
        for attribute, token in attributes.items():
            self._attributes[(resource, attribute)] = _Attribute(token, scope)

    def _get(self, ref: Ref) -> _Attribute:
        try:
            return self._attributes[(ref.resource, ref.attribute)]
        except KeyError as exc:
            raise KeyError(f"no resource registered for {ref}") from exc

    def resolve(self, value: Value) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, Pseudo):
            return _PSEUDO[value.name]
        if isinstance(value, Joined):
            return Fn.join("", [self.resolve(part) for part in value.parts])
        return self._get(value).token() + value.suffix

    def element(self, resource: str) -> IConstruct:
        """The L1 element registered for a plan node id."""
        for (registered, _), attribute in self._attributes.items():
            if registered == resource:
                return attribute.scope
        raise KeyError(f"no resource registered for {resource!r}")

    def _any_scope(self) -> IConstruct:
        return next(iter(self._attributes.values())).scope

    def resolve_all(self, values: tuple[Value, ...]) -> list[str]:
        return [self.resolve(v) for v in values]

    def nag_name(self, value: Value) -> str:
        """How cdk-nag names a policy resource in granular findings (``<Id.Arn>/x``,
        ``arn:<AWS::Partition>:...``)."""
        if isinstance(value, str):
            return value
        if isinstance(value, Pseudo | Joined):
            return _flatten(Stack.of(self._any_scope()).resolve(self.resolve(value)))
        stack = Stack.of(self._get(value).scope)
        return _flatten(stack.resolve(self.resolve(value)))


def _flatten(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return str(separator).join(_flatten(p) for p in parts)
    if isinstance(node, dict) and "Ref" in node:
        return f"<{node['Ref']}>"
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        logical_id, attribute = node["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    raise ValueError(f"cannot name {node!r} for cdk-nag")


__all__ = ["Ref", "RefResolver"]
