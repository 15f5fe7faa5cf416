"""EdgePersonalization: a CloudFront distribution personalized by a Lambda@Edge function.

Every child is created through this component's own us-east-1 provider (``<n>-us-east-1``),
whatever region the stack's default provider uses: Lambda@Edge functions must live there, and
the distribution and alarms sit with them. The function publishes a numbered version per
change (``publish=True``) and is kept on ``pulumi destroy`` (``skip_destroy`` and
``retain_on_delete``): CloudFront deletes its replicas hours after the distribution goes, and
only then can the function be deleted (docs/edge-personalization.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pulumi
import pulumi_aws as aws

from serverless_ml.core import limits
from serverless_ml.core.edge import policy_items
from serverless_ml.core.edge_gate import enforce_edge
from serverless_ml.core.gate import GateReport
from serverless_ml.core.personalization import build_personalization_plan
from serverless_ml.core.plan_types import (
    DISTRIBUTION_ID,
    CachePolicyPlan,
    DistributionPlan,
    EdgeServicePlan,
    OriginRequestPolicyPlan,
)
from serverless_ml.pulumi.alarms import InferenceAlarms, InferenceAlarmsArgs
from serverless_ml.pulumi.function import function_core_args, function_core_resources
from serverless_ml.pulumi.refs import RefResolver
from serverless_ml.pulumi.resources import RenderContext, render_bucket
from serverless_ml.spec.personalization import EdgePersonalizationSpec

cloudfront = aws.cloudfront


@dataclass(frozen=True, kw_only=True)
class EdgePersonalizationArgs:
    """``spec``: what to deploy; ``code_dir``: a prebuilt bundle (else bundled, cached)."""

    spec: EdgePersonalizationSpec
    code_dir: Path | None = None


class EdgePersonalization(pulumi.ComponentResource):
    """Children (names are API; ``<n>`` is this component's name): ``<n>-us-east-1``
    (provider), ``<n>-logs``, ``<n>-role``, ``<n>-policy``, ``<n>-function``, ``<n>-oac``,
    ``<n>-cache-policy``, ``<n>-origin-request-policy``, ``<n>-distribution``,
    ``<n>-bucket-<key>`` (+ its configuration), and ``<n>`` (:class:`InferenceAlarms`)."""

    TYPE: ClassVar[str] = "serverless-ml:edge:EdgePersonalization"

    def __init__(
        self, name: str, args: EdgePersonalizationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self.plan: EdgeServicePlan = build_personalization_plan(args.spec)
        plan = self.plan
        self.gate: GateReport = enforce_edge(plan)
        code_dir = args.code_dir
        if code_dir is None:
            from serverless_ml.bundling import bundle_function

            code_dir = bundle_function(plan.edge.function).path
        self.provider = aws.Provider(
            f"{name}-us-east-1", region=limits.EDGE_REGION, opts=pulumi.ResourceOptions(parent=self)
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        tags = dict(plan.tags)
        refs = RefResolver(invoke_parent=self, invoke_provider=self.provider)
        fp = plan.edge.function
        self.log_group, self.role, self.policy = function_core_resources(
            name, fp, plan.edge.iam, refs, tags, child
        )
        keep = plan.edge.retain_on_delete
        self.function = aws.lambda_.Function(
            f"{name}-function",
            **function_core_args(fp, pulumi.FileArchive(str(code_dir)), self.role, self.log_group),
            publish=plan.edge.publish_version,
            skip_destroy=keep,
            tags=tags,
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    retain_on_delete=keep, depends_on=[self.log_group, self.policy]
                ),
            ),
        )
        self.version_arn = self.function.qualified_arn
        self.distribution = self._distribution(name, plan.distribution, refs, tags, child)
        ctx = RenderContext(name=name, parent=self, tags=tags, refs=refs, provider=self.provider)
        self.bucket = render_bucket(plan.bucket, ctx) if plan.bucket else None
        self.alarms = InferenceAlarms(
            name,
            InferenceAlarmsArgs(plan=plan.monitoring, tags=tags, refs=refs),
            pulumi.ResourceOptions(parent=self, providers={"aws": self.provider}),
        )
        self.distribution_domain_name = self.distribution.domain_name
        self.distribution_id = self.distribution.id
        self.function_name = self.function.name
        self.register_outputs(
            {
                "distribution_domain_name": self.distribution_domain_name,
                "distribution_id": self.distribution_id,
                "function_name": self.function_name,
                "version_arn": self.version_arn,
            }
        )

    def _distribution(
        self,
        name: str,
        d: DistributionPlan,
        refs: RefResolver,
        tags: dict[str, str],
        child: pulumi.ResourceOptions,
    ) -> cloudfront.Distribution:
        o = d.origin
        oac = None
        if o.oac_name is not None:
            oac = cloudfront.OriginAccessControl(
                f"{name}-oac", name=o.oac_name, origin_access_control_origin_type="s3",
                signing_behavior="always", signing_protocol="sigv4", opts=child,
            )  # fmt: skip
        origin = cloudfront.DistributionOriginArgs(
            origin_id=o.origin_id,
            domain_name=refs.resolve(o.domain_name),
            origin_path=o.origin_path or None,
            origin_access_control_id=oac.id if oac else None,
            custom_origin_config=None
            if oac
            else cloudfront.DistributionOriginCustomOriginConfigArgs(
                origin_protocol_policy="https-only",
                http_port=80,
                https_port=o.https_port,
                origin_ssl_protocols=list(o.origin_ssl_protocols),
            ),
        )
        cache = _cache_policy(name, d.cache_policy, child)
        origin_request = _origin_request_policy(name, d.origin_request_policy, child)
        certificate = (
            cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True)
            if d.certificate_arn is None
            else cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=d.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version=d.minimum_protocol_version,
            )
        )
        distribution = cloudfront.Distribution(
            f"{name}-distribution",
            enabled=True,
            comment=d.comment,
            price_class=d.price_class,
            http_version=d.http_version,
            is_ipv6_enabled=d.ipv6,
            default_root_object=d.default_root_object or None,
            origins=[origin],
            default_cache_behavior=cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=o.origin_id,
                viewer_protocol_policy=d.viewer_protocol_policy,
                allowed_methods=list(d.allowed_methods),
                cached_methods=list(d.cached_methods),
                compress=d.compress,
                cache_policy_id=cache.id,
                origin_request_policy_id=origin_request.id,
                lambda_function_associations=[
                    cloudfront.DistributionDefaultCacheBehaviorLambdaFunctionAssociationArgs(
                        event_type=d.event_type,
                        lambda_arn=self.version_arn,
                        include_body=d.include_body,
                    )
                ],
            ),
            web_acl_id=d.web_acl_arn,
            aliases=list(d.aliases) or None,
            viewer_certificate=certificate,
            restrictions=cloudfront.DistributionRestrictionsArgs(
                geo_restriction=cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none"
                )
            ),
            tags=tags,
            opts=child,
        )
        refs.register(
            DISTRIBUTION_ID, arn=distribution.arn, id=distribution.id,
            domain_name=distribution.domain_name,
        )  # fmt: skip
        return distribution


def _cache_policy(
    name: str, c: CachePolicyPlan, opts: pulumi.ResourceOptions
) -> cloudfront.CachePolicy:
    header_behavior, headers = policy_items(c.headers)
    cookie_behavior, cookies = policy_items(c.cookies)
    keyed = c.max_ttl_s > 0
    p = cloudfront
    return p.CachePolicy(
        f"{name}-cache-policy",
        name=c.name,
        comment=c.comment,
        default_ttl=c.default_ttl_s,
        min_ttl=c.min_ttl_s,
        max_ttl=c.max_ttl_s,
        parameters_in_cache_key_and_forwarded_to_origin=p.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs(
            enable_accept_encoding_gzip=keyed,
            enable_accept_encoding_brotli=keyed,
            headers_config=p.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(
                header_behavior=header_behavior,
                headers=p.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeadersArgs(
                    items=list(headers)
                )
                if headers
                else None,
            ),
            cookies_config=p.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs(
                cookie_behavior=cookie_behavior,
                cookies=p.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigCookiesArgs(
                    items=list(cookies)
                )
                if cookies
                else None,
            ),
            query_strings_config=p.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs(
                query_string_behavior=c.query_strings
            ),
        ),
        opts=opts,
    )


def _origin_request_policy(
    name: str, o: OriginRequestPolicyPlan, opts: pulumi.ResourceOptions
) -> cloudfront.OriginRequestPolicy:
    header_behavior, headers = policy_items(o.headers)
    cookie_behavior, cookies = policy_items(o.cookies)
    p = cloudfront
    return p.OriginRequestPolicy(
        f"{name}-origin-request-policy",
        name=o.name,
        comment=o.comment,
        headers_config=p.OriginRequestPolicyHeadersConfigArgs(
            header_behavior=header_behavior,
            headers=p.OriginRequestPolicyHeadersConfigHeadersArgs(items=list(headers))
            if headers
            else None,
        ),
        cookies_config=p.OriginRequestPolicyCookiesConfigArgs(
            cookie_behavior=cookie_behavior,
            cookies=p.OriginRequestPolicyCookiesConfigCookiesArgs(items=list(cookies))
            if cookies
            else None,
        ),
        query_strings_config=p.OriginRequestPolicyQueryStringsConfigArgs(
            query_string_behavior=o.query_strings
        ),
        opts=opts,
    )
