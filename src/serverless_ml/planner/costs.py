"""Monthly cost of a simulated window, priced with core.limits (us-east-1, per architecture).

Components: requests; on-demand duration (GB-s, billed per ms rounded up); INIT billed like
duration (zip functions, since 2025-08-01); provisioned concurrency held (GB-s of configured
environments) and running (GB-s of requests served on them); SnapStart cache (GB-s of the
published version, all month, at least 3 hours) and restores (per GB restored) plus the billed
restore duration. A window is scaled to a month of 730 hours (AWS's pricing examples' month).
No free tier, no Savings Plans.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from serverless_ml.core import limits
from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.simulator import FunctionProfile, SimStats

HOURS_PER_MONTH = 730.0  # the month AWS's pricing pages use for their examples
MONTH_S = HOURS_PER_MONTH * 3600.0


@dataclass(frozen=True, kw_only=True)
class Prices:
    """USD unit prices for one architecture (see core.limits for sources and dates)."""

    architecture: str
    request_per_million: float
    gb_s: float
    pc_held_gb_s: float
    pc_running_gb_s: float
    snapstart_cache_gb_s: float
    snapstart_restore_gb: float
    init_billed: bool = limits.LAMBDA_INIT_BILLED

    @classmethod
    def for_architecture(cls, architecture: str = "arm64") -> Prices:
        if architecture not in limits.LAMBDA_ARCHITECTURES:
            raise PlannerError(
                "SML612", f"architecture {architecture!r}: use {limits.LAMBDA_ARCHITECTURES}"
            )
        return cls(
            architecture=architecture,
            request_per_million=limits.PRICE_REQUEST_PER_MILLION,
            gb_s=limits.PRICE_GB_S[architecture],
            pc_held_gb_s=limits.PRICE_PC_HELD_GB_S[architecture],
            pc_running_gb_s=limits.PRICE_PC_RUNNING_GB_S[architecture],
            snapstart_cache_gb_s=limits.PRICE_SNAPSTART_CACHE_GB_S,
            snapstart_restore_gb=limits.PRICE_SNAPSTART_RESTORE_GB,
        )

    def scaled(self, **factors: float) -> Prices:
        """These prices with some multiplied, e.g. ``scaled(gb_s=1.1)``."""
        known = {f.name for f in fields(self)} - {"architecture", "init_billed"}
        unknown = set(factors) - known
        if unknown:
            raise ValueError(f"unknown prices {sorted(unknown)}")
        return replace(self, **{k: getattr(self, k) * v for k, v in factors.items()})


@dataclass(frozen=True)
class MonthlyCost:
    """USD per month, by component."""

    requests: float = 0.0
    duration: float = 0.0
    init: float = 0.0
    pc_held: float = 0.0
    pc_running: float = 0.0
    snapstart_cache: float = 0.0
    snapstart_restore: float = 0.0

    @property
    def total(self) -> float:
        return float(sum(getattr(self, f.name) for f in fields(self)))

    def __add__(self, other: MonthlyCost) -> MonthlyCost:
        return MonthlyCost(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, float]:
        out = {f.name: round(getattr(self, f.name), 4) for f in fields(self)}
        out["total"] = round(self.total, 4)
        return out


def monthly_cost(stats: SimStats, profile: FunctionProfile, prices: Prices) -> MonthlyCost:
    """Price the window in ``stats`` and scale it to a month."""
    gb = profile.memory_gb
    scale = MONTH_S / (stats.minutes * 60.0)
    requests = (stats.invocations + stats.warmer_pings) / 1e6 * prices.request_per_million
    duration = stats.od_billed_ms / 1000.0 * gb * prices.gb_s
    pc_held = stats.pc_env_minutes * 60.0 * gb * prices.pc_held_gb_s
    pc_running = stats.pc_billed_ms / 1000.0 * gb * prices.pc_running_gb_s
    starts = stats.billed_cold_starts
    init = restore = cache = 0.0
    if stats.snapstart:
        # billed restore duration (runtime load + after-restore hooks) bounded by the restore time
        init = starts * _ceil_ms(profile.restore_ms) / 1000.0 * gb * prices.gb_s
        restore = starts * gb * prices.snapstart_restore_gb
        cache = gb * max(MONTH_S, limits.SNAPSTART_CACHE_MIN_S) * prices.snapstart_cache_gb_s
    elif prices.init_billed:
        init = starts * _ceil_ms(profile.init_ms) / 1000.0 * gb * prices.gb_s
    return MonthlyCost(
        requests=requests * scale,
        duration=duration * scale,
        init=init * scale,
        pc_held=pc_held * scale,
        pc_running=pc_running * scale,
        snapstart_cache=cache,  # the version is cached the whole month, whatever the window
        snapstart_restore=restore * scale,
    )


def _ceil_ms(ms: float) -> int:
    return int(-(-ms // 1))
