"""Deployment settings: production values from the environment pass Django's deploy checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_clean_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sdrops.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "sdrops.example.com",
        "DATABASE_URL": "postgres://sdrops:secret@127.0.0.1:1/sdrops",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests in this process only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_development_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sdrops.settings.production", "DATABASE_URL": "postgres://x@127.0.0.1:1/x"}
    env.pop("SECRET_KEY", None)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "Set SECRET_KEY" in result.stderr


def test_tests_run_on_postgresql_and_tasks_in_process():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.Q_CLUSTER["sync"] is True
    assert settings.Q_CLUSTER["timeout"] < settings.Q_CLUSTER["retry"]
    assert settings.Q_CLUSTER["catch_up"] is False and settings.Q_CLUSTER["max_attempts"] == 3


@pytest.mark.parametrize("key, says", [
    ("short", "5 characters long; at least 50"),
    ("x" * 60, "only 1 different characters"),
    ("django-insecure-" + "k3y" * 20, "development default"),
    ("", "not set"),
])
def test_production_refuses_to_start_with_a_short_or_default_secret_key(key, says):
    # Not only Django's security.W009 warning: the settings refuse to load, naming the problem.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sdrops.settings.production",
           "DATABASE_URL": "postgres://x@127.0.0.1:1/x", "SECRET_KEY": key}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert says in result.stderr and "Set SECRET_KEY to a long random value" in result.stderr
