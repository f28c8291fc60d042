"""CSV import/export in the admin: mixins for the Account, Contact and Rep ModelAdmins.

django-import-export supplies the changelist buttons and the export screen; the import
screens are replaced (same URL, same look) because its own flow renders every row of the
preview and runs the import twice in the request. Here: upload → the file is checked with
a dry run (as a django-q2 job above ASYNC_ROW_THRESHOLD rows) → a preview of the totals
and the first 100 row errors → confirm → the import (a job for big files) with a progress
bar → the result, kept as an ImportRecord.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV

from apps.accounts.csv_safety import csv_writer
from apps.accounts.imports.exports import EXPORTERS
from apps.accounts.imports.reading import ENCODING_CHOICES
from apps.accounts.imports.resources import AccountResource, ContactResource, RepResource
from apps.accounts.imports.services import (
    ASYNC_ROW_THRESHOLD,
    import_record_create,
    import_record_preview,
    import_record_run,
    import_record_transition,
)
from apps.accounts.models import ImportRecord
from sdrops.access import user_sees_everything

MAX_UPLOAD_BYTES = 200 * 2**20
ADMIN_URL_NAME = {"accounts": "accounts_account", "contacts": "people_contact", "reps": "people_rep"}
COLUMNS_HELP = {
    "accounts": "name, website (or domain), industry, employees, annual_revenue, country, segment, status, "
                "company_owner, domain_aliases (separated by ;)",
    "contacts": "first_name, last_name, email, title, persona, buying_role, source, account_domain",
    "reps": "owner_name, email, role, team, manager, capacity, weight, ramp_start",
}


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="A .csv file: UTF-8 (with or without BOM), comma, semicolon or tab separated.")
    encoding = forms.ChoiceField(choices=ENCODING_CHOICES, initial="utf-8",
                                 help_text="Only change this if the file was not saved as UTF-8.")
    skip_bad_rows = forms.BooleanField(
        required=False, label="Skip bad rows",
        help_text="Import the good rows and give the bad ones back as a rejects file. "
                  "Unticked, any bad row stops the whole import.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB.")
        return upload


class CsvImportExportMixin(ImportExportMixin):
    """Put before admin.ModelAdmin (after scoping mixins): `class AccountAdmin(AccountImportExportMixin, …)`."""

    import_kind = ""
    export_formats = [CSV]
    import_formats = [CSV]
    skip_export_form = True
    import_upload_template = "admin/accounts/imports/upload.html"
    import_record_template = "admin/accounts/imports/record.html"

    # -- permissions ---------------------------------------------------------------
    def has_import_permission(self, request):
        opts = self.opts
        return user_sees_everything(request.user) and request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    # -- urls ----------------------------------------------------------------------
    def get_urls(self):
        prefix = "{}_{}".format(*self.get_model_info())
        view = self.admin_site.admin_view
        return [
            path("import/<int:record_id>/", view(self.import_record_view), name=f"{prefix}_import_record"),
            path("import/<int:record_id>/confirm/", view(self.import_confirm_view), name=f"{prefix}_import_confirm"),
            path("import/<int:record_id>/status/", view(self.import_status_view), name=f"{prefix}_import_status"),
            path("import/<int:record_id>/rejects/", view(self.import_rejects_view), name=f"{prefix}_import_rejects"),
        ] + super().get_urls()

    def _url(self, name: str, *args) -> str:
        app_label, model_name = self.get_model_info()
        return reverse(f"admin:{app_label}_{model_name}_{name}", args=args, current_app=self.admin_site.name)

    def _record(self, request, record_id: int) -> ImportRecord:
        if not self.has_import_permission(request):
            raise PermissionDenied
        return get_object_or_404(ImportRecord, pk=record_id, kind=self.import_kind)

    def _context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "kind": self.import_kind,
            "columns_help": COLUMNS_HELP[self.import_kind],
            "threshold": ASYNC_ROW_THRESHOLD,
            **extra,
        }

    # -- upload → preview ------------------------------------------------------------
    def import_action(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            record = import_record_create(
                kind=self.import_kind, file_name=upload.name, data=data, actor=request.user,
                encoding=form.cleaned_data["encoding"], skip_bad_rows=form.cleaned_data["skip_bad_rows"],
            )
            if record.total_rows > ASYNC_ROW_THRESHOLD:
                from django_q.tasks import async_task

                async_task("apps.accounts.imports.tasks.import_record_preview_task", record.pk,
                           task_name=f"import-preview-{record.pk}")
            else:
                import_record_preview(record=record)
            return HttpResponseRedirect(self._url("import_record", record.pk))
        context = self._context(request, title=f"Import {self.opts.verbose_name_plural}", form=form,
                                recent=ImportRecord.objects.filter(kind=self.import_kind)
                                .select_related("created_by")[:10])
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.import_upload_template, context)

    def import_record_view(self, request, record_id: int):
        record = self._record(request, record_id)
        context = self._context(
            request, title=f"{record.get_kind_display()} import: {record.file_name}", record=record,
            status_url=self._url("import_status", record.pk),
            confirm_url=self._url("import_confirm", record.pk),
            rejects_url=self._url("import_rejects", record.pk) if record.rejects_file else "",
            upload_url=self._url("import"),
            changelist_url=self._url("changelist"),
            more_errors=max(record.error_count - len(record.errors), 0),
            good_rows=record.total_rows - record.rejected_count,
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.import_record_template, context)

    @staticmethod
    def import_status_payload(record: ImportRecord) -> dict:
        return {
            "status": record.status, "status_display": record.get_status_display(), "stage": record.stage,
            "processed": record.processed_rows, "total": record.total_rows, "percent": record.percent,
            "finished": record.is_finished or record.status == ImportRecord.Status.PREVIEWED,
        }

    def import_status_view(self, request, record_id: int):
        return JsonResponse(self.import_status_payload(self._record(request, record_id)))

    def import_confirm_view(self, request, record_id: int):
        return require_POST(self._confirm)(request, record_id)

    def _confirm(self, request, record_id: int):
        record = self._record(request, record_id)
        url = self._url("import_record", record.pk)
        if record.status != ImportRecord.Status.PREVIEWED:
            messages.warning(request, "This import has already been started.")
            return HttpResponseRedirect(url)
        if request.POST.get("skip_bad_rows"):
            record.skip_bad_rows = True
        if record.error_count and not record.skip_bad_rows:
            messages.error(request, "The file has bad rows: fix them and upload it again, or import the good rows only.")
            return HttpResponseRedirect(url)
        import_record_transition(record=record, to_status=ImportRecord.Status.QUEUED,
                                 created_by=record.created_by or request.user)
        if record.total_rows > ASYNC_ROW_THRESHOLD:
            from django_q.tasks import async_task

            async_task("apps.accounts.imports.tasks.import_record_task", record.pk, task_name=f"import-{record.pk}")
        else:
            try:
                import_record_run(record_id=record.pk)
            except Exception:
                messages.error(request, "The import failed; nothing was written. The error is in the server log.")
        return HttpResponseRedirect(url)

    def import_rejects_view(self, request, record_id: int):
        record = self._record(request, record_id)
        if not record.rejects_file:
            raise Http404("This import rejected no rows.")
        name = f"rejects-{record.file_name.rsplit('/', 1)[-1]}"
        return FileResponse(record.rejects_file.open("rb"), as_attachment=True, filename=name,
                            content_type="text/csv")

    # -- export: the filtered changelist, streamed, in the import's columns --------------
    def _do_file_export(self, file_format, request, queryset, export_form=None):
        if not self.has_export_permission(request):
            raise PermissionDenied
        _model, rows = EXPORTERS[self.import_kind]

        class Echo:
            def write(self, value):
                return value

        # csv.writer returns what the stream's write returned: here, the formatted line.
        writer = csv_writer(Echo(), lineterminator="\n")
        stream = (writer.writerow(row) for row in rows(queryset))
        response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="{self.import_kind}-{stamp}.csv"'
        return response


class AccountImportExportMixin(CsvImportExportMixin):
    import_kind = "accounts"
    resource_classes = [AccountResource]


class ContactImportExportMixin(CsvImportExportMixin):
    import_kind = "contacts"
    resource_classes = [ContactResource]


class RepImportExportMixin(CsvImportExportMixin):
    import_kind = "reps"
    resource_classes = [RepResource]


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin):
    """Every import, for ops: who, when, which file, what it did, and its rejects."""

    list_display = ["created_at", "kind", "file_name", "created_by", "source", "status", "new_count",
                    "updated_count", "unchanged_count", "rejected_count", "details"]
    list_filter = ["kind", "status", "source"]
    list_select_related = ["created_by"]
    search_fields = ["file_name", "created_by__username"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ImportRecord._meta.fields] + ["details"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if user_sees_everything(request.user) else qs.none()

    @admin.display(description="details")
    def details(self, obj):
        if obj.source != "admin":
            return "command line"
        url = reverse(f"admin:{ADMIN_URL_NAME[obj.kind]}_import_record", args=[obj.pk])
        return format_html('<a href="{}">open</a>', url)
