"""Report URLs, mounted inside the admin site (see sdrops.admin_site) so every page gets the
admin's login, CSRF and caching protection through `admin_view`."""

from __future__ import annotations

from functools import partial

from django.urls import path

from apps.reporting import views


def report_urls(site) -> list:

    return [
        path("reports/", site.admin_view(partial(views.report_index, site=site)), name="reports"),
        path("reports/<slug:slug>/", site.admin_view(partial(views.report_view, site=site)), name="report"),
    ]
