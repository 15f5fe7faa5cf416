"""The real boto3, as Lambda's runtime ships it, answering in process.

``bench.aws_standin`` replaces boto3 with a few lines, so neither side of a comparison pays
boto3's import or client creation. The ablation benchmark needs those costs (one of its levers
is *when* boto3 loads), so its children get the real thing: ``boto3`` pinned to the version
installed here, installed like Lambda's runtime packages (``--platform`` wheels, .pyc compiled
by the runtime's Python) into a directory that goes on ``sys.path`` after the bundle, as
``/var/runtime`` does on Lambda. Only the network is replaced: a ``sys.meta_path`` hook
patches ``botocore.httpsession.URLLib3Session.send`` the moment botocore imports it, so every
request is built, serialized and signed by botocore as usual and then answered in process
(DynamoDB ``{}``, SNS ``Publish`` XML, S3 ``GetObject`` from ``$SML_BENCH_OBJECTS/<bucket>/<key>``,
``PutObject`` 200). Each call is logged in ``sml_bench_transport.CALLS`` in
``bench.aws_standin``'s shape (``service``, ``operation``, ``request``), DynamoDB requests as
their wire JSON (the typed ``{"S": ...}`` items), so ``bench.functions`` reads the answers.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
from pathlib import Path
from typing import Final

from serverless_ml.bundling import cache
from serverless_ml.bundling.bytecode import compile_tree
from serverless_ml.bundling.wheels import install_wheels

OBJECTS_ENV: Final = "SML_BENCH_OBJECTS"
TRANSPORT_MODULE: Final = "sml_bench_transport"
LAYOUT: Final = 1
CACHE_SUBDIR: Final = "ablation-runtime"

# What Lambda sets for the function's role (values are fakes: nothing leaves the process).
CREDENTIALS_ENV: Final = {
    "AWS_ACCESS_KEY_ID": "ASIABENCHEXAMPLE0000",
    "AWS_SECRET_ACCESS_KEY": "bench/secret/access/key/example/000000000",
    "AWS_SESSION_TOKEN": "bench-session-token",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/serverless-ml-bench/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/serverless-ml-bench/credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}

_TRANSPORT_SOURCE: Final = (
    '''\
"""Answer botocore's HTTP requests in process (benchmarks only: serverless_ml.bench.aws_transport).

