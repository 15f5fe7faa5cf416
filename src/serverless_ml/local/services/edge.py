"""Edge personalization locally: generated visits (``models.personalization_data``) sent as
GET requests to a local CloudFront distribution whose origin-request function picks a content
variant and rewrites the path; the origin is the site bucket on the local endpoint, seeded with
one copy of each page per variant (``variants/<variant>/<page>``) and the unpersonalized page."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from collections import Counter
from typing import Any, Final

from serverless_ml.core.personalization import build_personalization_plan
from serverless_ml.core.plan_types import EdgeServicePlan
from serverless_ml.local.cloudfront_front import EdgeRequest, serve_cloudfront
from serverless_ml.local.http_server import LocalResponse
from serverless_ml.local.services.base import LocalService, ServiceResults
from serverless_ml.reference.scenarios import edge_personalization

PAGES: Final = ("index.html", "products/shoes.html", "collections/all.html")
VARIANTS_PREFIX: Final = "variants"
ODD_EVERY: Final = 30  # every 30th visit carries a malformed cookie and country
HTTP_TIMEOUT_S: Final = 30.0
_SERVED: Final = re.compile(rb'data-variant="([^"]*)"')
# What a viewer's browser sends itself; CloudFront adds the rest (the session's other headers).
NOT_SENT: Final = frozenset({"host", "user-agent"})


def page_body(variant: str | None, page: str) -> bytes:
    return f'<html><body data-variant="{variant or "default"}">{page}</body></html>'.encode()


class EdgeService(LocalService):
    scenario = "edge-personalization"
    unit = "page views"
    edge = True

    def __init__(self) -> None:
        plan: EdgeServicePlan = build_personalization_plan(edge_personalization())
        resources = (plan.bucket,) if plan.bucket is not None else ()
        super().__init__(plan.edge.function, resources)
        self.plan = plan
        self.url = ""
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.served: Counter[str] = Counter()
        self.mismatched = 0
        self.sessions: list[Any] = []

    @property
    def bucket(self) -> str:
        if self.plan.bucket is None:
            raise RuntimeError("the edge service runs locally with a site bucket origin")
        return self.ctx.resources.resolve(self.plan.bucket.name)

    def open(self) -> list[str]:
        from serverless_ml.models.personalization_data import generate_sessions
        from sml_handlers.personalize.features import VARIANTS

        s3 = self.ctx.resources.client("s3")
        for page in PAGES:
            s3.put_object(Bucket=self.bucket, Key=page, Body=page_body(None, page))
            for variant in VARIANTS:
                s3.put_object(
                    Bucket=self.bucket,
                    Key=f"{VARIANTS_PREFIX}/{variant}/{page}",
                    Body=page_body(variant, page),
                    ContentType="text/html",
                )
        self.sessions = generate_sessions(1000, seed=self.ctx.options.seed)
        self.url = self.exits.enter_context(
            serve_cloudfront(
                self.plan.distribution,
                self.plan.edge.event_type,
                self.invoker("cloudfront", wait=False),
                self._fetch,
            )
        )
        return [
            f"CloudFront: GET {self.url}/<page> -> {self.plan.edge.event_type} "
            f"{self.function.name} -> s3://{self.bucket}"
        ]

    def _fetch(self, request: EdgeRequest) -> LocalResponse:
        """The S3 origin behind origin access control: 403 for a missing key, as S3 answers
        a principal without ``s3:ListBucket``."""
        s3 = self.ctx.resources.client("s3")
        try:
            found = s3.get_object(Bucket=self.bucket, Key=request.uri.lstrip("/"))
        except s3.exceptions.NoSuchKey:
            return LocalResponse(403, [("Content-Type", "application/xml")], b"AccessDenied")
        body = found["Body"].read()
        return LocalResponse(200, [("Content-Type", found.get("ContentType", "text/html"))], body)

    def headers(self, index: int) -> dict[str, str]:
        """The viewer's headers and the CloudFront ones the origin request policy adds."""
        session = self.sessions[index % len(self.sessions)]
        headers = {
            entry["key"]: entry["value"]
            for name, entries in session.request["headers"].items()
            if name not in NOT_SENT
            for entry in entries
        }
        if index % ODD_EVERY == ODD_EVERY - 1:
            headers["Cookie"] = "sml_visits=%%%; =; sml_variant=<script>"
            headers["CloudFront-Viewer-Country"] = "??"
        return headers

    def send(self, index: int) -> None:
        session = self.sessions[index % len(self.sessions)]
        page = PAGES[index % len(PAGES)]
        query = session.request.get("querystring") or ""
        request = urllib.request.Request(
            f"{self.url}/{page}" + (f"?{query}" if query else ""), headers=self.headers(index)
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        match = _SERVED.search(body) if status == 200 else None
        with self.lock:
            self.statuses[status] += 1
            if match is not None:
                self.served[match.group(1).decode()] += 1
                if page.encode() not in body:
                    self.mismatched += 1

    def results(self) -> ServiceResults:
        results = ServiceResults()
        sent = sum(self.statuses.values())
        ok = self.statuses[200]
        personalized = sum(n for v, n in self.served.items() if v != "default")
        results.lines += [
            f"{sent} page views -> statuses "
            + ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items())),
            "variants served: "
            + ", ".join(f"{v} {n}" for v, n in sorted(self.served.items(), key=lambda x: -x[1])),
        ]
        results.check(ok == sent, f"every page view answered 200 ({ok}/{sent})")
        results.check(
            personalized == ok and len(self.served) >= 2,
            f"every page served as a variant ({personalized}/{ok}), "
            f"{len(self.served)} different variants",
        )
        results.check(
            self.mismatched == 0, f"the page asked for was served ({self.mismatched} not)"
        )
        results.figures.update(statuses=dict(self.statuses), variants=dict(self.served))
        results.written = f"{personalized} variant pages served"
        results.failures = f"{sent - ok} non-200"
        return results
