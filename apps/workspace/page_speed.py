"""The pages each role opens every day, and how one is measured: total time and the SQL time
inside it (connection.execute_wrapper), best of a few warm requests. Used by the query-bound
test (apps/workspace/tests/test_demo_org.py) and by `make bench` (apps/workspace/benchmarks.py),
which compares the two timings against the 3× yardstick of issue 17 item 6."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection

from apps.people.models import Contact, Rep

# The workspace pages each role opens first every day.
WORKSPACE_PAGES = {
    "sdr1": ["/admin/", "/admin/cadences/enrolment/today/", "{account}", "{contact}"],
    "ae1": ["/admin/"],
    "manager.east": ["/admin/"],
    "ops": ["/admin/", "/admin/routing/routingdecision/?queue=open", "{account}", "{contact}"],
}
# The lists behind the menus, the header search, the jobs page and the team dashboard.
CHANGELISTS = {
    "sdr1": ["/admin/accounts/account/", "/admin/meetings/meeting/", "/admin/search/?q=son"],
    "ae1": ["/admin/meetings/meeting/?queue=to_disposition", "/admin/meetings/opportunity/"],
    "manager.east": ["/admin/routing/returnrequest/", "/admin/accounts/account/", "/admin/reports/team-dashboard/"],
    "ops": ["/admin/accounts/account/", "/admin/search/?q=son", "/admin/jobs/"],
}
# The report pages each role opens from the Reports menu (their query budgets are asserted per
# page in apps/reporting/tests/test_rollups.py; here only their speed against their SQL).
REPORTS = {
    "sdr1": ["/admin/reports/scorecard/", "/admin/reports/activity/"],
    "manager.east": ["/admin/reports/attainment/", "/admin/reports/lead-response/"],
    "ops": ["/admin/reports/team-dashboard/", "/admin/reports/icp-coverage/"],
}


@dataclass
class PageTiming:
    username: str
    url: str
    seconds: float
    sql_seconds: float
    queries: int

    @property
    def ratio(self) -> float:
        return self.seconds / max(self.sql_seconds, 1e-4)

    def line(self) -> str:
        return (f"{self.username:13} {self.url:48} {self.seconds * 1000:6.1f} ms, SQL {self.sql_seconds * 1000:5.1f} ms, "
                f"x{self.ratio:3.1f}, {self.queries} queries")


def page_measure(client, url: str, *, samples: int = 5) -> tuple[float, float, int]:
    """(total, SQL, queries) of the quickest (by ratio) of `samples` warm requests."""
    client.get(url)  # warm: sessions, content types, template caches
    best = None
    for _ in range(samples):
        spent = [0.0, 0]

        def timed(execute, sql, params, many, context, spent=spent):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent[0] += time.perf_counter() - started
                spent[1] += 1

        with connection.execute_wrapper(timed):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        sample = (elapsed, spent[0], spent[1])
        if best is None or sample[0] / max(sample[1], 1e-4) < best[0] / max(best[1], 1e-4):
            best = sample
    return best


def page_walk(client, pages: dict[str, list[str]], account, *, samples: int = 5):
    """`account`: one account of sdr1's book; "{contact}" is the first of its contacts."""
    contact = Contact.objects.filter(account=account).order_by("pk").first()
    for username, urls in pages.items():
        client.force_login(Rep.objects.get(user__username=username).user)
        for url in urls:
            url = url.format(account=f"/admin/accounts/account/{account.pk}/record/",
                             contact=f"/admin/people/contact/{contact.pk if contact else 0}/record/")
            seconds, sql, queries = page_measure(client, url, samples=samples)
            yield PageTiming(username, url, seconds, sql, queries)
