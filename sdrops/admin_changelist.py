"""Changelist rows without the per-cell overhead of Django's `result_list` tag.

Django's `items_for_result` works out, for every cell of every row, what the column is
(`lookup_field` raising FieldDoesNotExist for each method column, `dict(field.flatchoices)`
for each choice cell, a `reverse()` and a query-string merge for each row's link). On a
100-row, 11-column account list that was most of the page's Python time. `quick_results`
makes the same markup with those decisions taken once per column; only the value and its
formatting are per row.

Use it with `QuickChangelistMixin` on a ModelAdmin (its template replaces only the
`result_list` block of the admin's change list). Changelists with `list_editable` (a
formset) or opened as a popup keep Django's own rows.
"""

from __future__ import annotations

import datetime
import html

from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _coerce_field_name,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
    quote,
)
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils import dateformat, formats, timezone
from django.utils.encoding import iri_to_uri
from django.utils.html import conditional_escape
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

# Stands in for the primary key in a row link worked out once per page.
_PK_SENTINEL = "8317093461551329"


class QuickChangeList(ChangeList):
    """Django's ChangeList whose query strings are joined from per-parameter pieces kept for the
    page: a list's filter sidebar, sort headers and page links ask for one query string per link
    (about 190 on the account list, one per rep in the owner filter), and each went through
    `urlencode` for every parameter again."""

    def get_query_string(self, new_params=None, remove=None):
        params = self.filter_params.copy()
        for prefix in remove or ():
            for key in list(params):
                if key.startswith(prefix):
                    del params[key]
        for key, value in (new_params or {}).items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        return "?" + "&".join(piece for piece in map(self._encoded, sorted(params.items())) if piece)

    def get_results(self, request):
        """Django's results; the page's rows then load only the admin's `list_only` columns."""
        super().get_results(request)
        only = self._only_fields()
        if only and isinstance(self.result_list, models.QuerySet):
            self.result_list = self.result_list.only(*only)

    def _only_fields(self) -> tuple[str, ...]:
        """`list_only` of the admin (QuickChangelistMixin), or () where it cannot hold: a list
        with editable columns (its forms save the instances) or a column that is a model field
        the admin did not name (added by `get_list_display`) — then every column is loaded."""
        only = tuple(getattr(self.model_admin, "list_only", ()) or ())
        if not only or self.list_editable:
            return ()
        named = {name.split("__", 1)[0] for name in only}
        for field_name in self.list_display:
            if field_name == "action_checkbox" or not isinstance(field_name, str):
                continue
            try:
                field = self.lookup_opts.get_field(field_name)
            except FieldDoesNotExist:
                continue
            if field.concrete and field.name not in named:
                return ()
        return only

    def _encoded(self, pair) -> str:
        key, value = pair
        try:
            memo_key = (key, type(value), value if isinstance(value, (str, int)) else tuple(value))
            pieces = self.__dict__.setdefault("_query_pieces", {})
            return pieces[memo_key]
        except KeyError:
            pieces[memo_key] = piece = urlencode([pair], doseq=True)
            return piece
        except TypeError:  # unhashable or not iterable: encode as Django does, unkept
            return urlencode([pair], doseq=True)


class QuickChangelistMixin:
    """A ModelAdmin whose changelist rows come from `quick_results` (see the module).

    `list_only`: the columns the list's rows read (their own and, as `owner__owner_name`, the
    `list_select_related` objects' that their `__str__` and display methods use). The page's
    rows load only those (`QuerySet.only`): building 100 rows with every column of an account,
    its owner and its ICP (datetimes, arrays, JSON) cost twice the rows' own work. A display
    method that reads a column left out would load it row by row — one query each — which
    the query-count tests of the lists catch; leave `list_only` empty to load everything."""

    change_list_template = "admin/quick_change_list.html"
    list_only: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return QuickChangeList

    def action_checkbox(self, obj):
        """Django's row checkbox (ModelAdmin.action_checkbox renders a CheckboxInput through
        the form renderer: a template render per row, ~17 µs × 100 rows) as the same markup."""
        return _checkbox(gettext("Select this object for an action - {}"))(obj)


_OWN_CHECKBOX = QuickChangelistMixin.action_checkbox


def _checkbox(label_text: str):
    """obj → the row checkbox's markup, with the label's translation looked up once (a page
    asked gettext for it on every row)."""
    before, _, after = conditional_escape(label_text).partition("{}")
    name = conditional_escape(helpers.ACTION_CHECKBOX_NAME)

    def checkbox(obj) -> str:
        label = f"{before}{cell_escape(str(obj))}{after}"
        return mark_safe(f'<input type="checkbox" name="{name}" value="{cell_escape(str(obj.pk))}" '  # noqa: S308 - escaped above
                         f'class="action-select" aria-label="{label}">')

    return checkbox


