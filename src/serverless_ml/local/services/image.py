"""Image processing locally: digit images, scanned rows of digits and unreadable files put under
``uploads/`` in the service's bucket; the bucket's object-created notifications reach the
function through Lambda's asynchronous invoke (its internal queue, retries, event age and
on-failure destination: ``local.async_delivery``), at least once (``--duplicates`` delivers a
share twice). Results go to the results table and to ``results/`` in the same bucket."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, Final

from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import ServicePlan
from serverless_ml.local import image_uploads
from serverless_ml.local.async_delivery import AsyncDelivery
from serverless_ml.local.image_uploads import Upload
from serverless_ml.local.s3_events import BucketEventRelay, NotificationRule
from serverless_ml.local.services.base import (
    LocalService,
    ServiceResults,
    queue_messages,
    queue_sender,
    queue_url,
)
from serverless_ml.local.tables import scan
from serverless_ml.reference.scenarios import image_processing
from serverless_ml.spec import ConcurrencyPlan
from sml_handlers.runtime import env

UNREADABLE_EVERY: Final = 25  # every 25th upload is a file the handler must refuse
DOCUMENT_EVERY: Final = 5  # every 5th a scanned row of digits
DOCUMENT_DIGITS: Final = 4
MIN_ACCURACY: Final = 0.9  # the digits model reads its own dataset's samples above this


class ImageService(LocalService):
    scenario = "image-processing"
    unit = "uploads"

    def __init__(self, concurrency: ConcurrencyPlan | None = None) -> None:
        plan: ServicePlan = build_plan(image_processing(concurrency=concurrency))
        super().__init__(
            plan.function, plan.resources, provisioned=plan.alias.provisioned, warmer=plan.warmer
        )
        self.plan = plan
        self.lock = threading.Lock()
        self.uploads: dict[str, Upload] = {}
        self.delivery: AsyncDelivery | None = None
        self.relay: BucketEventRelay | None = None

    @property
    def bucket(self) -> str:
        return self.ctx.resources.resolve(self.plan.buckets[0].name)

    def open(self) -> list[str]:
        ctx = self.ctx
        alias = self.plan.alias
        notification = self.plan.notifications[0]
        on_failure = (
            queue_sender(ctx.resources, alias.async_on_failure)
            if alias.async_on_failure is not None
            else None
        )
        self.delivery = AsyncDelivery(
            self.invoker("s3", wait=False),
            max_retries=alias.async_max_retries,
            max_event_age_s=alias.async_max_event_age_s * ctx.options.async_delay_scale,
            on_failure=on_failure,
            function_arn=ctx.function_arn,
            delay_scale=ctx.options.async_delay_scale,
            duplicate_rate=ctx.options.duplicate_rate,
            seed=ctx.options.seed,
            workers=ctx.pool.settings.max_environments,
        )
        self.exits.callback(self.delivery.close)
        self.relay = BucketEventRelay(
            ctx.resources,
            bucket=self.bucket,
            rule=NotificationRule.from_plan(notification),
            deliver=self.delivery.submit,
        )
        self.relay.start()
        self.exits.callback(self.relay.close)
        return [
            f"S3 bucket: s3://{self.bucket}/{notification.prefix} (object created, "
            f"via {self.relay.describe()}) -> async invoke -> {self.function.name}"
        ]

    def upload(self, index: int) -> Upload:
        """What traffic item ``index`` puts (the same for the same index)."""
        prefix = self.plan.notifications[0].prefix
        if index % UNREADABLE_EVERY == UNREADABLE_EVERY - 1:
            body, content_type = image_uploads.unreadable(index)
            return Upload(f"{prefix}inbox/file {index}.bin", body, content_type, None)
        if index % DOCUMENT_EVERY == DOCUMENT_EVERY - 1:
            cells = [index * DOCUMENT_DIGITS + i for i in range(DOCUMENT_DIGITS)]
            return Upload(
                f"{prefix}documents/form-{index}.png",
                image_uploads.digit_row(cells),
                "image/png",
                "".join(image_uploads.label(i) for i in cells),
            )
        fmt, suffix = ("JPEG", "jpg") if index % 3 == 2 else ("PNG", "png")
        return Upload(
            f"{prefix}photos/digit {index}.{suffix}",
            image_uploads.digit_image(index, fmt=fmt),
            f"image/{suffix.replace('jpg', 'jpeg')}",
            image_uploads.label(index),
        )

    def send(self, index: int) -> None:
        upload = self.upload(index)
        self.ctx.resources.client("s3").put_object(
            Bucket=self.bucket, Key=upload.key, Body=upload.body, ContentType=upload.content_type
        )
        with self.lock:
            self.uploads[upload.key] = upload
        if self.relay is not None:
            self.relay.object_created(upload.key)

    def idle(self) -> bool:
        return (
            self.relay is not None
            and self.delivery is not None
            and self.relay.idle()
            and self.delivery.idle()
        )

    def results(self) -> ServiceResults:
        results = ServiceResults()
        resources = self.ctx.resources
        rows = list(scan(resources.client("dynamodb"), self.ctx.environment[env.RESULTS_TABLE]))
        by_key: Counter[str] = Counter(str(row["key"]["S"]) for row in rows)
        read = {str(row["key"]["S"]): row for row in rows}
        good = {k: u for k, u in self.uploads.items() if u.expected is not None}
        bad = {k: u for k, u in self.uploads.items() if u.expected is None}
        correct = sum(1 for k, u in good.items() if _reading(read.get(k)) == u.expected)
        refused = sum(1 for k in bad if _status(read.get(k)) == "failed")
        objects = self._result_objects()
        failures = queue_messages(resources, queue_url(resources, self.plan.alias.async_on_failure))
        stats = self.delivery.stats if self.delivery is not None else None
        duplicates = stats.duplicates if stats is not None else 0
        accuracy = correct / len(good) if good else 1.0
        results.lines += [
            f"{len(self.uploads)} uploads ({len(good)} images and documents, {len(bad)} "
            f"unreadable) -> {len(by_key)} result rows, {objects} result objects",
            f"read correctly {correct}/{len(good)} ({accuracy:.1%}); unreadable recorded as "
            f"failed {refused}/{len(bad)}",
            f"async delivery: {self.delivery.describe() if self.delivery else '-'}",
            f"on-failure destination: {len(failures)} event(s)",
        ]
        results.check(
            set(by_key) == set(self.uploads) and all(n == 1 for n in by_key.values()),
            f"results table: one row per upload ({len(by_key)}/{len(self.uploads)}), "
            f"{duplicates} duplicate deliveries wrote nothing new",
        )
        results.check(objects == len(self.uploads), f"result objects: {objects}")
        results.check(accuracy >= MIN_ACCURACY, f"digits read correctly: {accuracy:.1%}")
        results.check(refused == len(bad), f"unreadable uploads recorded failed: {refused}")
        results.check(not failures, f"no event on the on-failure destination ({len(failures)})")
        results.figures.update(
            uploads=len(self.uploads),
            rows=len(by_key),
            accuracy=accuracy,
            duplicates=duplicates,
            on_failure=len(failures),
        )
        results.written = f"{len(by_key)} table rows, {objects} result objects"
        results.failures = f"{refused} unreadable recorded failed; {len(failures)} to on-failure"
        return results

    def _result_objects(self) -> int:
        prefix = self.ctx.environment[env.RESULTS_PREFIX]
        s3 = self.ctx.resources.client("s3")
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sum(len(page.get("Contents", [])) for page in pages)


def _status(row: dict[str, Any] | None) -> str | None:
    return None if row is None else str(row.get("status", {}).get("S"))


def _reading(row: dict[str, Any] | None) -> str | None:
    if row is None or _status(row) != "ok":
        return None
    value = row.get("digit") or row.get("text")
    return None if value is None else str(next(iter(value.values())))
