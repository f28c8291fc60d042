"""The "one X" rules of docs/architecture.md, checked against the source so they stay true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _production_modules():
    for path in sorted((ROOT / "apps").rglob("*.py")) + sorted((ROOT / "sdrops").rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "tests" in parts or "migrations" in parts or path.name.startswith("test_"):
            continue
        yield path


def test_every_mail_goes_through_the_one_email_module():
    sending = re.compile(r"\b(send_mail|send_mass_mail|EmailMessage|EmailMultiAlternatives)\b")
    offenders = [
        str(path.relative_to(ROOT)) for path in _production_modules()
        if path != ROOT / "sdrops" / "mail.py" and sending.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
