"""`make run`: migrate, load the demo once, start the django-q2 cluster and the web server.

Ctrl-C stops both children; the embedded PostgreSQL stops with the last process that
uses it (this one). django-q2's cluster can hang on SIGTERM (an open upstream issue), so
it gets a grace period and then SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from sdrops.management.commands.seed_demo import USERS_DOC

GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Run the whole portal for development: database, migrations, demo data, background jobs, web server."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument(
            "--production", action="store_true",
            help="gunicorn (WEB_CONCURRENCY workers) + whitenoise + Q_CLUSTERS django-q2 clusters; no demo data.",
        )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        self.stdout.write("Database migrated.")
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        address = f"{options['host']}:{options['port']}"
        if options["production"]:
            call_command("collectstatic", interactive=False, verbosity=0)
            clusters = int(os.environ.get("Q_CLUSTERS", "1"))
            children = [subprocess.Popen([sys.executable, manage, "qcluster"]) for _ in range(clusters)]
            children.append(subprocess.Popen([
                sys.executable, "-m", "gunicorn", "sdrops.wsgi:application", "--bind", address,
                "--workers", os.environ.get("WEB_CONCURRENCY", "4"), "--timeout", "60",
                "--access-logfile", "-", "--graceful-timeout", "20",
            ]))
        else:
            # Mail goes to files under var/mail/ with one console line each (sdrops/mail_files.py),
            # for this process (the demo load) and the children, unless mail is configured.
            if not os.environ.get("EMAIL_HOST") and not os.environ.get("EMAIL_BACKEND"):
                os.environ["EMAIL_BACKEND"] = "sdrops.mail_files.OneLinePerMailBackend"
                settings.EMAIL_BACKEND = os.environ["EMAIL_BACKEND"]
            if not get_user_model().objects.exists():
                self.stdout.write("First run: loading the demo organisation…")
                call_command("seed_demo", stdout=self.stdout)
            # Links in the mail printed here (SLA alerts, the morning email) open this server,
            # on whatever port it was given, unless a public address is configured.
            os.environ.setdefault("PORTAL_BASE_URL", f"http://{address}")
            children = [
                subprocess.Popen([sys.executable, manage, "qcluster"]),
                subprocess.Popen([sys.executable, manage, "runserver", address, "--noreload"]),
            ]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        url = f"http://{address}/admin/"
        if self._wait_until_up(url, children, lambda: stopping):
            if options["production"]:
                self.stdout.write(self.style.SUCCESS(f"sdrops is serving on {url} (health: /healthz)"))
            else:
                self._banner(url)
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
        self.stdout.write("Stopping the web server, the background jobs and the database…")
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.stdout.write("Stopped.")

    def _wait_until_up(self, url, children, stopping) -> bool:
        for _ in range(120):
            if stopping() or any(child.poll() is not None for child in children):
                return False
            try:
                urllib.request.urlopen(url.replace("/admin/", "/admin/login/"), timeout=1)
                return True
            except OSError:
                time.sleep(0.25)
        return False

    def _banner(self, url):
        lines = [
            "",
            f"sdrops is running: {url}",
            f"Demo logins (password “{settings.DEMO_PASSWORD}”):",
            *[f"  {username:<14} {what}" for username, what in USERS_DOC],
            "Background jobs: django-q2 cluster running (admin → Background jobs).",
            (f"Mail: one line here per message, the messages in {settings.EMAIL_FILE_PATH}/"
             if settings.EMAIL_BACKEND == "sdrops.mail_files.OneLinePerMailBackend"
             else f"Mail: {settings.EMAIL_BACKEND}") + "; Ctrl-C stops everything.",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

