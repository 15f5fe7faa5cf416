"""A seeded synthetic trace shaped like the Azure Functions 2019 workload.

What it imitates (Shahrad et al., USENIX ATC 2020, "Serverless in the Wild"): invocation rates
spread over many orders of magnitude; about 45% of functions are invoked at most once an hour
(some on a timer), most traffic comes from a few busy functions, and busy traffic follows a
daily cycle with bursts. Each function gets its own lognormal-ish mean duration and one of the
usual memory sizes. The same ``seed`` always gives the same trace.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.traces import (
    AZURE_DURATIONS_GLOB,
    AZURE_INVOCATIONS_GLOB,
    AZURE_MEMORY_GLOB,
    FunctionTrace,
    Trace,
)

SYNTHETIC_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, 00:00 UTC
MEMORY_CHOICES_MB = (512, 1024, 1769, 2048)


@dataclass(frozen=True, kw_only=True)
class Mix:
    """Share of functions per traffic class; mean rates (invocations/min) drawn log-uniformly."""

    sparse: float = 0.45  # at most once an hour: 1/day .. 1/hour
    medium: float = 0.35  # 1/hour .. 1/minute
    busy: float = 0.17  # 1 .. 100 per minute
    heavy: float = 0.03  # 100 .. 1000 per minute


RATE_RANGES = {  # log10 of invocations per minute
    "sparse": (-np.log10(1440.0), -np.log10(60.0)),
    "medium": (-np.log10(60.0), 0.0),
    "busy": (0.0, 2.0),
    "heavy": (2.0, 3.0),
}


def _classes(n: int, mix: Mix) -> list[str]:
    shares = {"sparse": mix.sparse, "medium": mix.medium, "busy": mix.busy, "heavy": mix.heavy}
    counts = {k: round(v * n) for k, v in shares.items()}
    counts["sparse"] += n - sum(counts.values())
    return [k for k in ("heavy", "busy", "medium", "sparse") for _ in range(max(counts[k], 0))][:n]


def _hash(seed: int, *parts: object) -> str:
    return hashlib.sha256(f"sml-synthetic:{seed}:{':'.join(map(str, parts))}".encode()).hexdigest()


def daily_shape(minutes: int, *, peak_hour: float, amplitude: float) -> np.ndarray:
    """1 + amplitude * cos(...) peaking at ``peak_hour`` UTC; mean 1 over whole days."""
    hours = np.arange(minutes) / 60.0
    return 1.0 + amplitude * np.cos(2 * np.pi * (hours - peak_hour) / 24.0)


def synthetic_trace(
    functions: int = 100,
    *,
    days: float = 1.0,
    seed: int = 0,
    mix: Mix | None = None,
    start: datetime = SYNTHETIC_START,
) -> Trace:
    """A trace of ``functions`` functions over ``days`` days (a whole number of minutes)."""
    if functions < 1 or days <= 0:
        raise PlannerError("SML612", "synthetic trace needs functions >= 1 and days > 0")
    minutes = round(days * 1440)
    rng = np.random.default_rng(seed)
    out = []
    for i, kind in enumerate(_classes(functions, mix or Mix())):
        lo, hi = RATE_RANGES[kind]
        mean_rate = 10 ** rng.uniform(lo, hi)
        trigger = "http"
        if kind == "sparse" and rng.random() < 0.4:
            counts = _timer(minutes, mean_rate, rng)
            trigger = "timer"
        else:
            shape = daily_shape(
                minutes, peak_hour=rng.normal(14.0, 2.0), amplitude=rng.uniform(0.3, 0.9)
            )
            rate = mean_rate * shape
            if kind in ("busy", "heavy"):
                rate = rate * _bursts(minutes, rng)
            counts = rng.poisson(rate).astype(np.int64)
            if kind == "medium" and rng.random() < 0.3:
                trigger = "queue"
        owner, app = _hash(seed, "owner", i % 7), _hash(seed, "app", i)
        out.append(
            FunctionTrace(
                name=_hash(seed, "function", i),
                counts=counts,
                owner=owner,
                app=app,
                trigger=trigger,
                duration_ms=float(np.round(10 ** rng.uniform(1.3, 2.7), 1)),  # 20..500 ms
                memory_mb=float(rng.choice(MEMORY_CHOICES_MB)),
            )
        )
    return Trace(functions=tuple(out), start=start, source=f"synthetic(seed={seed})")


def _timer(minutes: int, mean_rate: float, rng: np.random.Generator) -> np.ndarray:
    """A timer trigger: one invocation every ``period`` minutes at a fixed offset."""
    period = int(min(1440, max(60, round(1.0 / mean_rate / 60.0) * 60)))
    counts = np.zeros(minutes, dtype=np.int64)
    counts[int(rng.integers(0, period)) :: period] = 1
    return counts


def _bursts(minutes: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative bursts: ~3 a day, 2-15 minutes long, x3-x10."""
    factor = np.ones(minutes)
    for _ in range(rng.poisson(3.0 * minutes / 1440.0)):
        begin = int(rng.integers(0, minutes))
        length = int(rng.integers(2, 16))
        factor[begin : begin + length] *= rng.uniform(3.0, 10.0)
    return factor


def write_azure(trace: Trace, directory: Path | str) -> list[Path]:
    """Write ``trace`` as Azure day files (invocations, durations, memory) into ``directory``.

    A trace longer than a day is split into day files d01, d02, ...; a partial last day keeps
    its own number of minute columns. Returns the files written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    days = max(1, -(-trace.minutes // 1440))
    for day in range(days):
        lo, hi = day * 1440, min(trace.minutes, (day + 1) * 1440)
        suffix = f"{day + 1:02d}"
        inv = directory / AZURE_INVOCATIONS_GLOB.replace("*", suffix)
        with inv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(
                ["HashOwner", "HashApp", "HashFunction", "Trigger"]
                + [str(m) for m in range(1, hi - lo + 1)]
            )
            for f in trace.functions:
                writer.writerow([f.owner, f.app, f.name, f.trigger, *f.counts[lo:hi].tolist()])
        dur = directory / AZURE_DURATIONS_GLOB.replace("*", suffix)
        with dur.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["HashOwner", "HashApp", "HashFunction", "Average", "Count"])
            for f in trace.functions:
                if f.duration_ms is not None:
                    n = int(f.counts[lo:hi].sum())
                    writer.writerow([f.owner, f.app, f.name, f.duration_ms, n])
        mem = directory / AZURE_MEMORY_GLOB.replace("*", suffix)
        with mem.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["HashOwner", "HashApp", "SampleCount", "AverageAllocatedMb"])
            apps: dict[tuple[str, str], float] = {}
            for f in trace.functions:
                if f.memory_mb is not None:
                    apps.setdefault((f.owner, f.app), f.memory_mb)
            for (owner, app), mb in apps.items():
                writer.writerow([owner, app, 1440, mb])
        written += [inv, dur, mem]
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m serverless_ml.planner.synthetic DIR``: write a synthetic Azure-layout trace."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m serverless_ml.planner.synthetic")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--functions", type=int, default=100)
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    trace = synthetic_trace(args.functions, days=args.days, seed=args.seed)
    for path in write_azure(trace, args.directory):
        print(path)
    print(
        f"{len(trace.functions)} functions, {trace.minutes} minutes, {trace.invocations:,} invocations"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
