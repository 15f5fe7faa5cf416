"""EdgePersonalizationSpec: a CloudFront distribution whose requests a Lambda@Edge function
personalizes, in front of a new S3 bucket (origin access control) or an origin you run.

Everything lives in us-east-1 (Lambda@Edge functions must; a distribution is global, so its
stack may as well): no cross-region references, no support stack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from serverless_ml.spec.alarms import AlarmSettings
from serverless_ml.spec.edge import EdgeFunctionSpec
from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.triggers import NewBucket, check_arn, is_token

PriceClass = Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
PRICE_CLASSES: tuple[str, ...] = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ORIGIN_PATH = re.compile(r"^(/[A-Za-z0-9\-._~%]+)*$")
_GLOBAL_WEB_ACL = re.compile(r"^arn:aws:wafv2:us-east-1:\d{12}:global/webacl/[\w-]+/[\w-]+$")
_US_EAST_1_CERTIFICATE = re.compile(r"^arn:aws:acm:us-east-1:\d{12}:certificate/[\w-]+$")
MAX_CACHE_TTL_S = 31_536_000  # CloudFront's cache policy maximum (one year)


@dataclass(frozen=True, kw_only=True)
class SiteBucket:
    """A new S3 bucket for the site, readable only by this distribution (origin access control;
    public access blocked, SSE-S3, TLS-only, versioned, retained on delete). In ``uri`` mode
    put one copy of the site per variant under ``<uri_prefix>/<variant>/``."""

    name_suffix: str = "site"

    def __post_init__(self) -> None:
        NewBucket(name_suffix=self.name_suffix)  # the same naming rules (SML177, SML183)


@dataclass(frozen=True, kw_only=True)
class HttpOrigin:
    """An origin you run (an ALB, API, or another CDN), reached over HTTPS only."""

    domain_name: str
    origin_path: str = ""
    https_port: int = 443

    def __post_init__(self) -> None:
        if not is_token(self.domain_name) and not _DOMAIN.match(self.domain_name):
            raise SpecError(
                "SML410",
                f"HttpOrigin domain_name {self.domain_name!r}: a DNS name like shop.example.com",
            )
        if not _ORIGIN_PATH.match(self.origin_path):
            raise SpecError(
                "SML410",
                f"HttpOrigin origin_path {self.origin_path!r}: empty, or /segments without a "
                "trailing slash",
            )
        if self.https_port != 443 and not 1024 <= self.https_port <= 65535:
            raise SpecError("SML410", f"https_port={self.https_port}: 443 or 1024-65535")


Origin = SiteBucket | HttpOrigin


@dataclass(frozen=True, kw_only=True)
class EdgePersonalizationSpec:
    """A distribution personalized by ``function`` (its ``event_type``: ``origin-request``
    sees CloudFront's viewer headers, country and device; ``viewer-request`` runs on every
    request but before CloudFront adds them). Validated on construction (coded ``SpecError``).

    ``cache_ttl_s``: how long CloudFront keeps a personalized response (its cache key holds
    every input the model reads except the Referer); 0 disables caching. ``web_acl_arn``: a
    WAFv2 web ACL (global scope). ``certificate_arn`` (ACM, us-east-1) with ``domain_names``
    serves your own names with TLS 1.2 at least; without them the cloudfront.net name is used.
    Alarms: ``errors``, ``throttles`` and ``duration_p99_pct_of_timeout`` on the function,
    ``error_rate_pct`` on the distribution's 5xx rate.
    """

    function: EdgeFunctionSpec
    origin: Origin = field(default_factory=SiteBucket)
    price_class: PriceClass = "PriceClass_100"
    cache_ttl_s: int = 300
    web_acl_arn: str | None = None
    certificate_arn: str | None = None
    domain_names: tuple[str, ...] = ()
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))
        object.__setattr__(self, "domain_names", tuple(self.domain_names))
        from sml_handlers.personalize.settings import settings_of

        try:
            settings_of(self.function.config)
        except ValueError as error:
            raise SpecError(
                "SML414", f"edge function config: {error} (sml_handlers.personalize.settings)"
            ) from None
        if not isinstance(self.origin, SiteBucket | HttpOrigin):
            raise SpecError("SML410", "origin: SiteBucket() or HttpOrigin(domain_name=...)")
        if self.price_class not in PRICE_CLASSES:
            raise SpecError("SML411", f"price_class {self.price_class!r}: one of {PRICE_CLASSES}")
        if not 0 <= self.cache_ttl_s <= MAX_CACHE_TTL_S:
            raise SpecError(
                "SML412", f"cache_ttl_s={self.cache_ttl_s}: 0 (no caching) to {MAX_CACHE_TTL_S}"
            )
        if self.web_acl_arn is not None and not is_token(self.web_acl_arn):
            check_arn(self.web_acl_arn, "wafv2", "web_acl_arn")
            if not _GLOBAL_WEB_ACL.match(self.web_acl_arn):
                raise SpecError(
                    "SML413",
                    f"web_acl_arn {self.web_acl_arn!r}: CloudFront takes a WAFv2 web ACL of "
                    "scope CLOUDFRONT (arn:aws:wafv2:us-east-1:<account>:global/webacl/...)",
                )
        if (self.certificate_arn is None) != (not self.domain_names):
            raise SpecError(
                "SML415",
                "certificate_arn and domain_names go together: a certificate covers the names "
                "the distribution answers to",
            )
        certificate = self.certificate_arn
        if (
            certificate
            and not is_token(certificate)
            and not _US_EAST_1_CERTIFICATE.match(certificate)
        ):
            raise SpecError(
                "SML415",
                f"certificate_arn {certificate!r}: CloudFront reads ACM certificates from "
                "us-east-1 only (arn:aws:acm:us-east-1:...)",
            )
        for name in self.domain_names:
            if not _DOMAIN.match(name.removeprefix("*.")):
                raise SpecError("SML415", f"domain name {name!r}: a DNS name like www.example.com")

    @property
    def name(self) -> str:
        return self.function.name
