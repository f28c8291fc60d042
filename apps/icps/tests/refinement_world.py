"""The ICP refinement world, worked by hand (apps/icps/tests/test_refinement.py and the
browser test share it). Period: March 2026.

ICP "Core": qualifier country US or Germany; R1 fit Software 40; R2 fit employees 100-1,000
10; R3 readiness Marketo 10; R4 fit country US 5. Scored now (accounts_rescore):
  S1-S10  Software, 50 employees, US        → R1 + R4 = 45, tier B
  F1-F5   Finance, 500 employees, Germany, Marketo → R2 + R3 = 20, tier C
  F6-F10  Finance, 500 employees, US        → R2 + R4 = 15, tier C
  P1      Retail, France                    → no ICP match
Returns in March (counted): No ICP fit on S1-S4, F1, P1; Not interested on F3. Not counted: a
No ICP fit on S5 rejected by ops, a retrieval of F2, a No ICP fit on S7 in February.
Converted (an opportunity reached the pipeline stage in March): S6, F2, F3, F4; S7's came in
February (not counted).
"""

from __future__ import annotations

import datetime as dt

from apps.accounts.tests.factories import AccountFactory
from apps.icps.models import Rule
from apps.icps.services import accounts_rescore
from apps.icps.tests.factories import ICPFactory, RuleFactory
from apps.reporting.tests.conftest import make_opportunity
from apps.routing.models import ReturnRequest

C = Rule.Condition
PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def march(day: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, 12, tzinfo=dt.UTC)


def refinement_world(*, sdr, ae) -> dict:
    icp = ICPFactory(name="Core")
    RuleFactory(icp=icp, position=0, category="qualifier", condition=C.COUNTRY_IN, values=["United States", "Germany"], points=0)
    rules = {
        "R1": RuleFactory(icp=icp, position=1, category="fit", condition=C.INDUSTRY_IN, values=["Software"], points=40),
        "R2": RuleFactory(icp=icp, position=2, category="fit", condition=C.EMPLOYEES_BETWEEN, minimum=100, maximum=1000,
                          points=10),
        "R3": RuleFactory(icp=icp, position=3, category="readiness", condition=C.TECHNOLOGY_PRESENT, values=["Marketo"],
                          points=10),
        "R4": RuleFactory(icp=icp, position=4, category="fit", condition=C.COUNTRY_IN, values=["United States"], points=5),
    }
    accounts = {}
    for i in range(1, 11):
        accounts[f"S{i}"] = AccountFactory(name=f"S{i}", industry="Software", employees=50, country="United States")
    for i in range(1, 11):
        accounts[f"F{i}"] = AccountFactory(name=f"F{i}", industry="Finance", employees=500,
                                           country="Germany" if i <= 5 else "United States",
                                           technologies=["Marketo"] if i <= 5 else [])
    accounts["P1"] = AccountFactory(name="P1", industry="Retail", employees=20, country="France")
    accounts_rescore()

    def returned(name, reason, *, at=None, status="pending"):
        at = at or march(10)
        ReturnRequest.objects.create(account=accounts[name], account_name=name, rep=sdr, reason=reason, status=status,
                                     created_at=at, reviewed_at=None if status == "pending" else at)

    for name in ["S1", "S2", "S3", "S4", "F1", "P1"]:
        returned(name, "no_icp_fit")
    returned("F3", "not_interested")
    returned("S5", "no_icp_fit", status="rejected")
    returned("F2", "retrieval")
    returned("S7", "no_icp_fit", at=dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC))
    for name in ["S6", "F2", "F3", "F4"]:
        make_opportunity(account=accounts[name], owner=ae, sourcing_sdr=sdr, stage="pipeline", amount=1000,
                         created_at=march(5), pipeline_at=march(12))
    make_opportunity(account=accounts["S7"], owner=ae, sourcing_sdr=sdr, stage="pipeline", amount=1000,
                     created_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC), pipeline_at=dt.datetime(2026, 2, 10, tzinfo=dt.UTC))
    return {"icp": icp, "rules": rules, "accounts": accounts}
