"""build_personalization_plan(spec) -> EdgeServicePlan: the edge function, the distribution it
personalizes, the site bucket behind origin access control, and alarms.

Decided once for both renderers: what CloudFront keys its cache on (every input the model reads
except the Referer, so a cached response is the variant that visit would get), what it passes
to the origin and to an origin-request function (CloudFront's viewer headers), which version
each event type runs, and why each finding a scanner raises is accepted.
"""

from __future__ import annotations

import dataclasses

from serverless_ml.core import limits
from serverless_ml.core.acknowledgments import acknowledge, function_core_acknowledgments
from serverless_ml.core.alarms import (
    GTE,
    alarm,
    lambda_metric,
    monitoring_acknowledgments,
    monitoring_plan,
)
from serverless_ml.core.edge import build_edge_plan
from serverless_ml.core.plan_types import (
    DISTRIBUTION_ID,
    FUNCTION_ID,
    Acknowledgment,
    AlarmPlan,
    BucketPlan,
    CachePolicyPlan,
    DashboardWidgetPlan,
    DistributionPlan,
    EdgeServicePlan,
    FunctionPlan,
    Joined,
    MetricPlan,
    MonitoringPlan,
    OriginPlan,
    OriginRequestPolicyPlan,
    PolicyStatementPlan,
    Principal,
    Ref,
)
from serverless_ml.core.triggers.s3 import bucket_plan
from serverless_ml.spec.personalization import EdgePersonalizationSpec, SiteBucket
from serverless_ml.spec.triggers import NewBucket
from sml_handlers.personalize import features
from sml_handlers.personalize.settings import Settings, canonical_header, settings_of

# What CloudFront adds for the model (origin-facing events only: after the viewer request).
VIEWER_HEADERS = (
    "CloudFront-Viewer-Country",
    "CloudFront-Is-Desktop-Viewer",
    "CloudFront-Is-Mobile-Viewer",
    "CloudFront-Is-SmartTV-Viewer",
    "CloudFront-Is-Tablet-Viewer",
)
REFERER = "Referer"
SITE_METHODS = ("GET", "HEAD")
ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
TLS_WITH_OWN_CERTIFICATE = "TLSv1.2_2021"
TLS_WITH_CLOUDFRONT_CERTIFICATE = "TLSv1"  # *.cloudfront.net: CloudFront sets it, not the stack

NO_WAF = (
    "no web_acl_arn in the spec: a WAFv2 web ACL (scope CLOUDFRONT) costs $5 a month plus "
    "rules and requests, and its rules belong to the site's owner; set "
    "EdgePersonalizationSpec(web_acl_arn=...) to attach one"
)
CLOUDFRONT_CERTIFICATE = (
    "no certificate_arn in the spec: the distribution answers on its *.cloudfront.net name, "
    "whose certificate CloudFront manages (TLSv1 minimum, set by CloudFront); give "
    "certificate_arn and domain_names to require TLS 1.2"
)
NO_GEO_RESTRICTION = (
    "a storefront serves every country: the model reads the viewer's country to choose "
    "content, not to refuse it; add a geo restriction in the distribution if the site must"
)
NO_DISTRIBUTION_LOGS = (
    "CloudFront standard logs need a log bucket with ACLs enabled (or a delivery "
    "configuration) per distribution; the distribution's request and error-rate metrics are "
    "alarmed here, and the function logs every failure it passes through"
)
NO_BUCKET_LOGS = (
    "the site bucket is read only by this distribution (origin access control): every read "
    "is a CloudFront request, counted in its metrics; server access logs would need a "
    "second bucket"
)
NO_ENVIRONMENT = (
    "Lambda@Edge functions have no environment variables: there is nothing for a key to "
    "encrypt (configuration is baked into the code bundle, which Lambda encrypts at rest)"
)
NO_VPC_AT_EDGE = "Lambda@Edge functions cannot run in a VPC (CloudFront runs them at its edge)"
NO_RESERVATION_AT_EDGE = (
    "Lambda@Edge does not support reserved or provisioned concurrency: replicas scale per "
    "region under the account's regional concurrency quota"
)
NO_TRACING_AT_EDGE = (
    "Lambda@Edge does not support X-Ray active tracing; CloudFront's request metrics and the "
    "function's Duration metric per region show where time goes"
)


