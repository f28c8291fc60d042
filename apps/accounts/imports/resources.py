"""django-import-export resources whose import and export are the set-based fast path.

The admin keeps import-export's screens and buttons; underneath, `import_data` runs
`apps.accounts.imports.services.import_run` (COPY into staging, SQL upsert) instead of
import-export's per-row saves, and `export` writes the import's columns with every cell
neutralised (`apps.accounts.csv_safety`). Row errors carry the file's line numbers.
"""

from __future__ import annotations

import tablib
from import_export import resources
from import_export.results import Error, Result, RowResult

from apps.accounts.csv_safety import neutralise_row
from apps.accounts.imports.exports import EXPORTERS
from apps.accounts.imports.services import import_run
from apps.accounts.models import Account
from apps.people.models import Contact, Rep


class FastPathResource(resources.ModelResource):
    kind = ""

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        model, rows = EXPORTERS[self.kind]
        rows = rows(queryset if queryset is not None else model.objects.all())
        dataset = tablib.Dataset(headers=next(rows))
        for row in rows:
            dataset.append(neutralise_row(row))
        return dataset

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None,
                    collect_failed_rows=False, rollback_on_validation_errors=False, **kwargs) -> Result:

        outcome = import_run(
            kind=self.kind, data=dataset.export("csv").encode("utf-8"), actor=kwargs.get("user"),
            dry_run=dry_run, skip_bad_rows=kwargs.get("skip_bad_rows", False),
        )
        result = Result()
        result.diff_headers = list(dataset.headers or [])
        result.totals.update({
            RowResult.IMPORT_TYPE_NEW: outcome.new, RowResult.IMPORT_TYPE_UPDATE: outcome.updated,
            RowResult.IMPORT_TYPE_SKIP: outcome.unchanged, RowResult.IMPORT_TYPE_ERROR: outcome.rejected,
        })
        for message in outcome.file_errors:
            result.append_base_error(Error(message))
        for error in outcome.errors:
            result.append_error_row(error.line, {}, [Error(str(error))])
        if raise_errors and (outcome.refused or outcome.errors):
            raise ValueError(outcome.summary())
        return result


class AccountResource(FastPathResource):
    kind = "accounts"

    class Meta:
        model = Account
        fields = ["name", "website", "domain", "industry", "employees", "annual_revenue", "country", "segment", "status"]


class ContactResource(FastPathResource):
    kind = "contacts"

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "title", "persona", "buying_role", "source"]


class RepResource(FastPathResource):
    kind = "reps"

    class Meta:
        model = Rep
        fields = ["owner_name", "role", "team", "manager", "capacity", "ramp_start"]
