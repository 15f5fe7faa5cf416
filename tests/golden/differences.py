"""Deliberate differences from the committed snapshots of the reference stacks, each with why.

Key: (backend, stack); value: ``{diff line: reason}`` with diff lines as
``tests.golden.snapshot.diff`` prints them. Empty means the refactor changed nothing a deployed
stack would see.
"""

from __future__ import annotations

DELIBERATE: dict[tuple[str, str], dict[str, str]] = {}
