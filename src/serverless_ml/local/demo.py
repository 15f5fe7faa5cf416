"""``serverless-ml demo``: the fraud reference service end to end on this machine, no AWS account.

1. model: the committed card must describe the committed model.onnx (``--rebuild-models``
   retrains in a temporary directory and compares instead); its headline metrics are printed.
2. synth: every reference CDK stack through the cdk-nag gate into ./cdk.out, then cfn-lint.
3. handler: the planned Lambda bundle, built for this machine, read-only, in a fresh interpreter
   of the runtime's Python; INIT timed; every generated transaction sent as an HTTP API request,
   then again as DynamoDB stream batches (poison mixed in) against moto_server on 127.0.0.1.
4. summary: decisions and the generator's fraud labels per decision, every check, the numbers.

The exit code is 0 only if every check passed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import Ref, ServicePlan, TablePlan
from serverless_ml.local.fraud_traffic import (
    HTTP_POISON,
    StreamTraffic,
    http_events,
    http_poison_events,
    stream_traffic,
)
from serverless_ml.local.fresh_process import (
    LocalBundle,
    invoke_in_fresh_process,
    local_bundle,
    read_only_task_root,
    scratch_dir,
)
from serverless_ml.local.lambda_sdk import link_sdk
from serverless_ml.local.moto_server import moto_server
from serverless_ml.local.tables import create_tables, scan
from serverless_ml.reference.scenarios import fraud_detection
from sml_handlers.runtime import env

DEMO_SEED: Final = 20240601
SYNTH_OUTDIR: Final = Path("cdk.out")
DECISIONS: Final = ("approve", "review", "decline")  # sml_handlers.fraud.features.DECISIONS
# CDK adds a DependsOn from each function to its role that cfn-lint flags as redundant (W3005):
# boilerplate that is not ours to change; the project's .cfnlintrc ignores exactly this rule too.
CFN_LINT_IGNORED: Final = ("W3005",)
REGION: Final = "us-east-1"
FAKE_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
CHILD_TIMEOUT_BASE_S: Final = 180.0
CHILD_TIMEOUT_PER_TXN_S: Final = 0.05


@dataclass
class Outcome:
    """Checks passed and failed so far (``(ok, text)``), notes, and figures for the summary."""

    checks: list[tuple[bool, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    templates: list[Path] = field(default_factory=list)

    def check(self, ok: bool, text: str) -> bool:
        self.checks.append((ok, text))
        print(f"  {'ok  ' if ok else 'FAIL'} {text}", flush=True)
        return ok

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(ok for ok, _ in self.checks)


def _step(number: int, title: str, body: Callable[[], None]) -> None:
    print(f"\n[{number}/4] {title}", flush=True)
    began = time.perf_counter()
    body()
    print(f"  ({time.perf_counter() - began:.1f} s)", flush=True)


# --- 1. model ------------------------------------------------------------------------------------


def _headline(card: Mapping[str, Any]) -> Iterator[str]:
    yield (
        f"{card.get('name')} {card.get('version')}: model.onnx {card.get('size_bytes')} bytes, "
        f"sha256 {str(card.get('sha256'))[:12]}"
    )
    metrics = card.get("metrics", {})
    numbers = [
        f"{k} {v}" if isinstance(v, int) else f"{k} {v:.3f}"
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    if numbers:
        yield f"{metrics.get('split', 'held-out')} split: {', '.join(numbers)}"
    for name, values in metrics.items():
        if isinstance(values, Mapping) and {"threshold", "precision", "recall"} <= set(values):
            yield (
                f"{name.removeprefix('at_')} at score >= {values['threshold']:.4f}: "
                f"precision {values['precision']:.2f}, recall {values['recall']:.2f}, "
                f"alert rate {values.get('alert_rate', float('nan')):.2%}"
            )


def _model(outcome: Outcome, rebuild: bool) -> None:
    from serverless_ml.models.errors import ModelError

    try:
        if rebuild:
            from serverless_ml.models.build import build_all

            cards = build_all(check=True)
            claim = (
                "rebuilt from the generator in a temporary directory: identical to the committed"
            )
        else:
            from serverless_ml.models.build import validate_committed

            cards = validate_committed()
            claim = "committed model.onnx matches its card (sha256, size)"
    except (ModelError, ImportError) as error:
        outcome.check(False, f"model: {error}")
        return
    for card in cards:
        for line in _headline(card):
            print(f"  {line}")
    outcome.check(True, f"{len(cards)} model(s): {claim}")


# --- 2. synth ------------------------------------------------------------------------------------


def _cfn_lint() -> str | None:
    beside = Path(sys.executable).parent / "cfn-lint"
    return str(beside) if beside.is_file() else shutil.which("cfn-lint")


def _synth(outcome: Outcome, outdir: Path) -> None:
    try:
        from serverless_ml.reference.cdk_app import build_app

        assembly = build_app(outdir=outdir).synth()
    except ImportError as error:
        outcome.check(
            False, f"synth needs the cdk extra (pip install 'serverless-ml[cdk]'): {error}"
        )
        return
    except Exception as error:  # jsii surfaces cdk-nag findings and synth errors as exceptions
        outcome.check(False, f"synth: {type(error).__name__}: {str(error)[:2000]}")
        return
    outcome.templates = [Path(stack.template_full_path).resolve() for stack in assembly.stacks]
    outcome.check(True, f"{len(outcome.templates)} stack(s) synthesized; cdk-nag gate passed")
    lint = _cfn_lint()
    if lint is None:
        outcome.notes.append("cfn-lint is not installed: the templates were not linted")
        return
    templates = [str(path) for path in outcome.templates]
    result = subprocess.run(
        [lint, *templates, "--ignore-checks", *CFN_LINT_IGNORED],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = (result.stdout + result.stderr).strip()
    outcome.check(
        result.returncode == 0,
        "cfn-lint: clean" if result.returncode == 0 else f"cfn-lint findings:\n{findings[-3000:]}",
    )


# --- 3. handler in a fresh process ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class HandlerRun:
    local: LocalBundle
    endpoint: str
    traffic: StreamTraffic
    replay_index: int
    task_root: Path
    report: dict[str, Any]
    decisions: dict[str, dict[str, Any]]  # the results table after the run, by key


def _child_env(endpoint: str, scratch: Path) -> dict[str, str]:
    nowhere = str(scratch / "no-aws-config")  # never read the user's real AWS profiles
    return {
        **FAKE_CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": nowhere,
        "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _run_handler(plan: ServicePlan, transactions: list[dict[str, object]]) -> HandlerRun:
    import boto3

    began = time.perf_counter()
    local = local_bundle(plan.function)
    print(
        f"  bundle {'reused' if local.bundle.from_cache else 'built'} "
        f"({local.bundle.architecture}, Python {local.bundle.python_version}) "
        f"in {time.perf_counter() - began:.1f} s",
        flush=True,
    )
    mapping = plan.stream_mappings[0]
    source = plan.node(mapping.source_arn.resource) if isinstance(mapping.source_arn, Ref) else None
    if not isinstance(source, TablePlan):
        raise RuntimeError("the demo needs a stream from a table the service creates")
    results_table = plan.function.literal_environment()[env.RESULTS_TABLE]
    with scratch_dir() as scratch, moto_server(log_path=scratch / "moto.log") as endpoint:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        dynamodb = session.client("dynamodb", endpoint_url=endpoint)
        streams = session.client("dynamodbstreams", endpoint_url=endpoint)
        stream_arns = create_tables(dynamodb, plan)
        print(f"  moto_server at {endpoint}: tables {', '.join(t.name for t in plan.tables)}")
        stream_arn = stream_arns[source.key]
        if stream_arn is None:
            raise RuntimeError(f"{source.name} has no stream in the plan")
        traffic = stream_traffic(
            dynamodb,
            streams,
            table=source.name,
            stream_arn=stream_arn,
            transactions=transactions,
            batch_size=mapping.batch_size,
        )
        print(
            f"  {traffic.records} items written to {source.name}, read back from its stream",
            flush=True,
        )
        replay_index = next((i for i in range(len(traffic.batches)) if traffic.poison_in(i)), 0)
        job = {
            "sdk_path": str(link_sdk(scratch / "sdk")),
            "http_events": http_events(transactions),
            "poison_http_events": http_poison_events(transactions[0]),
            "stream_events": traffic.batches,
            "replay_index": replay_index,
            "results_table": results_table,
        }
        task_root = read_only_task_root(local.bundle, scratch)
        report = invoke_in_fresh_process(
            local,
            task_root,
            plan.function,
            job,
            scratch,
            env=_child_env(endpoint, scratch),
            timeout_s=CHILD_TIMEOUT_BASE_S + CHILD_TIMEOUT_PER_TXN_S * len(transactions),
        )
        decisions = {item["transaction_id"]["S"]: item for item in scan(dynamodb, results_table)}
    return HandlerRun(
        local=local,
        endpoint=endpoint,
        traffic=traffic,
        replay_index=replay_index,
        task_root=task_root,
        report=report,
        decisions=decisions,
    )


def _failures(outcome: Mapping[str, Any]) -> set[str] | None:
    response = outcome.get("response")
    if not isinstance(response, Mapping):
        return None
    return {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}


def _http_decisions(run: HandlerRun, ids: Sequence[str], outcome: Outcome) -> list[str]:
    answers = run.report["http"]
    decisions: list[str] = []
    ok = 0
    for txn_id, answer in zip(ids, answers, strict=True):
        response = answer.get("response") or {}
        body = json.loads(response.get("body", "{}"))
        good = response.get("statusCode") == 200 and body.get("transaction_id") == txn_id
        ok += good and body.get("decision") in DECISIONS
        decisions.append(body.get("decision", "error"))
    outcome.check(
        ok == len(ids), f"HTTP API: {ok}/{len(ids)} transactions answered 200 with a decision"
    )
    statuses = [(a.get("response") or {}).get("statusCode") for a in run.report["poison_http"]]
    outcome.check(
        statuses == [400] * len(HTTP_POISON),
        f"HTTP API poison ({', '.join(HTTP_POISON)}): answered {statuses}",
    )
    return decisions


def _check_stream(run: HandlerRun, ids: Sequence[str], http: Sequence[str], out: Outcome) -> None:
    report, traffic = run.report, run.traffic
    errors = [o["error"] for o in report["stream"] if "error" in o]
    reported: set[str] = set()
    for outcome in report["stream"]:
        reported |= _failures(outcome) or set()
    out.check(
        not errors and reported == set(traffic.poison),
        f"DynamoDB stream: {traffic.records} records in {len(traffic.batches)} batch(es) of up to "
        f"{traffic.batch_size}; "
        f"batchItemFailures = exactly the {len(traffic.poison)} poison records "
        f"({', '.join(sorted(set(traffic.poison.values())))})"
        + (f"; batch errors: {errors[:3]}" if errors else "")
        + ("" if reported == set(traffic.poison) else f"; reported {len(reported)}"),
    )
    by_id = dict(zip(ids, http, strict=True))
    table = run.decisions
    agree = sum(1 for key, item in table.items() if by_id.get(key) == item["decision"]["S"])
    out.check(
        set(table) == set(ids) and agree == len(ids),
        f"decisions table: {len(table)} items for {len(ids)} transactions, "
        f"{agree} equal to the HTTP answer for the same transaction",
    )
    replay = report["replay"]
    unchanged = report["after_replay"] == report["before_replay"]
    out.check(
        _failures(replay) == traffic.poison_in(run.replay_index) and unchanged,
        f"replay of batch {run.replay_index + 1}: same {len(traffic.poison_in(run.replay_index))} "
        f"failure(s) reported, {'no' if unchanged else 'SOME'} new or changed decisions",
    )


def _check_process(run: HandlerRun, outcome: Outcome) -> None:
    report = run.report
    numpy_file = str(report.get("numpy_file"))
    cold = report["emf"].get("ColdStart", 0)
    outcome.check(
        numpy_file.startswith(f"{run.task_root}/") and not report["boto3_at_init"] and cold == 1,
        f"fresh process: numpy from the bundle, boto3 not loaded at INIT, {cold} ColdStart metric "
        f"({report['emf'].get('InferenceLatency', 0)} InferenceLatency)",
    )


# --- 4. summary ----------------------------------------------------------------------------------


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _decision_table(decisions: Sequence[str], labels: Sequence[int]) -> list[str]:
    frauds = sum(labels)
    lines = [
        f"decisions over {len(decisions)} generated transactions "
        f"(generator labels: {frauds} fraud, {frauds / len(labels):.1%}):"
    ]
    counts, fraud_counts = (
        Counter(decisions),
        Counter(d for d, y in zip(decisions, labels, strict=True) if y),
    )
    for decision in DECISIONS:
        n = counts[decision]
        rate = f"{fraud_counts[decision] / n:6.1%}" if n else "     -"
        lines.append(f"  {decision:<8}{n:>6} ({n / len(decisions):6.1%})   fraud among them {rate}")
    caught = fraud_counts["review"] + fraud_counts["decline"]
    if frauds:
        lines.append(
            f"  frauds sent to review or declined: {caught}/{frauds} ({caught / frauds:.0%})"
        )
    return lines


def _numbers(run: HandlerRun) -> list[str]:
    report, local = run.report, run.local
    warm_us = [ms * 1000.0 for ms in report["http_ms"][1:]] or [report["http_ms"][0] * 1000.0]
    batch_ms = report["stream_ms"]
    bundle = local.bundle
    return [
        f"INIT {report['init_ms']:.0f} ms (handler import: numpy, onnxruntime, session, "
        "warm-up inference), "
        f"first invoke {report['http_ms'][0]:.2f} ms",
        f"warm HTTP invoke: p50 {_percentile(warm_us, 0.5):.0f} us, "
        f"p99 {_percentile(warm_us, 0.99):.0f} us over {len(warm_us)} calls",
        f"stream batch (score + conditional writes to moto over HTTP): p50 "
        f"{_percentile(batch_ms, 0.5):.0f} ms, first {batch_ms[0]:.0f} ms (includes importing boto3)",
        f"ran {local.interpreter} -I -B on a read-only copy of {bundle.path} "
        f"({bundle.architecture}, Python {bundle.python_version}, "
        f".pyc {'precompiled' if bundle.pyc_compiled else 'NOT precompiled'}, "
        f"{bundle.unzipped_bytes / 2**20:.0f} MB unzipped)",
        f"local AWS: moto_server at {run.endpoint} (stopped)",
    ]


def run_demo(*, transactions: int = 2000, synth: bool = True, rebuild_models: bool = False) -> int:
    """Run the demo (module docstring) and print as it goes; 0 if every check passed, else 1."""
    if transactions < 1:
        print("error: --transactions must be >= 1", file=sys.stderr)
        return 2
    began = time.perf_counter()
    outcome = Outcome()
    plan = build_plan(fraud_detection())
    print(f"serverless-ml demo: {plan.service}, everything local (no AWS account, no Docker)")
    _step(1, "model", lambda: _model(outcome, rebuild_models))
    if synth:
        _step(
            2,
            f"synth every reference stack into {SYNTH_OUTDIR}/",
            lambda: _synth(outcome, SYNTH_OUTDIR),
        )
    else:
        print("\n[2/4] synth: skipped (--no-synth)")
    state: dict[str, Any] = {}

    def handler_step() -> None:
        from serverless_ml.models.fraud_data import generate_transactions

        txns, labels = generate_transactions(transactions, seed=DEMO_SEED)
        print(f"  {len(txns)} transactions from the generator (seed {DEMO_SEED})", flush=True)
        try:
            run = _run_handler(plan, txns)
        except Exception as error:  # report and fail; the summary still prints what it can
            outcome.check(False, f"handler run: {type(error).__name__}: {str(error)[-3000:]}")
            return
        ids = [str(t["transaction_id"]) for t in txns]
        outcome.notes.extend(run.local.notes)
        http = _http_decisions(run, ids, outcome)
        _check_stream(run, ids, http, outcome)
        _check_process(run, outcome)
        state.update(run=run, http=http, labels=labels)

    _step(3, f"{plan.function.handler} in a fresh process, local DynamoDB", handler_step)
    print("\n[4/4] summary")
    if "run" in state:
        for line in [*_decision_table(state["http"], state["labels"]), *_numbers(state["run"])]:
            print(f"  {line}")
    for path in outcome.templates:
        print(f"  template: {path}")
    for note in outcome.notes:
        print(f"  note: {note}")
    failed = [text for ok, text in outcome.checks if not ok]
    elapsed = time.perf_counter() - began
    if outcome.ok:
        print(f"\ndemo OK: {len(outcome.checks)} checks passed in {elapsed:.0f} s")
        return 0
    print(f"\ndemo FAILED: {len(failed)} of {len(outcome.checks)} checks failed ({elapsed:.0f} s)")
    return 1
