"""Provisioned-concurrency scaling: created after the alias, tracking the utilization's Maximum,
changes to one target serialized."""

from __future__ import annotations

from tests.pulumi.conftest import Case, case

TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
PC = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"


def test_scalable_target_depends_on_the_alias_and_its_pc(fraud: Case) -> None:
    (target,) = fraud.render.of_type(TARGET)
    (alias,) = fraud.render.of_type("aws:lambda/alias:Alias")
    (pc,) = fraud.render.of_type(PC)
    # The target names the alias with a plain string, so these can only be explicit.
    assert target.inputs["resourceId"] == f"function:fraud-detection:{fraud.plan.alias.name}"
    assert {alias.urn, pc.urn} <= set(target.dependencies)


def test_target_tracking_uses_the_maximum_of_a_customized_metric(fraud: Case) -> None:
    (policy,) = fraud.render.of_type(POLICY)
    config = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    assert "predefinedMetricSpecification" not in config
    metric = config["customizedMetricSpecification"]
    assert metric["metricName"] == "ProvisionedConcurrencyUtilization"
    assert metric["statistic"] == "Maximum"
    assert {d["name"]: d["value"] for d in metric["dimensions"]} == {
        "FunctionName": "fraud-detection",
        "Resource": "fraud-detection:live",
    }


def test_policy_and_scheduled_actions_are_created_one_after_another(fraud: Case) -> None:
    (target,) = fraud.render.of_type(TARGET)
    (policy,) = fraud.render.of_type(POLICY)
    first, second = fraud.render.of_type(ACTION)
    assert target.urn in policy.dependencies
    assert policy.urn in first.dependencies
    assert first.urn in second.dependencies


def test_scheduled_actions_without_a_policy_follow_the_target() -> None:
    c = case("scheduled")
    assert c.render.of_type(POLICY) == []
    (target,) = c.render.of_type(TARGET)
    (action,) = c.render.of_type(ACTION)
    assert target.urn in action.dependencies
    assert action.inputs["scalableTargetAction"] == {"minCapacity": 3, "maxCapacity": 3}


def test_auto_scaled_pc_is_left_to_application_auto_scaling(fraud: Case) -> None:
    (pc,) = fraud.render.of_type(PC)
    assert pc.ignore_changes == ("provisionedConcurrentExecutions",)
    static = case("static")
    (fixed,) = static.render.of_type(PC)
    assert fixed.ignore_changes == ()
    assert fixed.inputs["provisionedConcurrentExecutions"] == 3
    assert static.render.of_type(TARGET) == []


def test_snapstart_publishes_versions_without_pc() -> None:
    c = case("snapstart")
    (function,) = c.render.of_type("aws:lambda/function:Function")
    assert function.inputs["snapStart"] == {"applyOn": "PublishedVersions"}
    assert function.inputs["publish"] is True
    assert c.render.of_type(PC) == c.render.of_type(TARGET) == []
