"""What the edge handler does with its decision, from the config baked into its bundle.

Standard library only. ``settings_of(config)`` is the one reader: the handler calls it at INIT
on ``sml_config.json``, and the library calls it when the spec is built, so a bad value fails
``cdk synth`` / ``pulumi preview`` with a coded error instead of shipping a function that could
only pass requests through.

Keys (all optional):

- ``mode``: ``header`` (default) adds ``<header>: <variant>`` and the ``<cookie>=<variant>``
  cookie to the request, for an origin that renders the variant itself; ``uri`` also rewrites
  ``/path`` to ``<uri_prefix>/<variant>/path``, for an origin (an S3 bucket) that stores one
  copy of the site per variant.
- ``header`` (``x-sml-variant``), ``cookie`` (``sml_variant``): the names used.
- ``uri_prefix`` (``/variants``): where the variant copies live, in ``uri`` mode.
- ``paths`` (``/``): comma-separated URI prefixes to personalize; other requests pass unchanged.
- ``sticky`` (``true``): a request whose cookie already names a variant keeps it (no inference).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, NamedTuple

MODES: Final = ("header", "uri")
DEFAULTS: Final[Mapping[str, str]] = {
    "mode": "header",
    "header": "x-sml-variant",
    "cookie": "sml_variant",
    "uri_prefix": "/variants",
    "paths": "/",
    "sticky": "true",
}
# RFC 9110 token characters (header and cookie names).
_TOKEN: Final = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$")
_PATH: Final = re.compile(r"^/[A-Za-z0-9\-._~/%]*$")
# Headers a Lambda@Edge function may not add or change ("Restrictions on edge functions",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html).
DISALLOWED_HEADERS: Final = frozenset(
    {
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "proxy-connection", "trailer", "upgrade", "x-cache", "x-forwarded-proto", "x-real-ip",
        "content-length", "host", "transfer-encoding", "via",
    }
)  # fmt: skip
# Headers the variant must not overwrite: the handler reads them, or the origin needs them as sent.
READ_HEADERS: Final = frozenset({"cookie", "referer", "user-agent", "authorization", "accept"})
DISALLOWED_HEADER_PREFIXES: Final = ("x-accel-", "x-amz-cf-", "x-edge-", "x-amzn-", "cloudfront-")
BOOLEANS: Final[Mapping[str, bool]] = {"true": True, "false": False}


class Settings(NamedTuple):
    """The handler's behaviour, decided once at INIT."""

    mode: str
    header: str  # lowercase, as CloudFront keys headers
    cookie: str
    uri_prefix: str  # no trailing slash
    paths: tuple[str, ...]
    sticky: bool

    def personalizes(self, uri: str) -> bool:
        """Whether a request for ``uri`` gets a variant (in ``paths``, not already a copy)."""
        if self.mode == "uri" and (uri == self.uri_prefix or uri.startswith(self.uri_prefix + "/")):
            return False
        return any(uri.startswith(path) for path in self.paths)


def settings_of(config: Mapping[str, str]) -> Settings:
    """The settings ``config`` describes; ValueError naming the key and what to change."""
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown config keys {unknown}: use {sorted(DEFAULTS)}")
    values = {**DEFAULTS, **config}
    mode = values["mode"]
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {MODES}")
    header = values["header"].lower()
    if not _TOKEN.match(header) or header in DISALLOWED_HEADERS | READ_HEADERS:
        raise ValueError(
            f"header={values['header']!r}: a header name of your own that Lambda@Edge lets "
            "you add, such as x-sml-variant"
        )
    if header.startswith(DISALLOWED_HEADER_PREFIXES):
        raise ValueError(
            f"header={values['header']!r}: Lambda@Edge refuses headers starting with "
            f"{DISALLOWED_HEADER_PREFIXES}"
        )
    cookie = values["cookie"]
    if not _TOKEN.match(cookie):
        raise ValueError(f"cookie={cookie!r}: a cookie name (letters, digits, -_.)")
    prefix = values["uri_prefix"].rstrip("/")
    if not prefix or not _PATH.match(prefix):
        raise ValueError(f"uri_prefix={values['uri_prefix']!r}: a path such as /variants")
    paths = tuple(p.strip() for p in values["paths"].split(",") if p.strip())
    if not paths or not all(_PATH.match(p) for p in paths):
        raise ValueError(f"paths={values['paths']!r}: comma-separated URI prefixes such as /,/shop")
    sticky = BOOLEANS.get(values["sticky"].lower())
    if sticky is None:
        raise ValueError(f"sticky={values['sticky']!r}: true or false")
    return Settings(mode, header, cookie, prefix, paths, sticky)


def canonical_header(name: str) -> str:
    """``x-sml-variant`` -> ``X-Sml-Variant`` (the ``key`` CloudFront sends on)."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))