def cell_escape(value) -> str:
    """`conditional_escape(value)` as a plain str: the same markup without `escape`'s lazy-argument
    check, which two calls per cell (value and link) made a tenth of a 100-row list's Python time."""
    if isinstance(value, SafeString):
        return value
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def filter_choices(choices) -> SafeString:
    """The `<li>` lines Django's admin/filter.html writes for a list filter's choices, in one pass
    (its template loop resolved four variables and ran `iriencode` per choice: an owner filter
    has one choice per rep, and the sidebar was a fifth of the account list's time)."""
    parts = []
    for choice in choices:
        selected = ' class="selected"' if choice.get("selected") else ""
        href = html.escape(iri_to_uri(str(choice.get("query_string", ""))))
        parts.append(f'\n    <li{selected}>\n    <a href="{href}">{cell_escape(choice.get("display", ""))}</a></li>\n  ')
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped above


def _link_in_col(cl, is_first: bool, field_name) -> bool:
    if cl.list_display_links is None:
        return False
    if is_first and not cl.list_display_links:
        return True
    return field_name in cl.list_display_links


def _value_getter(cl, field_name):
    """(field, attr, get(obj) → value) for a column, as `lookup_field` resolves it."""
    model_admin = cl.model_admin
    if isinstance(field_name, str):
        try:
            field = _get_non_gfk_field(cl.lookup_opts, field_name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            field = None
        else:
            return field, None, lambda obj: getattr(obj, field_name)
        if hasattr(model_admin, field_name) and field_name != "__str__":
            method = getattr(model_admin, field_name)
            attr = getattr(cl.model, field_name) if hasattr(cl.model, field_name) else method
            return None, attr, method
    # Callables, model attributes and properties, related lookups: Django's resolution per row.
    return None, None, None


def _column(cl, index: int, field_name, is_first: bool):
    """A function obj → the cell's markup, and whether this column carried the row's link."""
    model_admin = cl.model_admin
    base_empty = model_admin.get_empty_value_display()
    field, attr, get = _value_getter(cl, field_name)
    if field_name == "action_checkbox" and getattr(type(model_admin), "action_checkbox", None) is _OWN_CHECKBOX:
        get = _checkbox(gettext("Select this object for an action - {}"))
    link = _link_in_col(cl, is_first, field_name)
    name_class = f"field-{_coerce_field_name(field_name, index)}"
    tag = "th" if link and is_first else "td"
    url_parts = None
    if link:
        try:
            url = add_preserved_filters(
                {"preserved_filters": cl.preserved_filters, "opts": cl.opts},
                cl.url_for_result(_Sentinel(cl)),
            )
        except NoReverseMatch:
            url_parts = None
        else:
            url_parts = url.split(_PK_SENTINEL, 1) if _PK_SENTINEL in url else None
            if url_parts is None:
                return None, link  # an unusual URL: Django's rows
    choices = None
    if field is not None and not field.auto_created and getattr(field, "flatchoices", None):
        try:
            choices = dict(field.flatchoices)
        except TypeError:
            return None, link
    related = field is not None and not field.auto_created and isinstance(field.remote_field, models.ManyToOneRel)
    show = _field_display(field, link) if field is not None and not field.auto_created and choices is None else None
    field_nowrap = field is not None and not field.auto_created and isinstance(
        field, (models.DateField, models.TimeField, models.ForeignKey)
    )

    def render(obj):
        row_classes = [name_class]
        try:
            if get is None:
                f, col_attr, value = lookup_field(field_name, obj, model_admin)
            else:
                f, col_attr, value = field, attr, get(obj)
        except ObjectDoesNotExist:
            result_repr = base_empty
        else:
            empty = getattr(col_attr, "empty_value_display", base_empty)
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if f is None or f.auto_created:
                if field_name == "action_checkbox":
                    row_classes = ["action-checkbox"]
                boolean = getattr(col_attr, "boolean", False)
                if isinstance(col_attr, property) and hasattr(col_attr, "fget"):
                    boolean = getattr(col_attr.fget, "boolean", False)
                result_repr = display_for_value(value, empty, boolean)
                if isinstance(value, (datetime.date, datetime.time)):
                    row_classes.append("nowrap")
            else:
                if related:
                    field_val = getattr(obj, f.name)
                    result_repr = empty if field_val is None else field_val
                elif choices is not None:
                    result_repr = choices.get(value, empty)
                elif show is not None:
                    result_repr = show(value, empty)
                else:
                    result_repr = display_for_field(value, f, empty, avoid_link=link)
                if field_nowrap:
                    row_classes.append("nowrap")
        text = cell_escape(result_repr)
        if url_parts is not None:
            href = cell_escape(url_parts[0] + _quote_pk(cl, obj) + url_parts[1])
            text = f'<a href="{href}">{text}</a>'
        return f'<{tag} class="{" ".join(row_classes)}">{text}</{tag}>'

    return render, link


def _field_display(field, avoid_link: bool):
    """value, empty → what `display_for_field(value, field, empty, avoid_link)` returns, for the
    common kinds of column, with its per-call look-ups taken once per column and page (the
    format string of the request's language; a number's formatting kept per value); None for
    any other kind, which Django formats cell by cell."""
    if isinstance(field, (models.BooleanField, models.URLField, models.FileField, models.JSONField)):
        return None
    empty_values = field.empty_values
    if isinstance(field, models.DateTimeField):
        pattern = formats.get_format("DATETIME_FORMAT")
        quick = _strftime_pattern(pattern)

        def show_datetime(value, empty):
            if value in empty_values:
                return empty
            local = timezone.template_localtime(value)
            if quick is not None and isinstance(local, datetime.datetime):
                zone = local.tzname() if quick[1] else ""
                if zone is not None:
                    return local.strftime(quick[0]).replace("{zone}", zone)
            return dateformat.format(local, pattern)

        return show_datetime
    if isinstance(field, models.DateField):  # a date (DateTimeField, its subclass, is handled above)
        pattern = formats.get_format("DATE_FORMAT")
        quick = _strftime_pattern(pattern)

        def show_date(value, empty):
            if value in empty_values:
                return empty
            if quick is not None and not quick[1] and type(value) is datetime.date:
                return value.strftime(quick[0])
            return display_for_field(value, field, empty, avoid_link=avoid_link)

        return show_date
    if isinstance(field, models.DecimalField):
        return _per_value(lambda value: formats.number_format(value, field.decimal_places), empty_values)
    if isinstance(field, (models.IntegerField, models.FloatField)):
        return _per_value(formats.number_format, empty_values)
    if isinstance(field, (models.CharField, models.TextField)):

        def show_text(value, empty):
            if value in empty_values:
                return empty
            if type(value) is str:
                return value
            return display_for_field(value, field, empty, avoid_link=avoid_link)

        return show_text
    return None


# Django's date-format letters that strftime writes alike (zero-padded numbers; `T` is the
# zone's abbreviation, filled in afterwards). Any other letter, or an escape, keeps Django's formatter.
_STRFTIME = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "i": "%M", "s": "%S", "T": "{zone}"}