def build_personalization_plan(spec: EdgePersonalizationSpec) -> EdgeServicePlan:
    edge = build_edge_plan(spec.function)
    service = spec.name
    settings = settings_of(spec.function.config)
    bucket = _site_bucket(service, spec.origin) if isinstance(spec.origin, SiteBucket) else None
    distribution = _distribution(spec, settings, bucket)
    monitoring = monitoring_plan(
        service=service,
        settings=spec.alarms,
        alarms=_alarms(spec),
        widgets=_widgets(service),
    )
    return EdgeServicePlan(
        service=service,
        region=edge.region,
        edge=edge,
        bucket=bucket,
        distribution=distribution,
        monitoring=monitoring,
        acknowledgments=_acknowledgments(spec, edge.function, bucket, monitoring),
        tags=tuple(sorted({**dict(edge.tags), **spec.tags}.items())),
    )


def _acknowledgments(
    spec: EdgePersonalizationSpec,
    function: FunctionPlan,
    bucket: BucketPlan | None,
    monitoring: MonitoringPlan,
) -> tuple[Acknowledgment, ...]:
    """The function core's reasons, with the edge's own where Lambda@Edge decides."""
    core = function_core_acknowledgments(
        runtime=function.runtime, latest_runtime=function.latest_runtime,
        reserved_concurrency=None,
    )  # fmt: skip
    edge = {
        ("network-isolation", FUNCTION_ID): NO_VPC_AT_EDGE,
        ("concurrency-limit", FUNCTION_ID): NO_RESERVATION_AT_EDGE,
        ("customer-managed-keys", FUNCTION_ID): NO_ENVIRONMENT,
        ("tracing", FUNCTION_ID): NO_TRACING_AT_EDGE,
        ("geo-restriction", DISTRIBUTION_ID): NO_GEO_RESTRICTION,
        ("access-logging", DISTRIBUTION_ID): NO_DISTRIBUTION_LOGS,
    }
    if spec.web_acl_arn is None:
        edge["web-firewall", DISTRIBUTION_ID] = NO_WAF
    if spec.certificate_arn is None:
        edge["viewer-tls", DISTRIBUTION_ID] = CLOUDFRONT_CERTIFICATE
    if bucket is not None:
        edge["access-logging", bucket.node_id] = NO_BUCKET_LOGS
    acks = {(a.rule, a.subject): a for a in (*core, *monitoring_acknowledgments(monitoring))}
    for (rule, subject), reason in edge.items():
        acks[rule, subject] = acknowledge(rule, subject, reason)
    return tuple(acks.values())


def _site_bucket(service: str, site: SiteBucket) -> BucketPlan:
    """The bucket plan every new bucket gets, plus read access for this distribution only."""
    plan = bucket_plan(service, NewBucket(name_suffix=site.name_suffix))
    read = PolicyStatementPlan(
        sid="AllowThisDistributionToRead",
        effect="Allow",
        principal=Principal(kind="Service", values=("cloudfront.amazonaws.com",)),
        actions=("s3:GetObject",),
        resources=(plan.arn + "/*",),
        conditions=(("StringEquals", "AWS:SourceArn", Ref(DISTRIBUTION_ID, "arn")),),
    )
    return dataclasses.replace(plan, policy=(*plan.policy, read))


def _origin(spec: EdgePersonalizationSpec, bucket: BucketPlan | None) -> OriginPlan:
    if bucket is not None:
        # The regional endpoint from the name alone (no reference to the bucket resource).
        domain = Joined((*bucket.name.parts, f".s3.{limits.EDGE_REGION}.amazonaws.com"))
        return OriginPlan(
            origin_id="site", domain_name=domain, origin_path="",
            oac_name=f"{spec.name}-site",
        )  # fmt: skip
    origin = spec.origin
    assert not isinstance(origin, SiteBucket)
    return OriginPlan(
        origin_id="origin",
        domain_name=origin.domain_name,
        origin_path=origin.origin_path,
        oac_name=None,
        https_port=origin.https_port,
    )


