"""EdgePersonalization: a CloudFront distribution personalized by a Lambda@Edge function, in
one us-east-1 stack.

Deliberately not ``cloudfront.experimental.EdgeFunction``: that construct puts the function in
a hidden support stack and reads its version ARN back through a cross-region SSM parameter
(which fails when the support stack is missing), and ``currentVersion`` changes logical id on
upgrades while deleting the old version CloudFront's replicas still run. Here the function, its
numbered version and the distribution share one stack in us-east-1 (SML408 otherwise): a plain
``lambda.Function`` and an ``AWS::Lambda::Version`` whose logical id is the hash of the code
and settings it publishes (``core.edge.version_key``), both retained on delete, so an update
adds a version and never deletes one a replica may run. Cleanup: docs/edge-personalization.md.

Children (ids are API): ``LogGroup``, ``Role``, ``Policy``, ``Function``,
``Version<key>``, ``OriginAccessControl``, ``CachePolicy``, ``OriginRequestPolicy``,
``Distribution``, ``Bucket-<key>``, ``Alarms``.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import ArnFormat, RemovalPolicy, Stack, Tags, Token
from aws_cdk import aws_cloudfront as cf
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from serverless_ml.bundling.archive import directory_digest
from serverless_ml.cdk.alarms import InferenceAlarms
from serverless_ml.cdk.function import (
    function_core_props,
    function_log_group,
    function_role,
    role_policy,
)
from serverless_ml.cdk.gate import apply_gate
from serverless_ml.cdk.refs import RefResolver
from serverless_ml.cdk.resources import render_bucket
from serverless_ml.core.edge import check_edge_region, policy_items, version_key
from serverless_ml.core.edge_gate import enforce_edge
from serverless_ml.core.gate import GateReport
from serverless_ml.core.personalization import build_personalization_plan
from serverless_ml.core.plan_types import (
    ALARM_KEY_ID,
    ALARM_TOPIC_ID,
    DISTRIBUTION_ID,
    FUNCTION_ID,
    LOG_GROUP_ID,
    ROLE_POLICY_ID,
    CachePolicyPlan,
    DistributionPlan,
    EdgeServicePlan,
    OriginRequestPolicyPlan,
)
from serverless_ml.spec.personalization import EdgePersonalizationSpec

_D = cf.CfnDistribution


class EdgePersonalization(Construct):
    """Deploy ``spec`` (bundle cached by content; ``code_dir`` skips bundling)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: EdgePersonalizationSpec,
        code_dir: Path | None = None,
    ) -> None:
        super().__init__(scope, id)
        region = Stack.of(self).region
        check_edge_region(None if Token.is_unresolved(region) else region)
        self.plan: EdgeServicePlan = build_personalization_plan(spec)
        plan = self.plan
        self.gate: GateReport = enforce_edge(plan)
        if code_dir is None:
            from serverless_ml.bundling import bundle_function

            code_dir = bundle_function(plan.edge.function).path
        refs = RefResolver()
        fp = plan.edge.function
        self.log_group = function_log_group(self, fp, refs)
        self.role = function_role(self, fp)
        self.policy = role_policy(self, plan.edge.iam, refs, self.role)
        self.function = lambda_.Function(
            self, "Function", **function_core_props(fp, code_dir, self.role, self.log_group)
        )
        self.function.node.add_dependency(self.policy)
        key = version_key(fp, directory_digest(code_dir))
        self.version = lambda_.CfnVersion(
            self, f"Version{key}", function_name=self.function.function_name,
            description=f"serverless-ml {key}",
        )  # fmt: skip
        if plan.edge.retain_on_delete:
            self.function.apply_removal_policy(RemovalPolicy.RETAIN)
            self.version.apply_removal_policy(RemovalPolicy.RETAIN)
        self.distribution = self._distribution(plan.distribution, refs)
        self.bucket = render_bucket(self, plan.bucket, refs) if plan.bucket else None
        self.alarms = InferenceAlarms(self, "Alarms", plan=plan.monitoring, refs=refs)
        apply_gate(self.gate, self._subjects(), refs)
        for tag, value in plan.tags:
            Tags.of(self).add(tag, value)

    def _distribution(self, d: DistributionPlan, refs: RefResolver) -> cf.CfnDistribution:
        o = d.origin
        oac = None
        if o.oac_name is not None:
            oac = cf.CfnOriginAccessControl(
                self, "OriginAccessControl",
                origin_access_control_config=cf.CfnOriginAccessControl.OriginAccessControlConfigProperty(
                    name=o.oac_name, origin_access_control_origin_type="s3",
                    signing_behavior="always", signing_protocol="sigv4",
                ),
            )  # fmt: skip
        origin = _D.OriginProperty(
            id=o.origin_id,
            domain_name=refs.resolve(o.domain_name),
            origin_path=o.origin_path or None,
            origin_access_control_id=oac.attr_id if oac else None,
            s3_origin_config=_D.S3OriginConfigProperty(origin_access_identity="") if oac else None,
            custom_origin_config=None
            if oac
            else _D.CustomOriginConfigProperty(
                origin_protocol_policy="https-only",
                https_port=o.https_port,
                origin_ssl_protocols=list(o.origin_ssl_protocols),
            ),
        )
        cache = _cache_policy(self, d.cache_policy)
        origin_request = _origin_request_policy(self, d.origin_request_policy)
        if d.certificate_arn is None:
            certificate = _D.ViewerCertificateProperty(cloud_front_default_certificate=True)
        else:
            certificate = _D.ViewerCertificateProperty(
                acm_certificate_arn=d.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version=d.minimum_protocol_version,
            )
        distribution = cf.CfnDistribution(
            self,
            "Distribution",
            distribution_config=_D.DistributionConfigProperty(
                enabled=True,
                comment=d.comment,
                price_class=d.price_class,
                http_version=d.http_version,
                ipv6_enabled=d.ipv6,
                default_root_object=d.default_root_object or None,
                origins=[origin],
                default_cache_behavior=_D.DefaultCacheBehaviorProperty(
                    target_origin_id=o.origin_id,
                    viewer_protocol_policy=d.viewer_protocol_policy,
                    allowed_methods=list(d.allowed_methods),
                    cached_methods=list(d.cached_methods),
                    compress=d.compress,
                    cache_policy_id=cache.attr_id,
                    origin_request_policy_id=origin_request.attr_id,
                    lambda_function_associations=[
                        _D.LambdaFunctionAssociationProperty(
                            event_type=d.event_type,
                            lambda_function_arn=self.version.ref,
                            include_body=d.include_body or None,
                        )
                    ],
                ),
                web_acl_id=d.web_acl_arn,
                aliases=list(d.aliases) or None,
                viewer_certificate=certificate,
            ),
        )
        arn = Stack.of(self).format_arn(
            service="cloudfront", region="", resource="distribution",
            resource_name=distribution.attr_id, arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )  # fmt: skip
        refs.register(
            DISTRIBUTION_ID, distribution, arn=lambda: arn, id=lambda: distribution.attr_id,
            domain_name=lambda: distribution.attr_domain_name,
        )  # fmt: skip
        return distribution

    def _subjects(self) -> dict[str, IConstruct]:
        subjects: dict[str, IConstruct | None] = {
            FUNCTION_ID: self.function,
            LOG_GROUP_ID: self.log_group,
            ROLE_POLICY_ID: self.policy,
            DISTRIBUTION_ID: self.distribution,
            ALARM_TOPIC_ID: self.alarms if self.alarms.topic else None,
            ALARM_KEY_ID: self.alarms.key,
        }
        if self.bucket is not None and self.plan.bucket is not None:
            subjects[self.plan.bucket.node_id] = self.bucket
        return {k: v for k, v in subjects.items() if v is not None}

    @property
    def distribution_domain_name(self) -> str:
        return self.distribution.attr_domain_name

    @property
    def version_arn(self) -> str:
        return self.version.ref