def _strftime_pattern(pattern: str) -> tuple[str, bool] | None:
    """Django's `DATETIME_FORMAT` as a strftime pattern and whether it names the zone, or None.
    dateformat.format interprets the pattern letter by letter on every call: a tenth of the
    account list's time outside the database went to its 100 timestamps."""
    out = []
    for char in pattern:
        if char in _STRFTIME:
            out.append(_STRFTIME[char])
        elif char.isalpha() or char in "\\%":
            return None
        else:
            out.append(char)
    return "".join(out), "T" in pattern


def _per_value(format_one, empty_values):
    """A number column's formatting, kept per distinct value for the page (number_format looks
    up the locale's separators on every call)."""
    seen: dict = {}

    def show(value, empty):
        if value in empty_values:
            return empty
        try:
            return seen[value]
        except KeyError:
            text = seen[value] = format_one(value)
            return text
        except TypeError:  # unhashable
            return format_one(value)

    return show


class _Sentinel:
    """An object whose primary key is the sentinel, for working out the row link once."""

    def __init__(self, cl):
        setattr(self, cl.pk_attname, _PK_SENTINEL)


def _quote_pk(cl, obj) -> str:
    return str(quote(getattr(obj, cl.pk_attname)))


def quick_results(cl) -> list[ResultList]:
    """The rows `results(cl)` yields, each one cell of the same joined markup."""
    if cl.formset or cl.is_popup:
        return list(results(cl))
    renderers = []
    first = True
    for index, field_name in enumerate(cl.list_display):
        render, link = _column(cl, index, field_name, first)
        if render is None:
            return list(results(cl))
        if link:
            first = False
        renderers.append(render)
    return [ResultList(None, [mark_safe("".join([render(obj) for render in renderers]))]) for obj in cl.result_list]


def quick_result_list(cl) -> dict:
    """The context Django's `result_list` tag gives change_list_results.html, and `rows`: the
    body rows as that template's loop writes them, in one pass (its loop resolved three
    variables and an `if` per row), or None where a row carries a form (Django's loop)."""
    headers = list(result_headers(cl))
    rows = quick_results(cl)
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": rows,
        "rows": None if any(row.form for row in rows) else rows_html(rows),
    }


def rows_html(rows) -> SafeString:
    """What change_list_results.html's `{% for result in results %}` loop writes for rows without a form."""
    return mark_safe("".join([f"\n\n<tr>{''.join([cell_escape(item) for item in row])}</tr>\n" for row in rows]))  # noqa: S308 - every cell escaped
