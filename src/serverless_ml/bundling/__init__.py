"""Lean Lambda artifacts without Docker: pinned manylinux wheels, trimmed, bytecode precompiled by
the runtime's interpreter, cached by content hash, size-checked.

One directory serves both backends: ``lambda_.Code.from_asset(str(bundle.path))`` (CDK) and
``pulumi.FileArchive(str(bundle.path))`` (Pulumi).
"""

from serverless_ml.bundling.builder import build_bundle, content_hash
from serverless_ml.bundling.errors import BundleError, BundleWarning
from serverless_ml.bundling.from_plan import bundle_function, spec_from_plan
from serverless_ml.bundling.interpreter import TargetPython, find_target_python
from serverless_ml.bundling.sizes import check_bundle_size
from serverless_ml.bundling.spec import Bundle, BundleSpec, TrimmedItem

__all__ = [
    "Bundle",
    "BundleError",
    "BundleSpec",
    "BundleWarning",
    "TargetPython",
    "TrimmedItem",
    "build_bundle",
    "bundle_function",
    "check_bundle_size",
    "content_hash",
    "find_target_python",
    "spec_from_plan",
]
