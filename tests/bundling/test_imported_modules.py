"""A bundle carries the shared runtime modules its handler imports, and no others."""

from __future__ import annotations

from pathlib import Path

import pytest

from serverless_ml.bundling.sources import SourceFile, handler_files, imported_modules
from serverless_ml.bundling.spec import BundleSpec

REPO = Path(__file__).resolve().parents[2]


def _file(destination: str, text: str) -> SourceFile:
    return SourceFile(destination, Path(destination), text.encode())


def test_imports_are_followed_transitively_including_lazy_and_relative_ones() -> None:
    files = {
        f.destination: f
        for f in (
            _file("p/__init__.py", ""),
            _file("p/h/__init__.py", ""),
            _file("p/h/handler.py", "from p.rt import a\n\ndef f():\n    import p.rt.lazy\n"),
            _file("p/rt/__init__.py", ""),
            _file("p/rt/a.py", "from . import b\n"),
            _file("p/rt/b.py", "from .c import thing\n"),
            _file("p/rt/c.py", "thing = 1\n"),
            _file("p/rt/lazy.py", ""),
            _file("p/rt/unused.py", "import p.rt.c\n"),
        )
    }
    reached = imported_modules(files, roots={"p/h/handler.py"})
    assert reached == {
        "p/__init__.py", "p/h/handler.py", "p/rt/__init__.py", "p/rt/a.py", "p/rt/b.py",
        "p/rt/c.py", "p/rt/lazy.py",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("package", "present", "absent"),
    [
        ("sml_handlers.personalize", {"config.py", "compiled_model.py", "model.py"},
         {"dynamodb.py", "kinesis.py", "batch.py", "aws.py", "metrics.py"}),
        ("sml_handlers.fraud", {"dynamodb.py", "batch.py", "aws.py", "snapstart.py", "http_api.py"},
         {"kinesis.py", "s3.py"}),
    ],
)  # fmt: skip
def test_each_function_ships_what_it_imports(
    package: str, present: set[str], absent: set[str]
) -> None:
    spec = BundleSpec(
        name="x",
        function_package=package,
        model_dir=None,
        requirements=(),
        source_root=REPO / "src",
    )
    shipped = {
        f.destination.rsplit("/", 1)[-1]
        for f in handler_files(spec)
        if "/runtime/" in f.destination
    }
    assert present <= shipped
    assert not absent & shipped


def test_an_edge_bundle_over_its_event_budget_fails_with_sml302(tmp_path: Path) -> None:
    """The per-event-type budget is checked when the bundle is built (at synth / preview)."""
    import dataclasses

    from serverless_ml.bundling import BundleError, bundle_function
    from serverless_ml.core.personalization import build_personalization_plan
    from serverless_ml.reference.scenarios import edge_personalization

    function = build_personalization_plan(edge_personalization()).edge.function
    tight = dataclasses.replace(
        function, bundle=dataclasses.replace(function.bundle, max_zipped_bytes=10_000)
    )
    with pytest.raises(BundleError, match="SML302") as caught:
        bundle_function(tight, cache_dir=tmp_path)
    assert "Lambda@Edge viewer event" in caught.value.message
    assert bundle_function(function, cache_dir=tmp_path).zipped_bytes < 100 * 1024
