"""Fraud detection locally: transactions sent as HTTP requests to the local HTTP API and written
to the transactions table, whose stream the local mapping delivers to the same function; poison
mixed into both paths (``local.fraud_traffic``)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from typing import Any, Final

from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import Ref, TablePlan
from serverless_ml.local.events import to_item
from serverless_ml.local.fraud_traffic import STREAM_POISON, UNKNOWN_CATEGORY, poison_items
from serverless_ml.local.http_front import serve_http
from serverless_ml.local.services.base import ServiceResults
from serverless_ml.local.services.streaming import StreamFedService, unreported
from serverless_ml.local.tables import scan
from serverless_ml.reference.scenarios import fraud_detection
from serverless_ml.spec import ConcurrencyPlan
from sml_handlers.fraud.features import DECISIONS
from sml_handlers.runtime import env

POISON_EVERY: Final = 10  # the 3rd item of each path, then every 10th, is poison
POISON_AT: Final = 2
HTTP_TIMEOUT_S: Final = 30.0
# A caller retries 429 the way the AWS SDKs' standard mode does: a few times, backing off.
THROTTLED: Final = 429
THROTTLE_RETRIES: Final = 4
THROTTLE_BACKOFF_S: Final = 0.1


def _http_poison(template: dict[str, object], which: int) -> bytes:
    if which % 3 == 0:
        return json.dumps({**template, "amount": float("nan")}).encode()  # a NaN literal
    if which % 3 == 1:
        return json.dumps({**template, "merchant_category": UNKNOWN_CATEGORY}).encode()
    return json.dumps(template).encode()[:-7]  # truncated


class FraudService(StreamFedService):
    scenario = "fraud-detection"
    unit = "transactions"

    def __init__(self, concurrency: ConcurrencyPlan | None = None) -> None:
        super().__init__(build_plan(fraud_detection(concurrency=concurrency)))
        self.url = ""
        self.statuses: Counter[str] = Counter()
        self.decisions: Counter[str] = Counter()
        self.stream_good: set[str] = set()
        self.stream_poison: set[str] = set()
        self.lock = threading.Lock()
        self.transactions: list[dict[str, object]] = []
        self.labels: list[int] = []
        self.throttle_retries = 0
        self.answered: list[tuple[str, int]] = []  # (decision, generator label) per HTTP 200

    def open(self) -> list[str]:
        from serverless_ml.models.fraud_data import generate_transactions

        http = self.plan.http
        assert http is not None
        self.url = self.exits.enter_context(
            serve_http(
                http,
                self.invoker("http", wait=False),
                payload_version=self.ctx.options.payload_version,
            )
        )
        self.transactions, self.labels = generate_transactions(2000, seed=self.ctx.options.seed)
        source = self.mapping.source_arn
        table = self.plan.node(source.resource) if isinstance(source, Ref) else None
        if not isinstance(table, TablePlan):
            raise RuntimeError("the fraud stream must come from a table the service creates")
        self.table = table
        self.start_poller()
        return [
            f"HTTP API: {http.method} {self.url}{http.path}",
            f"DynamoDB stream: {self.table.name} -> {self.function.name}",
        ]

    def track(self, record: dict[str, Any]) -> str | None:
        key = str(record.get("dynamodb", {}).get("Keys", {}).get("transaction_id", {}).get("S"))
        return key if key in self.stream_poison else None

    def _transaction(self, index: int) -> dict[str, object]:
        base = self.transactions[index % len(self.transactions)]
        return {**base, "transaction_id": f"{base['transaction_id']}-{index}"}

    def send(self, index: int) -> None:
        """Even items go over HTTP, odd ones into the table (and so its stream)."""
        transaction = self._transaction(index)
        poison = (index // 2) % POISON_EVERY == POISON_AT
        if index % 2 == 0:
            body = _http_poison(transaction, index) if poison else json.dumps(transaction).encode()
            self._post(body, poison, self.labels[index % len(self.labels)])
        else:
            self._put(transaction, poison, index)

    def _post(self, body: bytes, poison: bool, label: int) -> None:
        assert self.plan.http is not None
        request = urllib.request.Request(
            self.url + self.plan.http.path,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        for attempt in range(THROTTLE_RETRIES + 1):
            status, answer = _request(request)
            if status != THROTTLED or attempt == THROTTLE_RETRIES:
                break
            with self.lock:
                self.throttle_retries += 1
            time.sleep(THROTTLE_BACKOFF_S * 2**attempt)
        decision = ""
        if status == 200:
            decision = str(json.loads(answer).get("decision", ""))
        with self.lock:
            self.statuses[f"{'poison ' if poison else ''}{status}"] += 1
            if decision:
                self.decisions[decision] += 1
                if not poison:
                    self.answered.append((decision, label))

    def _put(self, transaction: dict[str, object], poison: bool, index: int) -> None:
        if poison:
            kind = STREAM_POISON[(index // (2 * POISON_EVERY)) % len(STREAM_POISON)]
            item = poison_items(transaction)[kind]
            item["transaction_id"] = {"S": f"poison-{index}"}
        else:
            item = to_item(transaction)
        key = item["transaction_id"]["S"]
        self.ctx.resources.client("dynamodb").put_item(TableName=self.table.name, Item=item)
        with self.lock:
            (self.stream_poison if poison else self.stream_good).add(key)

    def results(self) -> ServiceResults:
        results = ServiceResults()
        http_ok = self.statuses["200"]
        http_sent = sum(n for s, n in self.statuses.items() if not s.startswith("poison"))
        poison_sent = sum(n for s, n in self.statuses.items() if s.startswith("poison"))
        results.lines.append(
            f"HTTP: {http_sent} transactions -> {http_ok} answered 200 "
            f"({', '.join(f'{n} {d}' for d, n in sorted(self.decisions.items()))}); "
            f"{poison_sent} poison -> {self.statuses['poison 400']} answered 400; statuses "
            + ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
            + f"; {self.throttle_retries} retried after a 429 (function at its concurrency)"
        )
        results.check(
            http_ok == http_sent, f"HTTP: {http_ok}/{http_sent} good requests answered 200"
        )
        results.check(
            self.statuses["poison 400"] == poison_sent,
            f"HTTP: {self.statuses['poison 400']}/{poison_sent} poison requests answered 400",
        )
        results.lines += decision_table(self.answered)
        decided = {
            item["transaction_id"]["S"]
            for item in scan(self.ctx.resources.client("dynamodb"), self._decisions_table())
        }
        messages = self.stream_lines(results)
        results.lines.append(
            f"DynamoDB stream: {len(self.stream_good)} good items -> {len(decided & self.stream_good)} "
            f"decisions; {len(self.stream_poison)} poison items -> "
            f"{len(decided & self.stream_poison)} decisions, {len(messages)} on-failure record(s)"
        )
        results.check(
            decided == self.stream_good,
            f"decisions table: {len(decided)} items = the {len(self.stream_good)} good stream "
            "items, each once",
        )
        positions = self.poller.positions if self.poller is not None else {}
        missing = sorted(set(self.stream_poison) - set(positions)) + unreported(positions, messages)
        results.check(
            not missing,
            f"every poison stream item ({len(self.stream_poison)}) inside a range on the failure "
            f"queue ({len(messages)} range(s))" + (f"; not: {missing[:5]}" if missing else ""),
        )
        results.figures.update(
            http=dict(self.statuses), decisions=len(decided), good=len(self.stream_good)
        )
        results.written = f"{len(decided)} decisions written, {http_ok} HTTP answers"
        results.failures = (
            f"{self.statuses['poison 400']} HTTP 400; {len(self.stream_poison)} stream -> "
            f"{len(messages)} failure-queue range(s)"
        )
        return results

    def _decisions_table(self) -> str:
        return self.ctx.environment[env.RESULTS_TABLE]


def _request(request: urllib.request.Request) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def decision_table(answered: list[tuple[str, int]]) -> list[str]:
    """HTTP decisions against the generator's fraud labels."""
    if not answered:
        return []
    frauds = sum(label for _, label in answered)
    lines = [
        f"HTTP decisions over {len(answered)} transactions (generator labels: {frauds} fraud):"
    ]
    counts = Counter(d for d, _ in answered)
    fraud_counts = Counter(d for d, label in answered if label)
    for decision in DECISIONS:
        n = counts[decision]
        rate = f"{fraud_counts[decision] / n:6.1%}" if n else "     -"
        lines.append(f"  {decision:<8}{n:>6} ({n / len(answered):6.1%})   fraud among them {rate}")
    if frauds:
        caught = fraud_counts["review"] + fraud_counts["decline"]
        lines.append(
            f"  frauds sent to review or declined: {caught}/{frauds} ({caught / frauds:.0%})"
        )
    return lines
