"""Refuse a bundle AWS would refuse, with what to do about it."""

from __future__ import annotations

from serverless_ml.bundling.errors import UNZIPPED_TOO_LARGE, ZIPPED_TOO_LARGE, BundleError
from serverless_ml.bundling.spec import Bundle
from serverless_ml.core.limits import LAMBDA_UNZIPPED_BYTES, LAMBDA_ZIP_DIRECT_UPLOAD_BYTES

_MB = 1024 * 1024


def _mb(size: int) -> str:
    return f"{size / _MB:.1f} MB"


def _largest(bundle: Bundle, count: int = 5) -> str:
    """The biggest top-level entries of the bundle, to say where the bytes are."""
    sizes: list[tuple[int, str]] = []
    for child in bundle.path.iterdir():
        if child.is_dir():
            size = sum(p.stat().st_size for p in child.rglob("*") if p.is_file())
        else:
            size = child.stat().st_size
        sizes.append((size, child.name))
    top = sorted(sizes, reverse=True)[:count]
    return ", ".join(f"{name} {_mb(size)}" for size, name in top)


def check_bundle_size(
    bundle: Bundle,
    *,
    unzipped_limit: int = LAMBDA_UNZIPPED_BYTES,
    zipped_limit: int = LAMBDA_ZIP_DIRECT_UPLOAD_BYTES,
) -> None:
    """Raise ``BundleError`` if the bundle exceeds either limit (defaults: Lambda's zip limits;
    Lambda@Edge callers pass their smaller per-event-type budgets)."""
    if bundle.unzipped_bytes > unzipped_limit:
        raise BundleError(
            UNZIPPED_TOO_LARGE,
            f"bundle {bundle.path.name} is {_mb(bundle.unzipped_bytes)} unzipped, over the "
            f"{_mb(unzipped_limit)} limit (largest: {_largest(bundle)}). Drop a dependency the "
            "handler does not import, move heavy libraries out of the inference path, shrink "
            "the model, or deploy as a container image (10 GB limit).",
        )
    if bundle.zipped_bytes > zipped_limit:
        advice = (
            "Drop a dependency, shrink the model, or upload the artifact through S3 / use a "
            "container image."
            if zipped_limit >= LAMBDA_ZIP_DIRECT_UPLOAD_BYTES
            else "A Lambda@Edge viewer event allows no more (and no container image): serve "
            "the model compiled (ModelArtifact(runtime='compiled')), shrink it, or trigger on "
            "an origin event (50 MB)."
        )
        raise BundleError(
            ZIPPED_TOO_LARGE,
            f"bundle {bundle.path.name} is {_mb(bundle.zipped_bytes)} zipped, over the "
            f"{_mb(zipped_limit)} limit (largest: {_largest(bundle)}). {advice}",
        )
