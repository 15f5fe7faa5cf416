"""A ``ColdStartReport`` as JSON (``--json``) or as the text table ``coldstarts`` prints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from serverless_ml.coldstarts.report import ColdStartReport, Figures, Spread


def report_dict(report: ColdStartReport, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every figure, JSON-ready; ``extra`` adds the comparisons."""
    out: dict[str, Any] = {
        "function": report.function,
        "log_group": report.log_group,
        "window": {"since": _iso(report.window.since), "until": _iso(report.window.until)},
        "log_formats": report.formats,
        "lines": {
            "platform": report.platform_lines,
            "unparsed": report.unparsed,
            "unparsed_samples": list(report.unparsed_samples),
            "other": report.other_lines,
            "logs_dropped": report.logs_dropped,
            "truncated": report.truncated,
        },
        "managed_instances": report.managed_instances,
        "snapstart": report.snapstart,
        "total": report.total.to_dict(),
        "versions": {v: f.to_dict() for v, f in report.versions.items()},
        "aliases": None
        if report.aliases is None
        else {
            name: {"weights": a.weights, **a.figures.to_dict()}
            for name, a in report.aliases.items()
        },
        "per_minute": {
            "first_minute": _iso(report.first_minute) if report.first_minute else None,
            "invocations": list(report.minute_counts),
        },
        "notes": list(report.notes),
    }
    out.update(extra or {})
    return out


def _iso(when: Any) -> str:
    return str(when.isoformat(timespec="seconds").replace("+00:00", "Z"))


def _ms(value: float | None) -> str:
    return "-" if value is None else (f"{value:.1f}" if value < 1000 else f"{value:,.0f}")


def _spread_row(label: str, spread: Spread, unit: str = "ms") -> str:
    cells = "".join(f"{_ms(v):>10}" for v in (spread.p50, spread.p90, spread.p99, spread.max))
    return (
        f"  {label:<30}{cells}   n={spread.count} {unit}"
        if spread.count
        else f"  {label:<30}{'-':>10}"
    )


def _cold_row(label: str, f: Figures) -> str:
    rate = f"{f.cold_start_rate:.2%}" if f.invocations else "-"
    spread = "".join(
        f"{_ms(v):>9}" for v in (f.init_ms.p50, f.init_ms.p90, f.init_ms.p99, f.init_ms.max)
    )
    return (
        f"  {label:<12}{f.invocations:>11,}{f.cold_starts:>7,}{rate:>9}{spread}"
        f"{f.restores:>9,}{f.provisioned_inits:>7,}{f.proactive_inits:>7,}{f.init_failures:>6,}"
    )


def format_text(report: ColdStartReport, extra: Mapping[str, Any] | None = None) -> str:
    t = report.total
    fmts = ", ".join(f"{k} {v:,}" for k, v in sorted(report.formats.items())) or "none"
    lines = [
        f"Cold starts: {report.function} (log group {report.log_group})",
        f"window {_iso(report.window.since)} .. {_iso(report.window.until)}; platform lines "
        f"{report.platform_lines:,} ({fmts}), unparsed {report.unparsed}, other lines "
        f"{report.other_lines:,}",
        "",
    ]
    if report.managed_instances:
        lines += [
            f"no per-request cold starts: {t.environment_starts} environment starts "
            f"(Lambda Managed Instances), {t.invocations:,} requests",
            _spread_row("environment INIT", t.environment_init_ms),
            "",
        ]
    else:
        lines += [
            f"  {'version':<12}{'requests':>11}{'cold':>7}{'rate':>9}{'INIT p50':>9}{'p90':>9}"
            f"{'p99':>9}{'max':>9}{'restores':>9}{'PC':>7}{'proact':>7}{'fail':>6}",
            *(_cold_row(v, f) for v, f in report.versions.items()),
            _cold_row("all", t),
        ]
        if report.aliases:
            for name, alias in report.aliases.items():
                routes = ", ".join(f"{v} {w:.0%}" for v, w in sorted(alias.weights.items()))
                lines.append(_cold_row(f"@{name}", alias.figures) + f"   -> {routes}")
        lines.append(
            "  cold = requests that waited for INIT or a SnapStart restore; PC = provisioned "
            "INITs; proact = on-demand INITs ahead of any request; fail = failed INITs"
        )
        if report.snapstart:
            lines.append(
                f"  SnapStart: {t.snapshot_inits} snapshot INITs (when a version is published; "
                f"no request waits), {t.restore_failures} failed restores"
            )
        lines += [
            "",
            f"  {'ms':<30}{'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}",
            _spread_row("INIT (on-demand cold starts)", t.init_ms),
            _spread_row("restore (SnapStart)", t.restore_ms),
            _spread_row("INIT (provisioned envs)", t.provisioned_init_ms),
            _spread_row("warm duration", t.warm_ms),
            _spread_row("cold duration (handler)", t.cold_ms),
            _spread_row("cold, waited in total", t.cold_total_ms),
            _spread_row("billed duration", t.billed_ms),
            f"  billed in total {t.billed_total_ms:,.0f} ms",
        ]
    if t.memory_mb:
        memory = ", ".join(f"{m} MB" for m in t.memory_mb)
        lines.append(
            f"memory: {memory} configured; max used p50 {_ms(t.max_memory_used_mb.p50)} MB, "
            f"max {_ms(t.max_memory_used_mb.max)} MB"
        )
    else:
        lines.append("memory: not in the reports (Managed Instances: the MemoryUtilization metric)")
    errors = ", ".join(f"{k} x{v}" for k, v in t.error_types.items())
    lines.append(
        "status: "
        + ", ".join(f"{k} {v:,}" for k, v in t.statuses.items())
        + (f" ({errors})" if errors else "")
    )
    for sample in report.unparsed_samples:
        lines.append(f"unparsed: {sample}")
    lines += [f"note: {n}" for n in report.notes]
    for key, block in (extra or {}).items():
        lines += ["", f"{key.replace('_', ' ')}:", *(f"  {s}" for s in block.get("lines", []))]
    return "\n".join(lines)
