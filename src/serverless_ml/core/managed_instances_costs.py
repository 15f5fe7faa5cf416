"""When Lambda Managed Instances pay: a month of one workload priced both ways.

Lambda (default) bills every request's wall-clock duration in GB-seconds. Managed Instances
bill the EC2 instances kept running (plus a 15% management fee), whatever they do, plus the
same per-request charge. So they pay for a workload that is steady (instances stay busy) and
waits on I/O (many requests share a vCPU while Lambda would bill each one's wait), and lose
for a sparse one (three instances idle) or a bursty one (capacity scales asynchronously on CPU
and traffic more than doubling within five minutes is throttled, so the instances must be held
at the burst's level all the time).

The model, per hour of a typical day: requests at the busiest minute's rate need
``rate x cpu`` vCPUs busy at the scaling target, and ``rate x duration`` requests in flight at
``requests_per_vcpu`` each; the instances cover the larger, and never fewer than the three
Lambda launches for AZ resiliency. Not counted: the free tier, INIT billing, the network the
instances need (a NAT gateway or VPC endpoints), and Savings Plans (which discount the
instances, not the fee). Prices and quotas come from ``core.limits``; ``docs/managed-instances.md``
prints ``cost_table(compare_costs(w) for w in worked_examples())``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from serverless_ml.core import limits

# Sizing assumptions of the estimate (not deployment settings): the CPU share a scaling target
# keeps busy, and the requests one vCPU serves at once (Python's default).
TARGET_CPU = 0.6
HOURS_PER_DAY = 24


@dataclass(frozen=True, kw_only=True)
class Workload:
    """One function's traffic on a typical day, repeated for a month.

    ``hourly_rps``: mean requests per second in each of the 24 hours; ``peak_to_mean``: the
    busiest minute's rate over its hour's mean (1 for smooth traffic); ``duration_ms``: wall
    clock per request (what Lambda bills); ``cpu_ms``: CPU per request (what instances supply);
    ``memory_mb``: the Lambda (default) function's memory.
    """

    name: str
    hourly_rps: tuple[float, ...]
    duration_ms: float
    cpu_ms: float
    memory_mb: int = 1024
    peak_to_mean: float = 1.0
    architecture: str = "arm64"

    def __post_init__(self) -> None:
        if len(self.hourly_rps) != HOURS_PER_DAY or min(self.hourly_rps) < 0:
            raise ValueError("hourly_rps: 24 non-negative rates, one per hour of the day")
        if not 0 < self.cpu_ms <= self.duration_ms:
            raise ValueError("cpu_ms: above 0 and at most duration_ms")
        if self.peak_to_mean < 1:
            raise ValueError("peak_to_mean: at least 1")


@dataclass(frozen=True, kw_only=True)
class CostComparison:
    workload: Workload
    instance_type: str
    requests_per_month: float
    lambda_monthly_usd: float
    managed_monthly_usd: float
    mean_instances: float
    peak_instances: int

    @property
    def managed_pays(self) -> bool:
        return self.managed_monthly_usd < self.lambda_monthly_usd

    @property
    def ratio(self) -> float:
        """Managed Instances' monthly cost over Lambda's (0.3: 70% cheaper)."""
        return self.managed_monthly_usd / self.lambda_monthly_usd


def instances_needed(
    rps: float,
    w: Workload,
    *,
    instance_type: str,
    target_cpu: float = TARGET_CPU,
    requests_per_vcpu: int = limits.LMI_PYTHON_DEFAULT_CONCURRENCY_PER_VCPU,
) -> int:
    """Instances that serve ``rps`` at its busiest minute without throttling."""
    vcpus_per_instance, _ = limits.EC2_INSTANCE_SHAPES[instance_type]
    peak = rps * w.peak_to_mean
    busy = peak * w.cpu_ms / 1000.0 / target_cpu
    in_flight = peak * w.duration_ms / 1000.0 / requests_per_vcpu
    needed = math.ceil(max(busy, in_flight) / vcpus_per_instance - 1e-9)
    return max(limits.LMI_DEFAULT_MIN_ENVIRONMENTS, needed)


def compare_costs(
    w: Workload, *, instance_type: str = "m7g.large", target_cpu: float = TARGET_CPU
) -> CostComparison:
    """A month of ``w`` on Lambda (default) and on Managed Instances of ``instance_type``."""
    days = limits.HOURS_PER_MONTH / HOURS_PER_DAY
    requests = sum(rps * 3600 for rps in w.hourly_rps) * days
    request_charge = requests * limits.PRICE_REQUEST_PER_MILLION / 1e6
    gb_seconds = requests * w.duration_ms / 1000.0 * w.memory_mb / 1024
    lambda_usd = request_charge + gb_seconds * limits.PRICE_GB_S[w.architecture]
    instances = [instances_needed(rps, w, instance_type=instance_type, target_cpu=target_cpu)
                 for rps in w.hourly_rps]  # fmt: skip
    hourly = limits.EC2_ON_DEMAND_HOURLY[instance_type] * (1 + limits.LMI_MANAGEMENT_FEE_RATE)
    managed_requests = requests * limits.LMI_PRICE_REQUEST_PER_MILLION / 1e6
    managed_usd = sum(instances) * hourly * days + managed_requests
    return CostComparison(
        workload=w,
        instance_type=instance_type,
        requests_per_month=requests,
        lambda_monthly_usd=lambda_usd,
        managed_monthly_usd=managed_usd,
        mean_instances=sum(instances) / HOURS_PER_DAY,
        peak_instances=max(instances),
    )


def worked_examples() -> tuple[Workload, ...]:
    """The four workloads docs/managed-instances.md prices (the fraud function's figures:
    ~15 ms of model and feature CPU; ~150 ms wall clock with its DynamoDB write)."""
    day = (0.4,) * 7 + (1.0,) * 12 + (0.6,) * 5  # quiet nights, busy working hours
    return (
        Workload(name="steady, busy, waits on I/O (fraud API + DynamoDB write)",
                 hourly_rps=tuple(400 * f for f in day), duration_ms=150, cpu_ms=15,
                 peak_to_mean=1.2),
        Workload(name="steady, busy, CPU-bound (inference only)",
                 hourly_rps=tuple(400 * f for f in day), duration_ms=15, cpu_ms=15,
                 peak_to_mean=1.2),
        Workload(name="bursty (flash sales: 30x for minutes)",
                 hourly_rps=tuple(20 * f for f in day), duration_ms=150, cpu_ms=15,
                 peak_to_mean=30),
        Workload(name="sparse (one request a minute)",
                 hourly_rps=(1 / 60,) * HOURS_PER_DAY, duration_ms=150, cpu_ms=15),
    )  # fmt: skip


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value < 10 else f"${value:,.0f}"


def _count(value: float) -> str:
    return f"{value / 1e6:,.1f} M" if value >= 1e6 else f"{value:,.0f}"


def cost_table(comparisons: Iterable[CostComparison]) -> str:
    """The Markdown table docs/managed-instances.md carries (a test keeps them equal)."""
    rows = [
        "| workload | requests / month | Lambda (default) | Managed Instances | instances "
        "(mean / peak) | Managed Instances / Lambda |",
        "|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        ratio = c.ratio
        times = f"{ratio:.2f}x" if ratio < 10 else f"{ratio:,.0f}x"
        rows.append(
            f"| {c.workload.name} | {_count(c.requests_per_month)} "
            f"| {_usd(c.lambda_monthly_usd)} | {_usd(c.managed_monthly_usd)} "
            f"| {c.mean_instances:.1f} / {c.peak_instances} {c.instance_type} | {times} |"
        )
    return "\n".join(rows)