Standard library only, and nothing imported at install(): the modules botocore needs load when
botocore loads them, inside the handler's timed INIT or first invoke.
"""
import importlib.machinery
import sys

CALLS = []
_SNS_PUBLISH = (
    b'<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>'
    b"<MessageId>bench-message</MessageId></PublishResult><ResponseMetadata>"
    b"<RequestId>bench-request</RequestId></ResponseMetadata></PublishResponse>"
)
_NO_SUCH_KEY = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code>'
    b"<Message>The specified key does not exist.</Message></Error>"
)


class _Raw:
    def __init__(self, data):
        self._data = data
        self._offset = 0

    def read(self, amount=None):
        end = len(self._data) if amount is None or amount < 0 else self._offset + amount
        chunk = self._data[self._offset:end]
        self._offset += len(chunk)
        return chunk

    def stream(self, **kwargs):
        chunk = self.read()
        if chunk:
            yield chunk

    def close(self):
        pass


def _body(request):
    body = request.body
    if body is None:
        return b""
    if hasattr(body, "read"):
        data = body.read()
        if hasattr(body, "seek"):
            try:
                body.seek(0)
            except Exception:
                pass
        body = data
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _header(request, name):
    value = request.headers.get(name)
    return value.decode("ascii") if isinstance(value, bytes) else value


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _answer(request):
    import json
    import os
    from urllib.parse import parse_qsl, unquote, urlsplit

    url = urlsplit(request.url)
    host = url.hostname or ""
    body = _body(request)
    target = _header(request, "X-Amz-Target")
    if target:  # JSON protocol (DynamoDB)
        service = "dynamodb" if target.startswith("DynamoDB") else target.split("_")[0].lower()
        payload = json.loads(body or b"{}")
        CALLS.append({"service": service, "operation": _snake(target.rsplit(".", 1)[1]),
                      "request": payload})
        return 200, {"Content-Type": "application/x-amz-json-1.0",
                     "x-amzn-RequestId": "bench-request"}, b"{}"
    if host.startswith("sns."):  # query protocol
        form = dict(parse_qsl(body.decode("utf-8")))
        action = form.pop("Action", "")
        form.pop("Version", None)
        CALLS.append({"service": "sns", "operation": _snake(action), "request": form})
        reply = _SNS_PUBLISH if action == "Publish" else b"<%sResponse/>" % action.encode()
        return 200, {"Content-Type": "text/xml"}, reply
    if ".s3." in host or host.startswith("s3."):
        path = unquote(url.path)
        if host.startswith("s3."):
            bucket, _, key = path.lstrip("/").partition("/")
        else:
            bucket, key = host.split(".s3.", 1)[0], path.lstrip("/")
        operation = {"GET": "get_object", "PUT": "put_object", "HEAD": "head_object"}.get(
            request.method, request.method.lower())
        CALLS.append({"service": "s3", "operation": operation,
                      "request": {"Bucket": bucket, "Key": key, "BodyBytes": len(body)}})
        if operation in ("get_object", "head_object"):
            stored = os.path.join(os.environ.get("'''
    + OBJECTS_ENV
    + '''", ""), bucket, key)
            if not os.path.isfile(stored):
                return 404, {"Content-Type": "application/xml"}, _NO_SUCH_KEY
            with open(stored, "rb") as source:
                data = source.read()
            headers = {"Content-Length": str(len(data)), "ETag": '"bench"',
                       "Content-Type": "application/octet-stream"}
            return 200, headers, (data if operation == "get_object" else b"")
        return 200, {"ETag": '"bench"', "Content-Length": "0"}, b""
    CALLS.append({"service": host.split(".")[0], "operation": request.method.lower(),
                  "request": {"url": request.url}})
    return 200, {}, b"{}"


def _send(self, request):
    from botocore.awsrequest import AWSResponse

    status, headers, data = _answer(request)
    return AWSResponse(request.url, status, headers, _Raw(data))


class _Finder:
    """Patches botocore.httpsession's send the moment it is imported."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "botocore.httpsession":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            module.URLLib3Session.send = _send

        spec.loader.exec_module = exec_module
        return spec


def install():
    sys.meta_path.insert(0, _Finder())
'''
)


def write_transport(directory: Path) -> Path:
    """Write ``sml_bench_transport.py`` into ``directory``; return it (the path to append)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{TRANSPORT_MODULE}.py").write_text(_TRANSPORT_SOURCE, encoding="utf-8")
    return directory


def boto3_requirement() -> str:
    """``boto3==<the version installed here>`` (what the library's tests run against)."""
    return f"boto3=={importlib.metadata.version('boto3')}"


def installed_packages(
    requirements: tuple[str, ...],
    *,
    python: str,
    python_version: str,
    magic: str,
    architecture: str,
    cache_dir: Path,
) -> Path:
    """``cache_dir/ablation-runtime/<key>/site``: ``requirements`` installed for the platform
    (as the bundler installs wheels) with .pyc compiled by ``python``, untrimmed; built once
    per requirements, Python and architecture."""
    key = hashlib.sha256(
        json.dumps(
            [LAYOUT, list(requirements), python_version, magic, architecture], sort_keys=True
        ).encode()
    ).hexdigest()[:32]
    final = cache_dir / CACHE_SUBDIR / key
    if (final / "site").is_dir():
        cache.touch(final)
        return final / "site"
    cache.prepare(cache_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    with cache.key_lock(cache_dir, f"{CACHE_SUBDIR}-{key}"):
        if (final / "site").is_dir():
            return final / "site"
        work = cache.temp_entry(cache_dir, key)
        try:
            site = work / "site"
            install_wheels(
                requirements, site, python_version=python_version, architecture=architecture
            )
            shutil.rmtree(site / "bin", ignore_errors=True)
            failures = compile_tree(python, site)
            (work / "manifest.json").write_text(
                json.dumps({"requirements": list(requirements), "compile_failures": failures})
                + "\n",
                encoding="utf-8",
            )
            cache.publish(work, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return final / "site"
