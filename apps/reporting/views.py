"""Report pages inside the admin (wrapped by AdminSite.admin_view): filters → scope → numbers.

One view serves every page in apps.reporting.reports.REPORTS: it validates the filters (and
the page's own parameters), computes the page once, and renders either the page or the CSV
of one of its tables (`?export=<table key>`), from the same formatted cells.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.text import slugify

from apps.people.selectors import rep_for_user, user_sees_everything


def reports_allowed(user) -> bool:
    """Who may read reports; the scope (apps.reporting.filters) decides which numbers.

    Users who see every book (superusers, ops) read every report, with or without a staff
    flag: the company-wide service user a CRM integration acts as (`create_integration
    --service-user`) has no admin login, and with the `read` scope it reads reports as ops
    do. Anyone else needs a rep record and staff status, as for the pages; an integration
    linked to a rep reads what that rep's role may (a manager their teams, an SDR their own
    numbers). The admin pages are behind admin_view, which asks for staff status anyway."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user_sees_everything(user):
        return True
    return user.is_staff and rep_for_user(user) is not None


def report_index(request, *, site):
    from apps.reporting.reports import reports_in_order

    if not reports_allowed(request.user):
        raise PermissionDenied
    context = {**site.each_context(request), "title": "Reports", "reports": reports_in_order()}
    return TemplateResponse(request, "admin/reporting/index.html", context)


def report_view(request, slug: str, *, site):
    from apps.reporting.filters import ReportFilterSet
    from apps.reporting.reports import REPORTS

    report = REPORTS.get(slug)
    if report is None:
        raise Http404("No such report.")
    if not reports_allowed(request.user):
        raise PermissionDenied
    filterset = ReportFilterSet(request.GET, request=request, page=report)
    params_form = report.params_form(request.GET) if report.params_form else None
    # Both forms are validated (not short-circuited) so every bad field is reported at once.
    valid = filterset.is_valid() & (params_form.is_valid() if params_form is not None else True)
    result = None
    computed_at = timezone.now()
    if valid:
        scope = filterset.scope(user=request.user, segment_filters_reps=report.segment_filters_reps)
        params = params_form.cleaned_data if params_form is not None else {}
        result = report_compute(report, scope=scope, params=params)
        computed_at = timezone.now()
    export = request.GET.get("export")
    if export:
        if result is None:
            errors = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in _errors(filterset, params_form).items())
            return HttpResponse(f"Invalid filters — {errors}\n", status=400, content_type="text/plain; charset=utf-8")
        try:
            table = result.table(export)
        except KeyError:
            return HttpResponse(f"This page has no table “{export}”.\n", status=400, content_type="text/plain; charset=utf-8")
        response = HttpResponse(table.to_csv(), content_type="text/csv; charset=utf-8")
        period = f"-{scope.date_from}-{scope.date_to}" if report.uses_dates else ""
        name = f"{report.slug}-{slugify(table.key)}{period}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    query = request.GET.copy()
    query.pop("export", None)
    context = {
        **site.each_context(request),
        "title": report.title,
        "report": report,
        "filterset": filterset,
        "params_form": params_form,
        "result": result,
        "errors": _errors(filterset, params_form),
        "computed_at": computed_at,
        "query": query.urlencode(),
        "server_tz": timezone.get_current_timezone_name(),
    }
    return TemplateResponse(request, "admin/reporting/report.html", context, status=200 if valid else 400)


# Report statements aggregate a few hundred thousand rows: enough memory to sort and hash
# them without spilling to disk; no JIT compilation (it costs more than it saves at this size);
# no parallel workers (each would rebuild the same hashed sub-aggregate, measured 2× slower on
# 2 cores). Local settings (SET LOCAL) keep all three to this one read-only transaction.
REPORT_SESSION = ("SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true), "
                  "set_config('max_parallel_workers_per_gather', '0', true)",)


def report_compute(report, *, scope, params):
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            for statement in REPORT_SESSION:
                cursor.execute(statement)
        return report.compute(scope=scope, params=params)


def _errors(filterset, params_form) -> dict:
    errors = {}
    for form in (filterset.form, params_form):
        if form is not None and form.is_bound:
            for field, messages in form.errors.items():
                label = form.fields[field].label if field in form.fields and form.fields[field].label else field
                errors[str(label)] = list(messages)
    return errors
