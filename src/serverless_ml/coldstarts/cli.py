"""``serverless-ml coldstarts``: the options and the function behind them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from serverless_ml.coldstarts.errors import ColdStartsError
from serverless_ml.coldstarts.lambda_api import describe_function
from serverless_ml.coldstarts.log_lines import LogFormat
from serverless_ml.coldstarts.reader import DEFAULT_MAX_LINES, parse_window, read_events
from serverless_ml.spec.errors import SpecError


def add_coldstarts_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--function", required=True, help="the deployed function's name")
    p.add_argument("--since", default="24h", help="24h, 30m, 7d, or ISO 8601 (default 24h)")
    p.add_argument("--until", default="now", help="now, a span back, or ISO 8601 (default now)")
    p.add_argument("--region", help="AWS region (default: the AWS SDK's)")
    p.add_argument("--endpoint", help="endpoint URL (moto, LocalStack)")
    p.add_argument(
        "--log-group", help="default: the function's LoggingConfig, else /aws/lambda/NAME"
    )
    p.add_argument(
        "--log-format",
        choices=("auto", "Text", "JSON"),
        default="auto",
        help="system log format (default: the function's LoggingConfig, else both)",
    )
    p.add_argument("--json", action="store_true", help="every figure as JSON")
    p.add_argument("--insights", action="store_true", help="print the Logs Insights queries")
    p.add_argument("--compare-bench", type=Path, help="`bench cold-start --json` output file")
    p.add_argument(
        "--compare-plan",
        nargs="?",
        const="auto",
        metavar="PLAN",
        help="simulate the observed traffic: a ConcurrencyPlan JSON, a reference scenario, or "
        "nothing (the scenario of that function name, else on-demand)",
    )
    p.add_argument(
        "--max-lines", type=int, default=DEFAULT_MAX_LINES, help="stop reading after N lines"
    )


def _clients(args: argparse.Namespace) -> tuple[Any, Any]:
    import boto3
    from botocore.config import Config

    common: dict[str, Any] = {"region_name": args.region, "endpoint_url": args.endpoint}
    logs = boto3.client(
        "logs", config=Config(retries={"max_attempts": 5, "mode": "standard"}), **common
    )
    quick = Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 1})
    return logs, boto3.client("lambda", config=quick, **common)


def run_coldstarts(args: argparse.Namespace) -> str:
    """The text (or JSON) to print; ``ColdStartsError`` when it cannot be measured."""
    from botocore.exceptions import BotoCoreError

    from serverless_ml.coldstarts.compare import compare_bench, compare_plan, resolve_plan
    from serverless_ml.coldstarts.insights import format_queries
    from serverless_ml.coldstarts.render import format_text, report_dict
    from serverless_ml.coldstarts.report import build_report
    from serverless_ml.core.naming import log_group_name

    name = args.function.strip()
    if not name or args.max_lines < 1:
        raise ColdStartsError("SML807", "--function must name a function and --max-lines be >= 1")
    fixed: LogFormat | None = None if args.log_format == "auto" else args.log_format
    if args.insights:
        return format_queries(args.log_group or log_group_name(name), fixed)
    window = parse_window(args.since, args.until)
    try:
        logs, lambda_client = _clients(args)
    except BotoCoreError as exc:
        raise ColdStartsError("SML803", f"AWS client: {exc}") from None
    info = describe_function(lambda_client, name)
    group = args.log_group or info.log_group or log_group_name(name)
    fmt = fixed or info.log_format
    formats: tuple[LogFormat, ...] = (fmt,) if fmt else ("Text", "JSON")
    read = read_events(
        logs, log_group=group, window=window, formats=formats, max_lines=args.max_lines
    )
    report = build_report(
        read.events,
        function=name,
        log_group=group,
        window=window,
        info=info,
        truncated=read.truncated,
    )
    if report.platform_lines == 0:
        raise ColdStartsError(
            "SML804",
            f"no platform line in {group} between {args.since} and {args.until} "
            f"({report.unparsed} unparsed, {report.other_lines} other lines): invoke the "
            "function, widen --since, or check --log-group / --region",
        )
    extra: dict[str, Any] = {}
    if args.compare_bench:
        extra["compare_bench"] = compare_bench(args.compare_bench, report)
    if args.compare_plan:
        plan, source = resolve_plan(args.compare_plan, name, report)
        extra["compare_plan"] = compare_plan(report, plan, source)
    if args.json:
        return json.dumps(report_dict(report, extra), indent=2)
    return format_text(report, extra)


def main_coldstarts(args: argparse.Namespace) -> int:
    try:
        print(run_coldstarts(args))
    except SpecError as exc:  # ColdStartsError and the plan file's own codes
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