def _cache_policy(scope: Construct, c: CachePolicyPlan) -> cf.CfnCachePolicy:
    p = cf.CfnCachePolicy
    header_behavior, headers = policy_items(c.headers)
    cookie_behavior, cookies = policy_items(c.cookies)
    keyed = c.max_ttl_s > 0
    return p(
        scope,
        "CachePolicy",
        cache_policy_config=p.CachePolicyConfigProperty(
            name=c.name,
            comment=c.comment,
            default_ttl=c.default_ttl_s,
            min_ttl=c.min_ttl_s,
            max_ttl=c.max_ttl_s,
            parameters_in_cache_key_and_forwarded_to_origin=p.ParametersInCacheKeyAndForwardedToOriginProperty(
                enable_accept_encoding_gzip=keyed,
                enable_accept_encoding_brotli=keyed,
                headers_config=p.HeadersConfigProperty(
                    header_behavior=header_behavior, headers=list(headers) or None
                ),
                cookies_config=p.CookiesConfigProperty(
                    cookie_behavior=cookie_behavior, cookies=list(cookies) or None
                ),
                query_strings_config=p.QueryStringsConfigProperty(
                    query_string_behavior=c.query_strings
                ),
            ),
        ),
    )


def _origin_request_policy(
    scope: Construct, o: OriginRequestPolicyPlan
) -> cf.CfnOriginRequestPolicy:
    p = cf.CfnOriginRequestPolicy
    header_behavior, headers = policy_items(o.headers)
    cookie_behavior, cookies = policy_items(o.cookies)
    return p(
        scope,
        "OriginRequestPolicy",
        origin_request_policy_config=p.OriginRequestPolicyConfigProperty(
            name=o.name,
            comment=o.comment,
            headers_config=p.HeadersConfigProperty(
                header_behavior=header_behavior, headers=list(headers) or None
            ),
            cookies_config=p.CookiesConfigProperty(
                cookie_behavior=cookie_behavior, cookies=list(cookies) or None
            ),
            query_strings_config=p.QueryStringsConfigProperty(
                query_string_behavior=o.query_strings
            ),
        ),
    )
