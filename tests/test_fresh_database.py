"""A database set up with a plain `migrate` — nothing else — answers the API.

The test database pytest-django builds is no proof: Django's test set-up runs
`createcachetable` itself. So this migrates a brand-new database in a subprocess, as
`make migrate` or a deploy script would, and sends an API request to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
# Migrates a brand-new database in a subprocess (30 s): run by `make test-system`.
pytestmark = pytest.mark.system

REQUEST = """
from django.contrib.auth import get_user_model
from django.test import Client
from apps.integrations.services import integration_create
user = get_user_model().objects.create(username="fresh-crm", is_superuser=True)
integration, token = integration_create(name="fresh", user=user, scopes=["read"])
client = Client(raise_request_exception=False, HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
for url in ("/api/accounts/", "/api/reps/"):
    response = client.get(url)
    print(url, response.status_code, response.content[:300])
"""


def _database_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from sdrops.embedded_db import database_url

    return database_url()


def _with_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def fresh_database_url():
    base = _database_url()
    name = f"sdrops_fresh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_with_name(base, "postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_name(base, name)
    finally:
        with psycopg.connect(_with_name(base, "postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_freshly_migrated_database_answers_the_api_without_createcachetable(fresh_database_url):
    env = {**os.environ, "DATABASE_URL": fresh_database_url, "DJANGO_SETTINGS_MODULE": "sdrops.settings.test"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", REQUEST], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.strip().splitlines() if line.startswith("/api/")]
    assert len(lines) == 2, result.stdout + result.stderr
    for line in lines:
        url, status, _body = line.split(" ", 2)
        assert status == "200", (url, line, result.stderr[-2000:])
