"""Merge fields of cadence email templates: a fixed list substituted as plain text.

Ops-edited templates are not Django templates on purpose: a template can name only these
fields, never reach other data through attribute lookups or tags."""

from __future__ import annotations

import re

FIELD_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
MERGE_FIELDS = {
    "first_name": "the contact's first name",
    "last_name": "the contact's last name",
    "title": "the contact's title",
    "account": "the account's name",
    "rep_name": "the rep's name",
    "rep_email": "the rep's email address",
    "signature": "the rep's signature",
}


def template_problems(text: str) -> list[str]:
    """What is wrong with a template text (unknown merge fields, stray braces)."""
    problems = []
    unknown = sorted({name for name in FIELD_RE.findall(text) if name not in MERGE_FIELDS})
    if unknown:
        problems.append(
            f"Unknown merge field(s): {', '.join(unknown)}. Available: "
            + ", ".join(f"{{{{ {name} }}}}" for name in MERGE_FIELDS) + "."
        )
    if "{{" in FIELD_RE.sub("", text) or "}}" in FIELD_RE.sub("", text):
        problems.append("A merge field is not closed; write it as {{ first_name }}.")
    return problems


def render_merge(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """(text with fields filled, names of fields that had no value)."""
    missing: list[str] = []

    def fill(match):
        name = match.group(1)
        value = values.get(name, "")
        if not value:
            missing.append(name)
        return value

    return FIELD_RE.sub(fill, text), missing
