# Two commands do all the set-up on a fresh machine with only Python 3.11: `make run`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Some shells set PYTHONDONTWRITEBYTECODE=1: then every run recompiles the project and
# pytest re-rewrites the asserts of ~500 modules (test files and plugin packages), which
# doubles the start of a test run. Let Python keep its bytecode caches.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run serve test test-quick test-system redis-server install lint bench chromium migrate seed screenshots

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Browser tests drive Debian's Chromium; never a browser download.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "Installing Debian's redis-server for the system tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

run: install
	$(PY) manage.py run_portal

# Production-style: gunicorn + whitenoise + django-q2 clusters, configured by the environment
# (DJANGO_SETTINGS_MODULE=sdrops.settings.production, SECRET_KEY, DATABASE_URL, REDIS_URL, …).
serve: install
	$(PY) manage.py run_portal --production

lint: install
	$(VENV)/bin/ruff check .

# Two workers (pytest-xdist), one per core of the 2-core CI machine, each with its own test
# database (test_sdrops_gw0, _gw1); whole files go to one worker, so module-scoped fixtures (the
# demo organisation, the OIDC provider) are built once. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2

test: install chromium lint
	$(PY) manage.py makemigrations --check --dry-run >/dev/null || { echo "Model changes without migrations"; exit 1; }
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The inner loop: no browser tests, stop at the first failure, last run's failures first.
test-quick: install lint
	$(VENV)/bin/pytest -m "not system and not browser" -x --ff -q $(PYTEST_ARGS)

# Benchmarks run in their own database (sdrops_bench) so the demo data stays as it is.
# Multi-process tests: real Redis, several django-q2 clusters, killed workers. Slower; CI runs them too.
test-system: install redis-server
	$(VENV)/bin/pytest -m system $(PYTEST_ARGS)

bench: install
	SDROPS_DATABASE_NAME=sdrops_bench $(PY) manage.py run_benchmarks $(BENCH_ARGS)

migrate: install
	$(PY) manage.py migrate

seed: install
	$(PY) manage.py seed_demo

# README pictures: each role's home and an account page, from a freshly loaded demo in its own
# database (sdrops_screenshots), through Debian's Chromium.
# The database is dropped first so the demo (ICPs included) is exactly what a first start loads.
screenshots: install chromium
	$(PY) -c "from sdrops.embedded_db import server; server().psql('DROP DATABASE IF EXISTS sdrops_screenshots;')"
	SDROPS_DATABASE_NAME=sdrops_screenshots $(PY) manage.py migrate -v0
	SDROPS_DATABASE_NAME=sdrops_screenshots $(PY) manage.py seed_demo
	SDROPS_DATABASE_NAME=sdrops_screenshots $(PY) manage.py screenshots
