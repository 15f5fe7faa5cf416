"""Latency over time for a local run, cold starts marked (PNG). matplotlib (the ``plot`` extra)
is imported here only, with the Agg backend."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from serverless_ml.local.records import InvokeRecord


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_latency(invokes: Sequence[InvokeRecord], path: Path, *, title: str) -> Path:
    """One panel per function: each invoke's duration (warm dots coloured by event source, cold
    starts as red crosses at INIT + duration), log scale; throttles as ticks on the time axis."""
    plt = _pyplot()
    functions = sorted({r.function for r in invokes})
    figure, axes = plt.subplots(
        len(functions) or 1, 1, figsize=(10, 2.6 * max(1, len(functions))), squeeze=False
    )
    for axis, function in zip(axes[:, 0], functions, strict=False):
        mine = [r for r in invokes if r.function == function]
        warm = [r for r in mine if not r.cold and not r.throttled]
        cold = [r for r in mine if r.cold]
        throttled = [r for r in mine if r.throttled]
        for source in sorted({r.source for r in warm}):  # one colour per event source
            runs = [r for r in warm if r.source == source]
            axis.scatter(
                [r.at_s for r in runs],
                [max(r.duration_ms, 0.01) for r in runs],
                s=6,
                alpha=0.6,
                label=f"warm {source} ({len(runs)})",
            )
        axis.scatter(
            [r.at_s for r in cold],
            [(r.init_ms or 0.0) + r.duration_ms for r in cold],
            marker="x",
            color="red",
            s=40,
            label=f"cold start: INIT + invoke ({len(cold)})",
        )
        if throttled:
            axis.scatter(
                [r.at_s for r in throttled],
                [0.01] * len(throttled),
                marker="|",
                color="black",
                label=f"throttled ({len(throttled)})",
            )
        axis.set_yscale("log")
        axis.set_ylabel("ms")
        axis.set_title(function, fontsize=10)
        axis.legend(loc="upper right", fontsize=8)
        axis.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("seconds since the run began")
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
