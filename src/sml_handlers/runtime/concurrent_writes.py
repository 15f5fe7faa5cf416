"""Bounded concurrent writes for stream handlers: a batch's conditional puts overlap their
round trips instead of queueing behind each other, and each record keeps its own outcome.

Standard library only; ``concurrent.futures`` is imported on the first batch that has two
writes to overlap, never at INIT. Writes that share a key (two records of one transaction in a
batch) run one after another in batch order, so the later one still decides; different keys
run concurrently, at most ``max_workers`` at once. botocore clients are thread-safe, and the
cached client's connection pool is sized for ``MAX_WORKERS`` (``runtime.aws``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Final, TypeVar, cast

# Concurrent writes per batch: enough to hide ~10 ms round trips behind each other for a
# 100-record batch, few enough for one vCPU (128-1769 MB) to keep up with the responses.
MAX_WORKERS: Final = 16

_PENDING: Final = object()
Item = TypeVar("Item")
Result = TypeVar("Result")


def write_each(
    items: Sequence[Item],
    write: Callable[[Item], Result],
    *,
    key: Callable[[Item], Hashable],
    max_workers: int = MAX_WORKERS,
) -> list[Result | Exception]:
    """``write(item)`` for every item: its result, or the exception it raised (never raised
    here, so one failed write fails its own record only). Order of the returned list = items."""
    outcomes: list[Any] = [_PENDING] * len(items)
    groups: dict[Hashable, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(key(item), []).append(index)

    def run(indices: list[int]) -> None:
        for index in indices:
            try:
                outcomes[index] = write(items[index])
            except Exception as error:  # the record's own failure
                outcomes[index] = error

    if max_workers <= 1 or len(groups) <= 1:
        for indices in groups.values():
            run(indices)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(max_workers, len(groups))) as pool:
            for future in [pool.submit(run, indices) for indices in groups.values()]:
                future.result()
    assert _PENDING not in outcomes
    return cast("list[Result | Exception]", outcomes)