def _cache_inputs(
    spec: EdgePersonalizationSpec, settings: Settings
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(headers, cookies) that decide the variant CloudFront would cache.

    Before the cache (viewer-request) the function's own header carries its decision (in
    ``uri`` mode the URI does); after it (origin-request) the function sees what the key
    holds, so the key holds the inputs.
    """
    cookies = tuple(sorted({features.VISITS_COOKIE, settings.cookie}))
    if spec.function.viewer:
        headers = () if settings.mode == "uri" else (canonical_header(settings.header),)
        return headers, cookies
    return VIEWER_HEADERS, cookies


def _distribution(
    spec: EdgePersonalizationSpec, settings: Settings, bucket: BucketPlan | None
) -> DistributionPlan:
    service = spec.name
    headers, cookies = _cache_inputs(spec, settings)
    ttl = spec.cache_ttl_s
    keyed = ttl > 0  # CloudFront refuses cache-key inputs when nothing is cached
    cache = CachePolicyPlan(
        name=f"{service}-personalized",
        comment=f"{service}: one cached copy per variant input",
        default_ttl_s=ttl,
        min_ttl_s=0,
        max_ttl_s=ttl,
        headers=headers if keyed else (),
        cookies=cookies if keyed else (),
        query_strings="all" if keyed else "none",
    )
    forwarded = tuple(sorted({REFERER, *VIEWER_HEADERS} - set(cache.headers)))
    origin_request = OriginRequestPolicyPlan(
        name=f"{service}-viewer-facts",
        comment=f"{service}: what the model reads, passed to the origin-facing function",
        headers=forwarded,
        cookies=() if keyed else cookies,
        query_strings="none" if keyed else "all",
    )
    own_certificate = spec.certificate_arn is not None
    return DistributionPlan(
        key="site",
        comment=f"serverless-ml edge personalization: {service}",
        price_class=spec.price_class,
        http_version="http2and3",
        ipv6=True,
        default_root_object="index.html" if bucket is not None else "",
        viewer_protocol_policy="redirect-to-https",
        allowed_methods=SITE_METHODS if bucket is not None else ALL_METHODS,
        cached_methods=SITE_METHODS,
        compress=True,
        event_type=spec.function.event_type,
        include_body=spec.function.include_body,
        origin=_origin(spec, bucket),
        cache_policy=cache,
        origin_request_policy=origin_request,
        web_acl_arn=spec.web_acl_arn,
        certificate_arn=spec.certificate_arn,
        aliases=spec.domain_names,
        minimum_protocol_version=TLS_WITH_OWN_CERTIFICATE
        if own_certificate
        else TLS_WITH_CLOUDFRONT_CERTIFICATE,
    )


def distribution_metric(name: str, stat: str, period_s: int) -> MetricPlan:
    """A CloudFront metric of this distribution (published in us-east-1, ``Region=Global``)."""
    return MetricPlan(
        namespace="AWS/CloudFront",
        metric_name=name,
        dimensions=(("DistributionId", Ref(DISTRIBUTION_ID, "id")), ("Region", "Global")),
        statistic=stat,
        period_s=period_s,
    )


def _alarms(spec: EdgePersonalizationSpec) -> tuple[AlarmPlan, ...]:
    """Function errors, throttles and p99 duration (the us-east-1 metrics; replicas publish
    theirs in the region that ran them), and the distribution's 5xx rate."""
    s, service, timeout_s = spec.alarms, spec.name, spec.function.timeout_s
    alarms: list[AlarmPlan] = []
    if s.errors.enabled:
        alarms.append(
            alarm(service, "errors", "Edge function errors (us-east-1 metrics)", s.errors,
                  lambda_metric(service, None, "Errors", "Sum", s.errors.period_s))
        )  # fmt: skip
    if s.throttles.enabled:
        alarms.append(
            alarm(service, "throttles", "Edge function throttles (us-east-1 metrics)",
                  s.throttles, lambda_metric(service, None, "Throttles", "Sum",
                                             s.throttles.period_s))
        )  # fmt: skip
    if s.duration_p99_pct_of_timeout.enabled:
        t = s.duration_p99_pct_of_timeout
        alarms.append(
            dataclasses.replace(
                alarm(service, "duration_p99",
                      f"p99 duration above {t.threshold:g}% of the {timeout_s}s timeout", t,
                      lambda_metric(service, None, "Duration", "p99", t.period_s)),
                threshold=round(timeout_s * 1000 * t.threshold / 100),
            )
        )  # fmt: skip
    if s.error_rate_pct.enabled:
        t = s.error_rate_pct
        alarms.append(
            alarm(service, "distribution_5xx_rate",
                  "Share of viewer requests answered 5xx by the distribution (percent)", t,
                  distribution_metric("5xxErrorRate", "Average", t.period_s), GTE)
        )  # fmt: skip
    return tuple(alarms)


def _widgets(service: str) -> tuple[DashboardWidgetPlan, ...]:
    def m(name: str, stat: str) -> MetricPlan:
        return lambda_metric(service, None, name, stat, 60)

    return (
        DashboardWidgetPlan(title="Invocations and errors (us-east-1)",
                            metrics=(m("Invocations", "Sum"), m("Errors", "Sum"))),
        DashboardWidgetPlan(title="Duration p50 / p99 (ms)",
                            metrics=(m("Duration", "p50"), m("Duration", "p99"))),
    )  # fmt: skip
