"""EdgePersonalizationSpec and its plan: coded errors, what the cache keys on per event type,
the site bucket's read grant, the edge gate, and what a numbered version is keyed by."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from serverless_ml.core.edge import check_edge_region, policy_items, version_key
from serverless_ml.core.edge_gate import enforce_edge, evaluate_edge
from serverless_ml.core.personalization import VIEWER_HEADERS, build_personalization_plan
from serverless_ml.core.plan_types import DISTRIBUTION_ID, Ref
from serverless_ml.reference.scenarios import edge_personalization
from serverless_ml.spec import SpecError
from serverless_ml.spec.personalization import EdgePersonalizationSpec, HttpOrigin, SiteBucket

ACL = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop/0a1b2c3d-1111-2222-3333-444455556666"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"


def spec(**changes: Any) -> EdgePersonalizationSpec:
    function = changes.pop("function", None)
    base = edge_personalization()
    if function:
        base = dataclasses.replace(base, function=dataclasses.replace(base.function, **function))
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"function": {"config": {"mode": "redirect"}}}, "SML414"),
        ({"function": {"config": {"header": "host"}}}, "SML414"),
        ({"price_class": "PriceClass_Cheap"}, "SML411"),
        ({"cache_ttl_s": -1}, "SML412"),
        ({"web_acl_arn": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/b"}, "SML413"),
        ({"certificate_arn": CERT}, "SML415"),
        ({"domain_names": ("shop.example.com",)}, "SML415"),
        ({"certificate_arn": CERT.replace("us-east-1", "eu-west-1"),
          "domain_names": ("shop.example.com",)}, "SML415"),
        ({"certificate_arn": CERT, "domain_names": ("not a name",)}, "SML415"),
    ],
)  # fmt: skip
def test_invalid_specs_fail_with_a_code(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(SpecError, match=code):
        spec(**changes)


@pytest.mark.parametrize(
    "origin", [dict(domain_name="not_a_domain"), dict(domain_name="a.example.com", origin_path="/x/"),
               dict(domain_name="a.example.com", https_port=80)],
)  # fmt: skip
def test_invalid_http_origins_fail_with_sml410(origin: dict[str, Any]) -> None:
    with pytest.raises(SpecError, match="SML410"):
        HttpOrigin(**origin)


def test_site_bucket_names_follow_bucket_rules() -> None:
    with pytest.raises(SpecError, match="SML183"):
        SiteBucket(name_suffix="Site_Files")


def test_origin_request_keys_the_cache_on_what_the_model_reads() -> None:
    d = build_personalization_plan(spec()).distribution
    assert d.event_type == "origin-request"
    assert d.cache_policy.headers == VIEWER_HEADERS
    assert d.cache_policy.cookies == ("sml_variant", "sml_visits")
    assert d.cache_policy.query_strings == "all"
    assert d.origin_request_policy.headers == ("Referer",)  # read, left out of the key
    assert (d.cache_policy.default_ttl_s, d.cache_policy.max_ttl_s) == (300, 300)


def test_viewer_request_keys_the_cache_on_its_own_decision() -> None:
    header = spec(function={"event_type": "viewer-request", "config": {"mode": "header"}})
    d = build_personalization_plan(header).distribution
    assert d.cache_policy.headers == ("X-Sml-Variant",)
    uri = spec(function={"event_type": "viewer-request", "config": {"mode": "uri"}})
    assert build_personalization_plan(uri).distribution.cache_policy.headers == ()  # URI keys it


def test_no_caching_moves_every_input_to_the_origin_request_policy() -> None:
    d = build_personalization_plan(spec(cache_ttl_s=0)).distribution
    c, o = d.cache_policy, d.origin_request_policy
    assert (c.headers, c.cookies, c.query_strings, c.max_ttl_s) == ((), (), "none", 0)
    assert set(VIEWER_HEADERS) <= set(o.headers) and o.cookies and o.query_strings == "all"


def test_only_this_distribution_may_read_the_site_bucket() -> None:
    plan = build_personalization_plan(spec())
    assert plan.bucket is not None
    (read,) = [s for s in plan.bucket.policy if s.effect == "Allow"]
    assert read.actions == ("s3:GetObject",)
    assert read.conditions == (("StringEquals", "AWS:SourceArn", Ref(DISTRIBUTION_ID, "arn")),)
    assert plan.bucket.retain_on_delete and plan.distribution.origin.oac_name


def test_a_custom_origin_is_reached_over_https_with_every_method() -> None:
    plan = build_personalization_plan(spec(origin=HttpOrigin(domain_name="shop.example.com")))
    d = plan.distribution
    assert plan.bucket is None and d.origin.oac_name is None
    assert d.origin.domain_name == "shop.example.com" and "POST" in d.allowed_methods
    assert d.default_root_object == ""


def test_the_gate_accepts_the_library_s_defaults_and_fixes_drop_their_findings() -> None:
    plain = evaluate_edge(build_personalization_plan(spec()))
    accepted = {(a.verdict.rule, a.verdict.subject) for a in plain.accepted}
    assert {("web-firewall", DISTRIBUTION_ID), ("viewer-tls", DISTRIBUTION_ID)} <= accepted
    assert all(len(a.reason) >= 60 for a in plain.accepted)
    hardened = build_personalization_plan(
        spec(web_acl_arn=ACL, certificate_arn=CERT, domain_names=("shop.example.com",))
    )
    report = enforce_edge(hardened)  # no stale acknowledgment, nothing unaccepted
    rules = {(a.verdict.rule, a.verdict.subject) for a in report.accepted}
    assert ("web-firewall", DISTRIBUTION_ID) not in rules
    assert hardened.distribution.minimum_protocol_version == "TLSv1.2_2021"
    assert hardened.distribution.aliases == ("shop.example.com",)


def test_a_new_version_for_new_code_or_settings_only() -> None:
    f = build_personalization_plan(spec()).edge.function
    key = version_key(f, "abc")
    assert key == version_key(f, "abc") and len(key) == 16
    assert key != version_key(f, "abd")
    assert key != version_key(dataclasses.replace(f, memory_mb=256), "abc")


def test_lambda_edge_lives_in_us_east_1_only() -> None:
    check_edge_region("us-east-1")
    for region in ("eu-west-1", None):
        with pytest.raises(SpecError, match="SML408"):
            check_edge_region(region)


def test_policy_items() -> None:
    assert policy_items(()) == ("none", ())
    assert policy_items(("a",)) == ("whitelist", ("a",))
