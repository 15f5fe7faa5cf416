"""The plan as a picture: traffic, warm pool and cold starts over time (PNG).

matplotlib is imported here only, with the Agg backend, so the rest of the planner does not pay
for it; install it with the ``plot`` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.planner import PlanReport
from serverless_ml.planner.strategies import ON_DEMAND


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - the plot extra is part of dev
        raise PlannerError(
            "SML612", "drawing the plan needs matplotlib: pip install 'serverless-ml[plot]'"
        ) from exc
    return plt


def plot_plan(report: PlanReport, path: Path) -> Path:
    """Write the PNG and return its path."""
    plt = _pyplot()
    trace = report.trace
    hours = np.arange(trace.minutes) / 60.0
    traffic = np.sum([f.counts for f in trace.functions], axis=0)
    evaluated = hours[report.history :]
    best = report.recommended
    shown = list(dict.fromkeys((ON_DEMAND, best)))
    fig, axes = plt.subplots(3, 1, figsize=(11, 8), sharex=True, constrained_layout=True)
    traffic_ax, pool_ax, cold_ax = axes
    traffic_ax.plot(hours, traffic, lw=0.7, color="tab:blue")
    traffic_ax.set_ylabel("invocations / min")
    traffic_ax.set_title(
        f"{len(trace.functions)} function(s), {trace.source}: objective "
        f"{report.options.objective.text} -> "
        f"{report.chosen or 'none meets it (planner best effort)'}",
        fontsize=10,
    )
    colors = {ON_DEMAND: "tab:gray", best: "tab:green"}
    for name in shown:
        stats = report.detail[name]
        if stats.warm_envs is not None:
            pool_ax.step(
                evaluated,
                stats.warm_envs,
                where="post",
                lw=0.8,
                color=colors[name],
                label=f"{name}: warm environments",
            )
        if stats.pc_ready is not None:
            pool_ax.step(
                evaluated,
                stats.pc_ready,
                where="post",
                lw=0.8,
                ls="--",
                color="tab:orange",
                label=f"{name}: provisioned ready",
            )
        bins = max(1, min(10, len(evaluated) // 50))
        sums = np.add.reduceat(stats.cold_per_minute, np.arange(0, len(evaluated), bins))
        cold_ax.step(
            evaluated[::bins][: len(sums)],
            sums,
            where="post",
            lw=0.9,
            color=colors[name],
            label=f"{name}: {stats.cold_starts:,} cold starts",
        )
    pool_ax.set_ylabel("environments")
    pool_ax.legend(fontsize=8, loc="upper left")
    cold_ax.set_ylabel(f"cold starts / {max(1, min(10, len(evaluated) // 50))} min")
    cold_ax.set_xlabel(f"hours from {trace.start:%Y-%m-%d %H:%M} UTC")
    cold_ax.legend(fontsize=8, loc="upper left")
    for ax in axes:
        ax.axvspan(0, report.history / 60.0, color="0.92", zorder=0)
        ax.grid(alpha=0.3)
    traffic_ax.text(
        0.005, 0.95, "history (fit)", transform=traffic_ax.transAxes, va="top", fontsize=8
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
