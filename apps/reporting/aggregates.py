"""Aggregates Django lacks: ordered-set percentiles (PostgreSQL `percentile_cont`)."""

from __future__ import annotations

from django.db.models import Aggregate, FloatField


class PercentileCont(Aggregate):
    """`percentile_cont(fraction) WITHIN GROUP (ORDER BY expr)`, e.g. the median at 0.5.

    Interpolates between the two nearest values, as spreadsheets' PERCENTILE does; NULLs
    are ignored, and an empty group gives NULL (shown as "no data")."""

    function = "percentile_cont"
    name = "PercentileCont"
    output_field = FloatField()
    allow_distinct = False
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=float(fraction), **extra)
