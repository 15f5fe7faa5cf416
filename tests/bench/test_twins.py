"""The naive twins' declarations and the stand-in boto3, without building anything."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from serverless_ml.bench.aws_standin import OBJECTS_ENV, write_standin
from serverless_ml.bench.baseline import Twin, support_files
from serverless_ml.bench.functions import FUNCTIONS
from serverless_ml.bench.isolated import run_isolated

TWINS = [f.twin for f in FUNCTIONS]


@pytest.mark.parametrize("twin", TWINS, ids=[t.name for t in TWINS])
def test_twin_handler_renders_and_compiles(twin: Twin) -> None:
    source = twin.handler()
    compile(source, "baseline_handler.py", "exec")
    assert "def handler(event, context):" in source
    assert twin.model_file in source


@pytest.mark.parametrize("twin", TWINS, ids=[t.name for t in TWINS])
def test_twin_pins_every_distribution_and_ships_its_support(twin: Twin) -> None:
    requirements = twin.requirements()
    assert [r.partition("==")[0] for r in requirements] == list(twin.distributions)
    assert all(r.partition("==")[2] for r in requirements)
    files = support_files(twin)
    for module in twin.support:
        assert module.replace(".", "/") + ".py" in files
    assert all(path.is_file() for path in files.values())


def test_standin_boto3_answers_in_process(tmp_path: Path) -> None:
    runtime = write_standin(tmp_path / "runtime")
    (tmp_path / "objects" / "bucket" / "uploads").mkdir(parents=True)
    (tmp_path / "objects" / "bucket" / "uploads" / "a.png").write_bytes(b"png")
    code = f"""
import json, sys
sys.path.append({str(runtime)!r})
import boto3, sml_bench_aws
from botocore.config import Config
s3 = boto3.session.Session().client("s3", config=Config(read_timeout=1))
body = s3.get_object(Bucket="bucket", Key="uploads/a.png")["Body"].read()
boto3.client("dynamodb").put_item(TableName="t", Item={{"k": {{"S": "v"}}}})
assert issubclass(s3.exceptions.NoSuchKey, Exception)
real = "site-packages" in boto3.__file__
print(json.dumps({{"body": body.decode(), "calls": sml_bench_aws.CALLS, "real_boto3": real}}))
"""
    (tmp_path / "task").mkdir()
    # Only the (empty) task root and the stdlib are importable, then the stand-in: as on Lambda.
    out = run_isolated(
        sys.executable, tmp_path / "task", code, env={OBJECTS_ENV: str(tmp_path / "objects")}
    )
    assert out["body"] == "png" and not out["real_boto3"]
    assert [(c["service"], c["operation"]) for c in out["calls"]] == [
        ("s3", "get_object"),
        ("dynamodb", "put_item"),
    ]
    assert out["calls"][1]["request"]["Item"] == {"k": {"S": "v"}}
