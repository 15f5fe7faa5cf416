"""Lambda Managed Instances in the spec and the plan: every limit and conflict refused with its
code, the concurrency plan's JSON carries the mode, and the plan decides the capacity
provider, its operator role, the function's config, the handler's variables, the alarms that
fit the mode and the gate's verdicts."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from serverless_ml.core import limits
from serverless_ml.core.gate import enforce, evaluate
from serverless_ml.core.managed_instances_costs import (
    Workload,
    compare_costs,
    cost_table,
    worked_examples,
)
from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import PARTITION, CapacityProviderPlan, Joined, Ref
from serverless_ml.reference import deployment
from serverless_ml.reference.scenarios import SCENARIOS, fraud_detection, iot_anomaly_detection
from serverless_ml.spec import (
    AlarmSettings,
    CapacityProvider,
    ConcurrencyPlan,
    ManagedInstances,
    SpecError,
    Warmer,
)

SUBNETS = ("subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002")
GROUP = "sg-0a1b2c3d4e5f60001"
ARN = "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:shared-trusted"
DOC = Path(__file__).resolve().parents[2] / "docs" / "managed-instances.md"


def new_provider(**changes: Any) -> CapacityProvider:
    return CapacityProvider.new(
        **{"subnet_ids": SUBNETS, "security_group_ids": (GROUP,), **changes}
    )


def managed(**changes: Any) -> ConcurrencyPlan:
    return ConcurrencyPlan.managed_instances(new_provider(), **changes)


def code(fn: Any) -> str:
    with pytest.raises(SpecError) as caught:
        fn()
    return caught.value.code


# --- spec -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: CapacityProvider(existing_arn=ARN, subnet_ids=SUBNETS), "SML901"),
        (lambda: CapacityProvider.existing("arn:aws:lambda:eu-west-1:1:function:x"), "SML902"),
        (lambda: new_provider(subnet_ids=()), "SML903"),
        (lambda: new_provider(subnet_ids=tuple(f"subnet-{i:017x}" for i in range(17))), "SML903"),
        (lambda: new_provider(subnet_ids=("subnet-xyz",)), "SML903"),
        (lambda: new_provider(subnet_ids=(SUBNETS[0], SUBNETS[0])), "SML903"),
        (lambda: new_provider(security_group_ids=()), "SML904"),
        (lambda: new_provider(security_group_ids=tuple(f"sg-{i:017x}" for i in range(6))),
         "SML904"),
        (lambda: new_provider(allowed_instance_types=("m7g.large",),
                              excluded_instance_types=("m5.large",)), "SML905"),
        (lambda: new_provider(allowed_instance_types=("m7g large",)), "SML906"),
        (lambda: new_provider(allowed_instance_types=("m7g.large", "m7g.large")), "SML906"),
        (lambda: new_provider(max_vcpu=11), "SML907"),
        (lambda: new_provider(max_vcpu=15_001), "SML907"),
        (lambda: new_provider(target_cpu_utilization=0), "SML908"),
        (lambda: new_provider(target_cpu_utilization=101), "SML908"),
        (lambda: ManagedInstances(max_concurrency=0), "SML910"),
        (lambda: ManagedInstances(max_concurrency=1601), "SML910"),
        (lambda: ManagedInstances(memory_gib_per_vcpu=3.0), "SML911"),
        (lambda: ManagedInstances(min_environments=-1), "SML912"),
        (lambda: ManagedInstances(max_environments=15_001), "SML912"),
        (lambda: ManagedInstances(min_environments=5, max_environments=4), "SML912"),
        (lambda: ConcurrencyPlan(mode="managed_instances"), "SML913"),
        (lambda: ConcurrencyPlan(mode="on_demand", managed=ManagedInstances()), "SML913"),
        (lambda: ConcurrencyPlan(mode="managed_instances", managed=ManagedInstances(),
                                 warmer=Warmer()), "SML914"),
    ],
)  # fmt: skip
def test_managed_instances_settings_are_checked(build: Any, expected: str) -> None:
    assert code(build) == expected


def test_tokens_pass_for_deploy_time_values() -> None:
    token = "${Token[TOKEN.42]}"
    assert CapacityProvider.existing(token).existing_name is None
    assert new_provider(subnet_ids=(token,)).subnet_ids == (token,)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"concurrency": ConcurrencyPlan.managed_instances()}, "SML920"),
        ({"runtime": "python3.12"}, "SML921"),
        ({"memory_mb": 2048}, "SML922"),  # 4 GiB per vCPU: one vCPU is 4096 MB
        ({"memory_mb": 32_769}, "SML107"),
        ({"architecture": "x86_64"}, "SML925"),  # Graviton instance types, x86 function
        ({"concurrency": ConcurrencyPlan.managed_instances(new_provider(architecture="x86_64"))},
         "SML924"),
        ({"reserved_concurrency": 10}, "SML926"),
    ],
)  # fmt: skip
def test_the_function_fits_managed_instances(changes: dict[str, Any], expected: str) -> None:
    plan = ConcurrencyPlan.managed_instances(new_provider(allowed_instance_types=("m7g.large",)))
    base = dataclasses.replace(fraud_detection(), concurrency=plan, memory_mb=4096)
    assert code(lambda: dataclasses.replace(base, **changes)) == expected


def test_memory_limits_follow_the_mode() -> None:
    plan = managed(memory_gib_per_vcpu=2.0)
    assert plan.managed is not None and plan.managed.minimum_memory_mb == 2048
    spec = dataclasses.replace(fraud_detection(), concurrency=plan, memory_mb=32_768)
    assert spec.memory_mb == 32_768  # beyond Lambda (default)'s 10,240 MB
    assert code(lambda: dataclasses.replace(fraud_detection(), memory_mb=10_241)) == "SML107"
    assert ManagedInstances(memory_gib_per_vcpu=8.0).minimum_memory_mb == 8192
    assert ManagedInstances().vcpus(16384) == 4


def test_the_json_plan_carries_the_mode() -> None:
    plan = managed(max_concurrency=8, min_environments=3, max_environments=12)
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["mode"] == "managed_instances"
    assert data["managed_instances"]["max_environments"] == 12
    assert ConcurrencyPlan.from_dict(data) == plan
    # What a planner emits: the mode and its settings, the network left to deploy time.
    emitted = {"mode": "managed_instances", "managed_instances": {"max_environments": 30}}
    loaded = ConcurrencyPlan.from_dict(emitted)
    assert loaded.managed == ManagedInstances(max_environments=30)
    existing = ConcurrencyPlan.managed_instances(CapacityProvider.existing(ARN))
    assert ConcurrencyPlan.from_dict(existing.to_dict()) == existing
    # Other modes' JSON is what it always was.
    assert "managed_instances" not in ConcurrencyPlan.static(2).to_dict()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"mode": "managed_instances", "managed_instances": []}, "SML915"),
        ({"mode": "managed_instances", "managed_instances": {"vpc": "x"}}, "SML915"),
        ({"mode": "managed_instances",
          "managed_instances": {"capacity_provider": {"subnets": []}}}, "SML915"),
        ({"mode": "managed_instances",
          "managed_instances": {"capacity_provider": {"subnet_ids": 5}}}, "SML128"),
    ],
)  # fmt: skip
def test_malformed_json_is_refused(data: dict[str, Any], expected: str) -> None:
    assert code(lambda: ConcurrencyPlan.from_dict(data)) == expected


def test_the_capacity_provider_is_given_once() -> None:
    plan = ConcurrencyPlan.managed_instances(max_environments=4)
    filled = plan.with_capacity_provider(new_provider())
    assert filled.managed is not None and filled.managed.capacity_provider == new_provider()
    assert code(lambda: filled.with_capacity_provider(new_provider())) == "SML916"
    assert code(lambda: ConcurrencyPlan.static(1).with_capacity_provider(new_provider())) == (
        "SML916"
    )


# --- deployment settings (CDK context / Pulumi config) ----------------------------------------


def test_deploy_settings_fill_the_capacity_provider(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(ConcurrencyPlan.managed_instances(max_environments=6).to_dict()))
    plan = deployment.concurrency(
        str(path), arn=None, subnet_ids=",".join(SUBNETS), security_group_ids=f'["{GROUP}"]'
    )
    assert plan is not None and plan.managed is not None
    assert plan.managed.capacity_provider == new_provider()
    context = {"iot-anomaly:concurrency-plan": str(path), "iot-anomaly:capacity-provider-arn": ARN}
    by_context = deployment.from_cdk_context(context.get, "iot-anomaly")
    assert by_context is not None and by_context.managed is not None
    assert by_context.managed.capacity_provider == CapacityProvider.existing(ARN)
    config = {"concurrencyPlan": str(path), "subnetIds": list(SUBNETS),
              "securityGroupIds": GROUP}  # fmt: skip
    assert deployment.from_pulumi_config(config.get) == plan
    assert deployment.from_pulumi_config({}.get) is None
    assert code(lambda: deployment.concurrency(None, arn=ARN, subnet_ids=None,
                                               security_group_ids=None)) == "SML916"  # fmt: skip
    assert code(lambda: deployment.concurrency(str(path), arn=ARN, subnet_ids=SUBNETS[0],
                                               security_group_ids=None)) == "SML901"  # fmt: skip
    assert code(lambda: deployment.id_list("[1, 2]")) == "SML917"
    assert code(lambda: deployment.id_list("[oops")) == "SML917"


@pytest.mark.parametrize("scenario", ["fraud-detection", "iot-anomaly"])
def test_reference_scenarios_run_on_managed_instances_by_configuration(scenario: str) -> None:
    spec = SCENARIOS[scenario](concurrency=managed())
    assert spec.memory_mb == 4096  # raised to one vCPU at 4 GiB per vCPU
    plan = build_plan(spec)
    assert plan.managed_instances is not None
    assert enforce(plan).unaccepted == ()
    assert SCENARIOS[scenario]().memory_mb == 1024  # the default is untouched


# --- plan ------------------------------------------------------------------------------------


def test_plan_of_a_new_capacity_provider() -> None:
    spec = fraud_detection(
        concurrency=ConcurrencyPlan.managed_instances(
            new_provider(allowed_instance_types=("m7g.large",), max_vcpu=48,
                         target_cpu_utilization=55),
            max_concurrency=8, min_environments=3, max_environments=10,
        )
    )  # fmt: skip
    plan = build_plan(spec)
    (node,) = plan.capacity_providers
    assert node == CapacityProviderPlan(
        key="capacity",
        name="fraud-detection-capacity",
        subnet_ids=SUBNETS,
        security_group_ids=(GROUP,),
        architecture="arm64",
        allowed_instance_types=("m7g.large",),
        excluded_instance_types=(),
        max_vcpu_count=48,
        scaling_mode="Manual",
        scaling_policies=(("LambdaCapacityProviderAverageCPUUtilization", 55.0),),
        operator_role_name="fraud-detection-cp-operator",
        operator_trust_principals=("lambda.amazonaws.com",),
        operator_managed_policies=(
            Joined(("arn:", PARTITION, ":iam::aws:policy/AWSLambdaManagedEC2ResourceOperator")),
        ),
    )
    m = plan.managed_instances
    assert m is not None
    assert m.capacity_provider_arn == Ref("capacity_provider:capacity", "arn")
    assert (m.per_environment_max_concurrency, m.memory_gib_per_vcpu) == (8, 4.0)
    assert (m.min_environments, m.max_environments) == (3, 10)
    assert m.publish_latest_published is False
    env = dict(plan.function.environment)
    assert (env["SML_REQUESTS_PER_ENVIRONMENT"], env["SML_VCPUS_PER_ENVIRONMENT"]) == ("8", "1")
    # No provisioned concurrency, SnapStart or warmer in this mode.
    assert plan.alias.provisioned == 0 and plan.scaling is None and plan.warmer is None
    assert plan.function.snapstart is False and plan.function.reserved_concurrency is None


def test_alarms_fit_the_mode() -> None:
    spec = fraud_detection(concurrency=managed(max_concurrency=8, max_environments=10))
    alarms = {a.key: a for a in build_plan(spec).monitoring.alarms}
    assert "cold_starts" not in alarms
    assert not {"pc_spillover", "pc_utilization"} & set(alarms)
    assert "Managed Instances scale" in alarms["throttles"].description
    cpu = alarms["capacity_cpu"]
    assert cpu.metric is not None and cpu.metric.metric_name == "CPUUtilization"
    assert cpu.metric.dimensions == (("CapacityProviderName", "fraud-detection-capacity"),)
    assert (cpu.metric.statistic, cpu.threshold) == ("Average", 85)
    saturated = alarms["concurrency_saturation"]
    assert saturated.metric is not None
    assert saturated.metric.metric_name == "ConcurrentExecutions"
    assert saturated.metric.statistic == "Maximum"
    assert saturated.threshold == 72  # 90% of 10 environments x 8 requests
    widgets = {w.title for w in build_plan(spec).monitoring.widgets}
    assert "Managed Instances capacity" in widgets
    assert "Cold starts and inference latency" not in widgets
    # The default has its cold-start alarm and no capacity alarms.
    default = {a.key for a in build_plan(fraud_detection()).monitoring.alarms}
    assert "cold_starts" in default and not {"capacity_cpu", "concurrency_saturation"} & default


def test_an_existing_provider_creates_nothing() -> None:
    spec = iot_anomaly_detection(
        concurrency=ConcurrencyPlan.managed_instances(CapacityProvider.existing(ARN))
    )
    plan = build_plan(spec)
    assert plan.capacity_providers == ()
    assert plan.managed_instances is not None
    assert plan.managed_instances.capacity_provider_arn == ARN
    alarms = {a.key: a for a in plan.monitoring.alarms}
    assert alarms["capacity_cpu"].metric.dimensions == (  # type: ignore[union-attr]
        ("CapacityProviderName", "shared-trusted"),
    )
    assert "concurrency_saturation" not in alarms  # no max_environments: nothing to saturate
    env = dict(plan.function.environment)
    assert (env["SML_REQUESTS_PER_ENVIRONMENT"], env["SML_VCPUS_PER_ENVIRONMENT"]) == ("16", "1")


def test_alarm_thresholds_are_named_and_can_be_dropped() -> None:
    settings = (
        AlarmSettings()
        .with_threshold("capacity_cpu_pct", threshold=70)
        .with_threshold("concurrency_saturation_pct", enabled=False)
    )
    spec = dataclasses.replace(
        fraud_detection(concurrency=managed(max_environments=10)), alarms=settings
    )
    alarms = {a.key: a for a in build_plan(spec).monitoring.alarms}
    assert alarms["capacity_cpu"].threshold == 70
    assert "concurrency_saturation" not in alarms


def test_the_gate_on_managed_instances() -> None:
    plan = build_plan(fraud_detection(concurrency=managed()))
    report = evaluate(plan)
    assert report.unaccepted == () and report.stale == ()
    verdicts = {(v.rule, v.subject): v for v in report.verdicts}
    network = verdicts[("network-isolation", "function")]
    assert network.status == "met_otherwise" and SUBNETS[0] in network.detail
    limit = verdicts[("concurrency-limit", "function")]
    assert limit.status == "met_otherwise" and "400 vCPUs" in limit.detail
    accepted = {(a.verdict.rule, a.verdict.subject) for a in report.accepted}
    assert ("managed-policies", "capacity_provider:capacity") in accepted
    assert ("customer-managed-keys", "capacity_provider:capacity") in accepted
    # An operator role with no managed policy has nothing to accept: the acknowledgment
    # would be stale (SML702), so the plan's decision and its acknowledgment go together.
    (node,) = plan.capacity_providers
    bare = dataclasses.replace(node, operator_managed_policies=())
    resources = tuple(bare if r is node else r for r in plan.resources)
    stale = evaluate(dataclasses.replace(plan, resources=resources))
    assert [a.rule for a in stale.stale] == ["managed-policies"]


# --- cost ------------------------------------------------------------------------------------


def test_when_managed_instances_pay() -> None:
    steady_io, steady_cpu, bursty, sparse = (compare_costs(w) for w in worked_examples())
    assert steady_io.managed_pays and steady_io.ratio < 0.5
    assert not steady_cpu.managed_pays
    assert not bursty.managed_pays and bursty.peak_instances > steady_io.peak_instances
    assert not sparse.managed_pays
    assert sparse.peak_instances == limits.LMI_DEFAULT_MIN_ENVIRONMENTS  # three idle instances


def test_the_cost_model_by_hand() -> None:
    """One flat hour priced by hand: 100 req/s, 100 ms wall, 10 ms CPU, 1 GB, on m7g.large."""
    w = Workload(name="flat", hourly_rps=(100.0,) * 24, duration_ms=100, cpu_ms=10)
    c = compare_costs(w)
    requests = 100 * 3600 * 730
    assert c.requests_per_month == pytest.approx(requests)
    lambda_usd = requests * 0.2 / 1e6 + requests * 0.1 * 1 * 0.0000133334
    assert c.lambda_monthly_usd == pytest.approx(lambda_usd)
    # 1 vCPU busy / 0.6 = 1.67 vCPUs; 10 in flight / 16 = 0.6: 1 instance, at least 3.
    managed_usd = 3 * 0.0816 * 1.15 * 730 + requests * 0.2 / 1e6
    assert c.managed_monthly_usd == pytest.approx(managed_usd)
    with pytest.raises(ValueError, match="24"):
        Workload(name="x", hourly_rps=(1.0,), duration_ms=1, cpu_ms=1)
    with pytest.raises(ValueError, match="cpu_ms"):
        Workload(name="x", hourly_rps=(1.0,) * 24, duration_ms=1, cpu_ms=2)


def test_the_docs_print_the_computed_comparison() -> None:
    table = cost_table(compare_costs(w) for w in worked_examples())
    text = DOC.read_text()
    start, end = "<!-- cost-table:start -->\n", "\n<!-- cost-table:end -->"
    assert text[text.index(start) + len(start) : text.index(end)] == table, (
        "docs/managed-instances.md: paste the output of "
        "serverless_ml.core.managed_instances_costs.cost_table(...)"
    )
