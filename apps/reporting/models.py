from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from sdrops.singleton import SingletonSettings


def _pct(default: str, help_text: str):
    return models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(default), help_text=help_text)


class FunnelTargets(SingletonSettings):
    """The team dashboard's targets and warning thresholds (percent), one row (pk 1), edited
    by ops in the admin. Defaults are the seed's healthy benchmarks."""

    mql_sql_target = _pct("25", "MQL → SQL above this is on target (%).")
    mql_sql_warning = _pct("15", "MQL → SQL below this is a warning (%).")
    sql_opp_target = _pct("40", "SQL → Opp above this is on target (%).")
    sql_opp_warning = _pct("25", "SQL → Opp below this is a warning (%).")
    mql_opp_target = _pct("10", "MQL → Opp above this is on target (%).")
    mql_opp_warning = _pct("5", "MQL → Opp below this is a warning (%).")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "funnel targets"
        verbose_name_plural = "funnel targets"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="funnel_targets_single_row"),
            models.CheckConstraint(condition=Q(mql_sql_warning__lte=F("mql_sql_target")), name="funnel_targets_mql_sql_ordered"),
            models.CheckConstraint(condition=Q(sql_opp_warning__lte=F("sql_opp_target")), name="funnel_targets_sql_opp_ordered"),
            models.CheckConstraint(condition=Q(mql_opp_warning__lte=F("mql_opp_target")), name="funnel_targets_mql_opp_ordered"),
            models.CheckConstraint(
                condition=Q(mql_sql_target__lte=100, sql_opp_target__lte=100, mql_opp_target__lte=100,
                            mql_sql_warning__gte=0, sql_opp_warning__gte=0, mql_opp_warning__gte=0),
                name="funnel_targets_percentages",
            ),
        ]

    def __str__(self) -> str:
        return "Funnel targets"

    def thresholds(self) -> dict[str, tuple[float, float]]:
        """rate key → (target, warning) as fractions."""
        return {
            "mql_sql": (float(self.mql_sql_target) / 100, float(self.mql_sql_warning) / 100),
            "sql_opp": (float(self.sql_opp_target) / 100, float(self.sql_opp_warning) / 100),
            "mql_opp": (float(self.mql_opp_target) / 100, float(self.mql_opp_warning) / 100),
        }
