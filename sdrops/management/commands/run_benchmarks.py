"""`make bench`: run every app's benchmarks and write their figures to docs/benchmarks.md.

Each app may have a `benchmarks.py` with `BENCHMARKS = [fn, ...]`; each fn takes
`(*, stdout, options)` and returns a Markdown section (heading included). Sections are
replaced in place between markers, so running one benchmark keeps the others' figures.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import re
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def machine_line() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()} · {os.cpu_count()} cores ({cpu}) · {mem_gib:.0f} GiB · Python {platform.python_version()} · {platform.system()} {platform.release()}"


class Command(BaseCommand):
    help = "Run the benchmarks (all, or those whose name contains --only) and update docs/benchmarks.md."

    def add_arguments(self, parser):
        parser.add_argument("--only", default="", help="Run only benchmarks whose name contains this text.")
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "docs" / "benchmarks.md"))

    def handle(self, *args, **options):
        call_command("migrate", verbosity=0)
        path = Path(options["output"])
        text = path.read_text() if path.exists() else "# Benchmarks\n\nWritten by `make bench`; each section says when and where it was measured.\n"
        for app_config in apps.get_app_configs():
            if not app_config.name.startswith("apps."):
                continue
            try:
                module = importlib.import_module(f"{app_config.name}.benchmarks")
            except ModuleNotFoundError as error:
                if error.name == f"{app_config.name}.benchmarks":
                    continue
                raise
            for bench in getattr(module, "BENCHMARKS", []):
                name = f"{app_config.label}.{bench.__name__}"
                if options["only"] and options["only"] not in name:
                    continue
                self.stdout.write(f"== {name}")
                section = bench(stdout=self.stdout, options=options).strip()
                stamp = f"_Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine_line()}._"
                block = f"<!-- bench:{name} -->\n{section}\n\n{stamp}\n<!-- /bench:{name} -->"
                pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
                text = pattern.sub(lambda _m, block=block: block, text) if pattern.search(text) else f"{text.rstrip()}\n\n{block}\n"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                self.stdout.write(section)
        self.stdout.write(f"Figures written to {path}")
