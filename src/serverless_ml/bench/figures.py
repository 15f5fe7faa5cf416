"""Shared figures of the benchmarks: percentiles, latency summaries, side-by-side tables."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

from serverless_ml.bundling import Bundle, BundleSpec, BundleWarning, build_bundle
from serverless_ml.bundling.spec import Architecture


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def latency_summary(values_us: Sequence[float]) -> dict[str, float]:
    """p50/p99/mean of microsecond timings, in milliseconds."""
    return {
        "p50_ms": round(percentile(values_us, 0.50) / 1000.0, 4),
        "p99_ms": round(percentile(values_us, 0.99) / 1000.0, 4),
        "mean_ms": round(statistics.fmean(values_us) / 1000.0, 4),
    }


def row(label: str, left: str, right: str) -> str:
    """One line of a two-variant table."""
    return f"  {label:<34}{left:>16}{right:>16}"


def ms(value: float) -> str:
    return f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"


def kb(size: int) -> str:
    return f"{size / 1024:,.0f} KB"


def local_and_deployed(
    specs: Mapping[str, BundleSpec],
    *,
    python: str,
    version: str,
    architecture: Architecture,
    cache_dir: Path,
) -> tuple[dict[str, Bundle], dict[str, Bundle], list[str]]:
    """Each spec built twice: for this host (its architecture and ``python``, to run here) and
    as deployed (to size); plus the bundler's warnings, as notes."""
    import dataclasses
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BundleWarning)
        local = {
            label: build_bundle(
                dataclasses.replace(
                    spec,
                    architecture=architecture,
                    python_version=version,
                    local_only=version != spec.python_version,
                ),
                cache_dir=cache_dir,
                target_python=python,
            )
            for label, spec in specs.items()
        }
        deployed = {label: build_bundle(spec, cache_dir=cache_dir) for label, spec in specs.items()}
    notes = [str(w.message) for w in caught if issubclass(w.category, BundleWarning)]
    return local, deployed, notes
