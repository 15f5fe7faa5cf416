"""An in-process stand-in for boto3, where Lambda's runtime keeps the real one.

boto3 ships in the Lambda Python runtime (``/var/runtime``, after the bundle on ``sys.path``)
and in neither bundle, so a fresh process that sees only a bundle has none. The benchmark child
appends this directory instead: ``boto3.client(...)`` and ``boto3.session.Session().client(...)``
return clients that answer in process. S3 ``get_object`` reads ``$SML_BENCH_OBJECTS/<bucket>/<key>``;
every other operation succeeds with ``{}``; each call is logged in ``sml_bench_aws.CALLS`` (JSON
safe) so the benchmark reads what a handler wrote. AWS latency and boto3's own import are thus
in neither figure: a handler's first invoke is its own code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

OBJECTS_ENV: Final = "SML_BENCH_OBJECTS"

_SOURCES: Final = {
    "sml_bench_aws.py": '''\
"""In-process AWS clients for benchmarks (serverless_ml.bench.aws_standin)."""
import io
import os

CALLS = []


def _safe(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    return value


class _Errors:
    def __init__(self):
        for name in ("NoSuchKey", "ConditionalCheckFailedException"):
            setattr(self, name, type(name, (Exception,), {}))


class _Body:
    def __init__(self, data):
        self._stream = io.BytesIO(data)

    def read(self, amount=-1):
        return self._stream.read(amount)

    def close(self):
        pass


class Client:
    def __init__(self, service):
        self.service = service
        self.exceptions = _Errors()

    def get_object(self, **request):
        CALLS.append({"service": self.service, "operation": "get_object", "request": _safe(request)})
        path = os.path.join(os.environ["'''
    + OBJECTS_ENV
    + """"], request["Bucket"], request["Key"])
        with open(path, "rb") as source:
            data = source.read()
        return {"Body": _Body(data), "ContentLength": len(data)}

    def __getattr__(self, operation):
        if operation.startswith("_"):
            raise AttributeError(operation)

        def call(**request):
            CALLS.append({"service": self.service, "operation": operation, "request": _safe(request)})
            return {}

        return call
""",
    "boto3/__init__.py": '''\
"""Stand-in boto3 (benchmarks only): see sml_bench_aws."""
from boto3 import session


def client(service_name, *args, **kwargs):
    return session.Session().client(service_name)
''',
    "boto3/session.py": """\
import sml_bench_aws


class Session:
    def __init__(self, *args, **kwargs):
        pass

    def client(self, service_name, *args, **kwargs):
        return sml_bench_aws.Client(service_name)
""",
    "botocore/__init__.py": '"""Stand-in botocore (benchmarks only)."""\n',
    "botocore/config.py": """\
class Config:
    def __init__(self, *args, **kwargs):
        self.options = kwargs
""",
}


def write_standin(directory: Path) -> Path:
    """Write the stand-in modules into ``directory``; return it (the path to append)."""
    for relative, source in _SOURCES.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return directory
