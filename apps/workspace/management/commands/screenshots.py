"""`make screenshots`: the demo organisation as each role sees it, written to
docs/screenshots/*.png for the README. Runs the real app on 127.0.0.1 in this process and
drives Debian's Chromium with Playwright, like the browser tests. The Makefile points it at
its own database (sdrops_screenshots) and reloads the demo there first, so the pictures are
reproducible and the working demo data is left alone."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Account
from apps.people.models import Rep

CHROMIUM = "/usr/bin/chromium"
SHOTS = [
    # (file, login, path or None for the home)
    ("home-sdr.png", "sdr1", None),
    ("home-ae.png", "ae1", None),
    ("home-manager.png", "manager.east", None),
    ("home-ops.png", "ops", None),
    ("account-page.png", "sdr1", "account"),
]


class Command(BaseCommand):
    help = "Write docs/screenshots/*.png: each role's home and an account page, from the demo data."

    def add_arguments(self, parser):
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs" / "screenshots"))
        parser.add_argument("--width", type=int, default=1360)

    def handle(self, *args, **options):
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
        from django.core.wsgi import get_wsgi_application
        from playwright.sync_api import sync_playwright

        if not os.path.exists(CHROMIUM):
            raise CommandError(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium.")
        sdr = Rep.objects.filter(user__username="sdr1").first()
        if sdr is None:
            raise CommandError("No demo organisation here: run `manage.py seed_demo` first.")
        account = Account.objects.filter(owner=sdr).order_by("-total_score", "pk").first()

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
        server.set_app(StaticFilesHandler(get_wsgi_application()))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                for name, username, target in SHOTS:
                    context = browser.new_context(base_url=base, viewport={"width": options["width"], "height": 900})
                    page = context.new_page()
                    page.goto("/admin/login/?next=/admin/")
                    page.fill("#id_username", username)
                    page.fill("#id_password", settings.DEMO_PASSWORD)
                    page.click("input[type=submit]")
                    page.wait_for_selector("#site-name")
                    if target == "account":
                        page.goto(f"/admin/accounts/account/{account.pk}/record/")
                    page.screenshot(path=str(out / name), full_page=True)
                    self.stdout.write(f"{out / name}")
                    context.close()
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
