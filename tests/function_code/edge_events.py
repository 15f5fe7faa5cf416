"""CloudFront (Lambda@Edge) events in the shapes the CloudFront Developer Guide documents."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PERSONALIZATION_MODEL_DIR = (
    REPO / "src" / "serverless_ml" / "models" / "artifacts" / "personalization"
)
DISTRIBUTION = {
    "distributionDomainName": "d111111abcdef8.cloudfront.net",
    "distributionId": "EDFDVBD6EXAMPLE",
    "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
}


def _headers(pairs: Mapping[str, str]) -> dict[str, list[dict[str, str]]]:
    return {name.lower(): [{"key": name, "value": value}] for name, value in pairs.items()}


def viewer_request(
    uri: str = "/", *, headers: Mapping[str, str] | None = None, querystring: str = ""
) -> dict[str, Any]:
    """A viewer-request event: what the viewer sent (CloudFront adds no viewer headers yet)."""
    sent = {"Host": "d111111abcdef8.cloudfront.net", "User-Agent": "curl/8.5.0", "Accept": "*/*"}
    return {
        "Records": [
            {
                "cf": {
                    "config": {**DISTRIBUTION, "eventType": "viewer-request"},
                    "request": {
                        "clientIp": "203.0.113.178",
                        "headers": _headers({**sent, **(headers or {})}),
                        "method": "GET",
                        "querystring": querystring,
                        "uri": uri,
                    },
                }
            }
        ]
    }


def origin_request(
    uri: str = "/index.html",
    *,
    country: str = "GB",
    mobile: bool = False,
    headers: Mapping[str, str] | None = None,
    querystring: str = "",
) -> dict[str, Any]:
    """An origin-request event for an S3 origin behind origin access control, with the
    CloudFront viewer headers an origin request policy forwards."""
    added = {
        "CloudFront-Viewer-Country": country,
        "CloudFront-Is-Mobile-Viewer": "true" if mobile else "false",
        "CloudFront-Is-Tablet-Viewer": "false",
        "CloudFront-Is-SmartTV-Viewer": "false",
        "CloudFront-Is-Desktop-Viewer": "false" if mobile else "true",
        "Host": "site-bucket.s3.us-east-1.amazonaws.com",
        "User-Agent": "Amazon CloudFront",
        "Via": "2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)",
        "X-Forwarded-For": "203.0.113.178",
    }
    return {
        "Records": [
            {
                "cf": {
                    "config": {**DISTRIBUTION, "eventType": "origin-request"},
                    "request": {
                        "clientIp": "203.0.113.178",
                        "headers": _headers({**added, **(headers or {})}),
                        "method": "GET",
                        "origin": {
                            "s3": {
                                "authMethod": "origin-access-identity",
                                "customHeaders": {},
                                "domainName": "site-bucket.s3.us-east-1.amazonaws.com",
                                "path": "",
                                "region": "us-east-1",
                            }
                        },
                        "querystring": querystring,
                        "uri": uri,
                    },
                }
            }
        ]
    }


def viewer_response(request_event: Mapping[str, Any]) -> dict[str, Any]:
    """A viewer-response event answering ``request_event``'s request."""
    event = copy.deepcopy(dict(request_event))
    cf = event["Records"][0]["cf"]
    cf["config"]["eventType"] = "viewer-response"
    cf["response"] = {
        "headers": _headers({"Content-Type": "text/html", "Server": "AmazonS3"}),
        "status": "200",
        "statusDescription": "OK",
    }
    return event


def request_of(event: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = event["Records"][0]["cf"]["request"]
    return request
