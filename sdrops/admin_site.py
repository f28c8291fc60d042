from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import path

from apps.reporting.urls import report_urls
from apps.workspace import views as workspace_views
from sdrops import config_cache
from sdrops.admin_app_list import build_app_dict, viewer_key
from sdrops.admin_permissions import PermissionAnswers, backends_are_plain


class SdropsAdminSite(admin.AdminSite):
    site_header = "sdrops"
    site_title = "sdrops"
    index_title = "Sales development operations"
    # Navigation is grouped by job in the header (apps/workspace/navigation.py), not a sidebar
    # of every model on every page; the index is each role's home.
    enable_nav_sidebar = False
    site_url = None

    def get_urls(self):
        return [
            path("jobs/", self.admin_view(self.jobs_view), name="jobs"),
            path("profile/", self.admin_view(self.profile_view), name="workspace_profile"),
            path("search/", self.admin_view(self.search_view), name="workspace_search"),
            path("accounts/account/<int:pk>/record/", self.admin_view(self.account_record_view),
                 name="workspace_account_record"),
            path("people/contact/<int:pk>/record/", self.admin_view(self.contact_record_view),
                 name="workspace_contact_record"),
            *report_urls(self),
            *super().get_urls(),
        ]

    def each_context(self, request):
        """Django's context for every admin page, built under one read of the configuration
        version (sdrops.config_cache), so the permission sets and settings singletons the app
        list asks about cost one statement together instead of one each."""
        with config_cache.checked(config_cache.current_or_read()):
            return super().each_context(request)

    def get_app_list(self, request, app_label=None):
        """Django's app list, kept per user and configuration version (sdrops/admin_app_list.py,
        `viewer_key`): every page builds it for its context, and its ~60 permission answers
        and sorting were a fifth of a small record page's time outside the database."""
        key = viewer_key(request.user) if app_label is None else None
        if key is None:
            return super().get_app_list(request, app_label)

        def build():
            return super(SdropsAdminSite, self).get_app_list(request)

        return config_cache.cached(("admin_app_list", self.name, *key), build)

    def _build_app_dict(self, request, label=None):
        """Django's app list (sdrops/admin_app_list.py: URLs and names worked out once per
        process), with the user's permission questions answered from one look at their
        permissions (sdrops/admin_permissions.py says why and when it steps aside)."""
        user = request.user
        if not user.is_authenticated or not backends_are_plain():
            return build_app_dict(self, request, label)
        request.user = PermissionAnswers(user)
        try:
            return build_app_dict(self, request, label)
        finally:
            request.user = user

    def index(self, request, extra_context=None):
        """Each role's home (apps/workspace): the first page after login."""
        return workspace_views.home_view(self, request)

    def search_view(self, request):
        return workspace_views.search_view(self, request)

    def account_record_view(self, request, pk):
        return workspace_views.account_record_view(self, request, pk)

    def contact_record_view(self, request, pk):
        return workspace_views.contact_record_view(self, request, pk)

    def profile_view(self, request):
        return workspace_views.profile_view(self, request)

    def jobs_view(self, request):
        """The django-q2 clusters that are running (from their heartbeat in the shared
        cache) and the state of the task tables, for ops watching schedules."""
        from django.conf import settings
        from django.core.exceptions import PermissionDenied
        from django_q.models import OrmQ, Schedule, Task
        from django_q.status import Stat

        if not request.user.has_perm("django_q.view_schedule"):
            raise PermissionDenied
        name = settings.Q_CLUSTER.get("name", "cluster")
        clusters = [
            {"name": f"{name} on {stat.host}", "id": str(stat.cluster_id), "host": stat.host, "status": stat.status,
             "workers": len(stat.workers), "uptime": int(stat.uptime())}
            for stat in Stat.get_all()
        ]
        schedules = list(Schedule.objects.order_by("next_run"))
        # Each schedule's last run: its latest task, in one query.
        last = {t.id: t for t in Task.objects.filter(id__in=[s.task for s in schedules if s.task])}
        # The type's label as get_schedule_type_display writes it, translated once per type: that
        # method hashed every choice's lazy label (a translation each) for every schedule.
        labels = {value: str(label) for value, label in Schedule._meta.get_field("schedule_type").flatchoices}
        for schedule in schedules:
            schedule.last_task = last.get(schedule.task)
            schedule.type_label = labels.get(schedule.schedule_type, schedule.schedule_type)
        # Success and Failure are Task's rows with success true and false: both counts in one statement.
        kept = Task.objects.aggregate(successes=Count("pk", filter=Q(success=True)),
                                      failures=Count("pk", filter=Q(success=False)))
        context = {
            **self.each_context(request),
            "title": "Background jobs",
            "clusters": clusters,
            "queued": OrmQ.objects.count(),
            "successes": kept["successes"],
            "failures": kept["failures"],
            "schedules": schedules,
        }
        return TemplateResponse(request, "admin/jobs.html", context)
