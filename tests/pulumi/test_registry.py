"""The Pulumi renderer maps every plan node type to exactly one render function."""

from __future__ import annotations

from typing import get_args

from serverless_ml.core.plan_types import BindingPlan, ResourcePlan
from serverless_ml.pulumi.resources import RESOURCE_RENDERERS
from serverless_ml.pulumi.triggers import BINDING_RENDERERS


def test_every_node_type_has_one_render_function() -> None:
    assert set(RESOURCE_RENDERERS) == set(get_args(ResourcePlan))
    assert set(BINDING_RENDERERS) == set(get_args(BindingPlan))
