"""``serverless-ml``: build-models, bundle, synth, plan, bench, local, coldstarts, demo.

Each subcommand imports what it needs when it runs, so ``--help`` stays instant and a missing
extra (cdk, pulumi, models) only matters to the command that needs it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from serverless_ml.spec.errors import SpecError

Handler = Callable[[argparse.Namespace], int]


def _build_models(args: argparse.Namespace) -> int:
    from serverless_ml.models.build import build_all

    cards = build_all(check=args.check)
    for card in cards:
        print(f"{card['name']}: {card['size_bytes']} bytes sha256={card['sha256'][:12]}")
    print("models match the committed artifacts" if args.check else "models written")
    return 0


def _bundle(args: argparse.Namespace) -> int:
    from serverless_ml.bundling import bundle_function
    from serverless_ml.core.plan import build_plan
    from serverless_ml.reference.scenarios import SCENARIOS

    spec = SCENARIOS[args.scenario]()
    if args.architecture:
        spec = dataclasses.replace(spec, architecture=args.architecture)
    bundle = bundle_function(build_plan(spec).function)
    summary = {
        "scenario": args.scenario,
        "path": str(bundle.path),
        "content_hash": bundle.content_hash,
        "unzipped_mb": round(bundle.unzipped_bytes / 2**20, 2),
        "zipped_mb": round(bundle.zipped_bytes / 2**20, 2),
        "pyc_compiled": bundle.pyc_compiled,
        "warnings": list(bundle.warnings),
    }
    print(
        json.dumps(summary, indent=2)
        if args.json
        else "\n".join(f"{k}: {v}" for k, v in summary.items())
    )
    return 0


def _synth(args: argparse.Namespace) -> int:
    from serverless_ml.reference.cdk_app import build_app

    outdir = Path(args.outdir)
    build_app(outdir=outdir).synth()
    for template in sorted(outdir.glob("*.template.json")):
        print(f"synthesized {template} (cdk-nag gate passed)")
    return 0


def _plan(args: argparse.Namespace) -> int:
    from serverless_ml.planner.cli import main_plan

    return main_plan(args)


def _bench_cold_start(args: argparse.Namespace) -> int:
    warm = {} if args.warm_invokes is None else {"warm_invokes": args.warm_invokes}
    if args.all:
        from serverless_ml.bench.every_function import (
            format_every_function_table,
            run_every_function_bench,
        )

        every = run_every_function_bench(repeats=args.repeats, **warm)
        print(json.dumps(every, indent=2) if args.json else format_every_function_table(every))
        return 0
    from serverless_ml.bench.cold_start import format_cold_start_table, run_cold_start_bench

    result = run_cold_start_bench(repeats=args.repeats, **warm)
    print(json.dumps(result, indent=2) if args.json else format_cold_start_table(result))
    return 0


def _bench_ablation(args: argparse.Namespace) -> int:
    from serverless_ml.bench.ablation import (
        format_ablation_markdown,
        format_ablation_table,
        run_ablation_bench,
    )

    result = run_ablation_bench(repeats=args.repeats, warm_invokes=args.warm_invokes)
    if args.png:
        from serverless_ml.bench.ablation_figure import write_ablation_png

        write_ablation_png(result, Path(args.png))
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.markdown:
        print(format_ablation_markdown(result))
    else:
        print(format_ablation_table(result))
    return 0


def _bench_iot(args: argparse.Namespace) -> int:
    from serverless_ml.bench.iot_throughput import format_iot_table, run_iot_bench

    result = run_iot_bench(repeats=args.repeats)
    print(json.dumps(result, indent=2) if args.json else format_iot_table(result))
    return 0


def _bench_image(args: argparse.Namespace) -> int:
    from serverless_ml.bench.image_bench import format_image_table, run_image_bench

    result = run_image_bench(repeats=args.repeats)
    print(json.dumps(result, indent=2) if args.json else format_image_table(result))
    return 0


def _bench_compiled(args: argparse.Namespace) -> int:
    from serverless_ml.bench.compiled_runtime import format_compiled_table, run_compiled_bench

    result = run_compiled_bench(repeats=args.repeats, warm_calls=args.warm_calls)
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2) if args.json else format_compiled_table(result))
    return 0


def _bench_edge(args: argparse.Namespace) -> int:
    from serverless_ml.bench.edge_bench import format_edge_table, run_edge_bench

    result = run_edge_bench(repeats=args.repeats, warm_calls=args.warm_calls)
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2) if args.json else format_edge_table(result))
    return 0


def _bench_stream_writes(args: argparse.Namespace) -> int:
    from serverless_ml.bench.stream_writes import (
        format_stream_writes_table,
        run_stream_writes_bench,
    )

    result = run_stream_writes_bench(rounds=args.rounds)
    print(json.dumps(result, indent=2) if args.json else format_stream_writes_table(result))
    return 0


def _bench_planner(args: argparse.Namespace) -> int:
    from serverless_ml.planner.bench import main_bench

    return main_bench(args)


def _coldstarts(args: argparse.Namespace) -> int:
    from serverless_ml.coldstarts.cli import main_coldstarts

    return main_coldstarts(args)


def _demo(args: argparse.Namespace) -> int:
    from serverless_ml.local.demo import run_demo

    return run_demo(
        synth=not args.no_synth, rebuild_models=args.rebuild_models, duration_s=args.duration
    )


def _local(args: argparse.Namespace) -> int:
    from serverless_ml.local.moto_server import LocalRunError
    from serverless_ml.local.runner import RunOptions, run_local
    from serverless_ml.local.services import LOCAL_SERVICES
    from serverless_ml.local.services.base import ServiceOptions
    from serverless_ml.local.traffic import Burst, PatternError
    from serverless_ml.spec import ConcurrencyPlan

    if args.all == bool(args.scenario):
        print("error: name a SCENARIO or give --all", file=sys.stderr)
        return 2
    if args.all and args.concurrency_plan:
        print("error: a --concurrency-plan is one function's: name its SCENARIO", file=sys.stderr)
        return 2
    try:
        options = RunOptions(
            rate_per_s=args.rate,
            duration_s=args.duration,
            burst=Burst.parse(args.burst) if args.burst else None,
            concurrency=args.concurrency,
            keep_alive_s=args.keep_alive,
            endpoint=args.endpoint,
            concurrency_plan=(
                ConcurrencyPlan.from_json_file(args.concurrency_plan)
                if args.concurrency_plan
                else None
            ),
            out=Path(args.out),
            serve=args.serve,
            progress=not args.no_progress,
            service=ServiceOptions(
                duplicate_rate=args.duplicates, payload_version=args.payload_version
            ),
        )
        options.pattern  # noqa: B018 - validates the traffic shape before anything starts
    except PatternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    scenarios = list(LOCAL_SERVICES) if args.all else [args.scenario]
    try:
        runs = run_local(scenarios, options)
    except (ValueError, LocalRunError) as exc:  # cannot run as asked, or no AWS to run on
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopped: every worker, front and server shut down", file=sys.stderr)
        return 130
    failed = [run.scenario for run in runs if not run.ok]
    print("\n" + (f"FAILED: {', '.join(failed)}" if failed else f"all {len(runs)} passed"))
    return 1 if failed else 0


def _add_local_arguments(p: argparse.ArgumentParser) -> None:
    from serverless_ml.local.services import LOCAL_SERVICES

    p.add_argument("scenario", nargs="?", choices=list(LOCAL_SERVICES))
    p.add_argument("--all", action="store_true", help="every reference service, one after another")
    p.add_argument("--rate", type=float, default=5.0, help="traffic items per second (default 5)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of traffic (default 10)")
    p.add_argument("--burst", help="FACTORxLENGTHs/EVERYs, e.g. 5x2s/10s")
    p.add_argument("--concurrency", type=int, help="environments per function (default 4)")
    p.add_argument(
        "--keep-alive", type=float, default=60.0, help="seconds an idle environment lives"
    )
    p.add_argument(
        "--endpoint",
        help="AWS endpoint URL (LocalStack), or 'aws' for your account; default: moto's server",
    )
    p.add_argument(
        "--duplicates", type=float, default=0.0, help="S3: share of events delivered twice"
    )
    p.add_argument(
        "--payload-version", choices=("1.0", "2.0"), help="HTTP API payload format to send"
    )
    p.add_argument(
        "--concurrency-plan",
        help="a ConcurrencyPlan JSON (serverless-ml plan's output) instead of the defaults",
    )
    p.add_argument("--out", default="local-runs", help="where plots and logs go")
    p.add_argument("--serve", action="store_true", help="keep the fronts up until Ctrl-C")
    p.add_argument("--no-progress", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="serverless-ml", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build-models", help="train, convert and card every shipped model")
    p.add_argument("--check", action="store_true", help="rebuild in a temp dir and compare")
    p.set_defaults(handler=_build_models)

    p = sub.add_parser("bundle", help="build (or reuse) a scenario's Lambda artifact")
    p.add_argument("--scenario", default="fraud-detection")
    p.add_argument("--architecture", choices=("arm64", "x86_64"), default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_bundle)

    p = sub.add_parser("synth", help="synthesize every reference CDK stack through cdk-nag")
    p.add_argument("--outdir", default="cdk.out")
    p.set_defaults(handler=_synth)

    p = sub.add_parser("plan", help="plan warm capacity from an invocation trace")
    try:
        from serverless_ml.planner.cli import add_plan_arguments
    except ImportError:  # pragma: no cover - planner is part of the package
        pass
    else:
        add_plan_arguments(p)
    p.set_defaults(handler=_plan)

    bench = sub.add_parser("bench", help="benchmarks that print numbers (never assert times)")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    p = bench_sub.add_parser("cold-start", help="our INIT vs a naive scikit-learn handler")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--all", action="store_true", help="every reference function against its naive twin"
    )
    p.add_argument(
        "--warm-invokes", type=int, default=None, help="in-process warm invokes per function"
    )
    p.set_defaults(handler=_bench_cold_start)
    p = bench_sub.add_parser(
        "ablation",
        help="every cold-start lever turned off alone, per reference function (INIT, first "
        "invoke, warm, sizes)",
    )
    p.add_argument("--repeats", type=int, default=5, help="fresh processes per variant")
    p.add_argument(
        "--warm-invokes", type=int, default=200, help="in-process warm invokes per process"
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--markdown", action="store_true", help="print the docs' tables")
    p.add_argument("--png", help="also draw the INIT and warm deltas to this PNG")
    p.set_defaults(handler=_bench_ablation)
    p = bench_sub.add_parser("iot", help="Kinesis batch scoring: records/s, batched vs one by one")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_bench_iot)
    p = bench_sub.add_parser("image", help="S3 image function: INIT, images/s in both modes, sizes")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_bench_image)
    p = bench_sub.add_parser(
        "compiled", help="fraud function: compiled model vs onnxruntime (INIT, warm, sizes)"
    )
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--warm-calls", type=int, default=2000)
    p.add_argument("--json", action="store_true")
    p.add_argument("--output", help="also write the JSON result to this file")
    p.set_defaults(handler=_bench_compiled)
    p = bench_sub.add_parser(
        "edge",
        help="edge personalization function: compiled vs onnxruntime (INIT, requests, sizes)",
    )
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--warm-calls", type=int, default=2000)
    p.add_argument("--json", action="store_true")
    p.add_argument("--output", help="also write the JSON result to this file")
    p.set_defaults(handler=_bench_edge)
    p = bench_sub.add_parser(
        "stream-writes",
        help="fraud stream batches to moto on loopback: sequential vs overlapped conditional puts",
    )
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_bench_stream_writes)
    p = bench_sub.add_parser(
        "planner", help="planner speed: a trace, its counts x100, a 10,000-function fleet"
    )
    try:
        from serverless_ml.planner.bench import add_bench_arguments
    except ImportError:  # pragma: no cover
        pass
    else:
        add_bench_arguments(p)
    p.set_defaults(handler=_bench_planner)

    p = sub.add_parser("local", help="run reference services end to end on this machine")
    _add_local_arguments(p)
    p.set_defaults(handler=_local)

    p = sub.add_parser("coldstarts", help="cold starts of a deployed function, from its logs")
    from serverless_ml.coldstarts.cli import add_coldstarts_arguments

    add_coldstarts_arguments(p)
    p.set_defaults(handler=_coldstarts)

    p = sub.add_parser("demo", help="everything local: models, synth, every service, numbers")
    p.add_argument("--duration", type=float, help="seconds of traffic per service (default 8)")
    p.add_argument("--no-synth", action="store_true", help="skip the CDK synth step")
    p.add_argument(
        "--rebuild-models", action="store_true", help="retrain and compare instead of hash-check"
    )
    p.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
