"""``serverless-ml demo``: every reference service end to end on this machine, no AWS account.

1. models: each committed card must describe its committed model (``--rebuild-models``
   retrains in a temporary directory and compares instead); headline metrics are printed.
2. synth: every reference CDK stack through the cdk-nag gate into ./cdk.out, then cfn-lint.
3. services: ``serverless-ml local --all`` with the demo's traffic: each service's resources
   on moto's server, its function from its built bundle in Lambda-like environments, its event
   sources (HTTP API, DynamoDB and Kinesis pollers, S3 async delivery, CloudFront), generated
   traffic with poison mixed in, every result read back and checked.
4. summary: one line per service (invocations, cold starts, INIT, latency, results, failures),
   every check.

The exit code is 0 only if every check passed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from serverless_ml.local.runner import RunOptions, ScenarioRun, run_local
from serverless_ml.local.services import LOCAL_SERVICES
from serverless_ml.local.services.base import ServiceOptions
from serverless_ml.local.traffic import Burst

SYNTH_OUTDIR: Final = Path("cdk.out")
# CDK adds a DependsOn from each function to its role that cfn-lint flags as redundant (W3005):
# boilerplate that is not ours to change; the project's .cfnlintrc ignores exactly this rule too.
CFN_LINT_IGNORED: Final = ("W3005",)
DEMO_RATE_PER_S: Final = 8.0
DEMO_DURATION_S: Final = 8.0
DEMO_BURST: Final = "3x2s/6s"  # a burst early on: scale-out and cold starts to look at
DEMO_DUPLICATES: Final = 0.1  # S3: one event in ten delivered twice
LOCAL_OUT: Final = Path("local-runs")


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


# --- 3. every service through the local runner -------------------------------------------------


def demo_options(duration_s: float = DEMO_DURATION_S) -> RunOptions:
    return RunOptions(
        rate_per_s=DEMO_RATE_PER_S,
        duration_s=duration_s,
        burst=Burst.parse(DEMO_BURST),
        out=LOCAL_OUT,
        progress=False,
        service=ServiceOptions(duplicate_rate=DEMO_DUPLICATES),  # the services' default seed
    )


def _services(outcome: Outcome, runs: list[ScenarioRun], options: RunOptions) -> None:
    try:
        runs.extend(run_local(list(LOCAL_SERVICES), options, echo=lambda line: print(line)))
    except Exception as error:  # report and fail; the summary still prints what it can
        outcome.check(False, f"local run: {type(error).__name__}: {str(error)[-3000:]}")
        return
    for run in runs:
        passed = sum(ok for ok, _ in run.checks)
        outcome.check(
            run.ok,
            f"{run.scenario}: {passed}/{len(run.checks)} checks"
            + ("" if run.drained else ", NOT drained"),
        )


# --- 4. one screen -------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def summary_table(runs: list[ScenarioRun]) -> list[str]:
    """One row per service: what ran and how fast, then what it wrote and where bad input went."""
    header = (
        f"{'service':<21}{'invokes':>8}{'cold':>5}{'INIT p50':>10}{'warm p50':>10}"
        f"{'warm p99':>10}{'errors':>7}{'throttled':>10}{'cost $':>11}"
    )
    rows = [header, "-" * len(header)]
    for run in runs:
        f = run.function
        rows.append(
            f"{run.scenario:<21}{f.invocations:>8}{f.cold_starts:>5}{_ms(f.init_p50_ms):>10}"
            f"{_ms(f.warm_p50_ms):>10}{_ms(f.warm_p99_ms):>10}{sum(f.errors.values()):>7}"
            f"{f.throttles:>10}{f.cost_usd:>11.6f}"
        )
    rows.append("")
    rows += [f"{run.scenario:<21}results: {run.written}; bad input: {run.failures}" for run in runs]
    rows.append(
        "(ms; INIT: a fresh environment importing the handler; errors: invokes that failed as "
        "a whole, a stream batch of only poison records among them: poison is otherwise "
        "reported per record)"
    )
    return rows


def run_demo(
    *, synth: bool = True, rebuild_models: bool = False, duration_s: float | None = None
) -> int:
    """Run the demo (module docstring) and print as it goes; 0 if every check passed, else 1."""
    began = time.perf_counter()
    outcome = Outcome()
    options = demo_options(duration_s or DEMO_DURATION_S)
    print(
        "serverless-ml demo: every reference service, everything local (no AWS account, no Docker)"
    )
    _step(1, "models", lambda: _model(outcome, rebuild_models))
    if synth:
        _step(
            2,
            f"synth every reference stack into {SYNTH_OUTDIR}/",
            lambda: _synth(outcome, SYNTH_OUTDIR),
        )
    else:
        print("\n[2/4] synth: skipped (--no-synth)")
    runs: list[ScenarioRun] = []
    _step(
        3,
        f"every service on moto's server: {options.rate_per_s:g} items/s for "
        f"{options.duration_s:g} s, bursts {DEMO_BURST}",
        lambda: _services(outcome, runs, options),
    )
    print("\n[4/4] summary")
    for line in summary_table(runs):
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
