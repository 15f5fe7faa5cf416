"""The CDK renderer maps every plan node type to exactly one render function."""

from __future__ import annotations

from typing import get_args

from serverless_ml.cdk.resources import RESOURCE_RENDERERS
from serverless_ml.cdk.triggers import BINDING_RENDERERS
from serverless_ml.core.plan_types import BindingPlan, ResourcePlan


def test_every_node_type_has_one_render_function() -> None:
    assert set(RESOURCE_RENDERERS) == set(get_args(ResourcePlan))
    assert set(BINDING_RENDERERS) == set(get_args(BindingPlan))
