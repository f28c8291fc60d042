"""The demo's mail: every message is written to its own .eml file under EMAIL_FILE_PATH
(var/mail/ by default) and announced with one line on the console, so `make run` keeps the
URL and the logins readable instead of burying them under message bodies. `make run` uses it
unless EMAIL_HOST or EMAIL_BACKEND is set. Open a file with any mail reader, or `cat` it."""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class OneLinePerMailBackend(BaseEmailBackend):
    _lock = threading.Lock()

    def send_messages(self, email_messages) -> int:
        folder = Path(getattr(settings, "EMAIL_FILE_PATH", "") or Path(settings.BASE_DIR) / "var" / "mail")
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            path.write_bytes(message.message().as_bytes(linesep="\n"))
            with self._lock:
                sys.stdout.write(f"mail → {', '.join(message.to)}: {message.subject}  ({path})\n")
                sys.stdout.flush()
            sent += 1
        return sent
