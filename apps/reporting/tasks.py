"""django-q2 tasks over apps.reporting (thin; every one safe to run twice)."""

from __future__ import annotations

from apps.reporting.rollups import books_compact


def books_compact_task() -> int:
    """The books rollup's rows folded back into one a key (apps.reporting.rollups.books_compact)."""
    return books_compact()
