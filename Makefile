# Outcry: `make run` sets everything up and starts the server; `make test` runs the suite.
# Everything installs into .venv (created with python3.11 when missing).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
DATA ?= ../shared/datasets/scream-dev/

# The production-like test configuration: the real PostgreSQL and Redis on this machine.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/outcry
TEST_REDIS_URL ?= redis://127.0.0.1:6379/5
TEST_SECRET_KEY ?= outcry-ci-only-secret-key-9f3a7c1e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a9c7e5b3d
SERVICES_ENV := DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	DJANGO_SECRET_KEY=$(TEST_SECRET_KEY) SECURE_SSL_REDIRECT=false PGPASSWORD=$${PGPASSWORD:-postgres}
# The embedded configuration: none of the production variables, whatever the caller's shell has.
EMBEDDED_ENV := env -u DATABASE_URL -u REDIS_URL -u CACHE_URL -u CELERY_BROKER_URL -u OUTCRY_MODE -u OUTCRY_TASK_RUNNER \
	-u S3_BUCKET -u EMAIL_HOST

APPS := outcry sites detection alerts frontend

.PHONY: help run install install-train test test-embedded test-services browser-deps services lint bench train

help:
	@echo "make run            set up .venv, migrate, seed demo data, serve on http://$(HOST):$(PORT)/ (embedded mode)"
	@echo "make test           the whole suite: embedded, then production-like on PostgreSQL + Redis"
	@echo "make test-embedded  the suite with nothing configured (SQLite, in-process layer and tasks)"
	@echo "make test-services  the suite against the local PostgreSQL and Redis (started when not running)"
	@echo "make lint           ruff check + ruff format --check"
	@echo "make bench          each app's benchmark module (<app>/bench.py) when present"
	@echo "make train          train the detector on DATA=$(DATA) (installs torch: ~3 GB)"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependency list changes.
$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed-dev

# The test suite also trains a tiny model and checks the ONNX export against torch, so it needs
# the train extra (torch + torchvision, ~3 GB the first time); serving never does.
$(VENV)/.installed-train: pyproject.toml $(VENV)/.installed-dev
	$(PY) -m pip install --quiet -e '.[train,dev]'
	@touch $@

install-train: $(VENV)/.installed-train

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo --base-url http://$(HOST):$(PORT)
	@echo
	@echo "Outcry is starting at http://$(HOST):$(PORT)/  (admin: /admin/, API docs: /api/docs/, health: /readyz)"
	@echo "Log in with one of the demo accounts above. Stop with Ctrl-C."
	@echo
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} exec $(VENV)/bin/daphne -b $(HOST) -p $(PORT) outcry.asgi:application

# Both passes always run; the target fails when either does.
test: install-train browser-deps
	@status=0; \
	$(MAKE) --no-print-directory test-embedded || status=1; \
	$(MAKE) --no-print-directory test-services || status=1; \
	if [ $$status != 0 ]; then echo "make test: FAILED (see the pass above that failed)" >&2; fi; \
	exit $$status

# Browser tests drive the distribution's Chromium through Playwright (never `playwright install`).
browser-deps:
	@if [ -x /usr/bin/chromium ]; then \
		echo "chromium: /usr/bin/chromium"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "chromium: installing with apt-get"; \
		apt-get install -y -q -o DPkg::Lock::Timeout=300 chromium >/dev/null \
			|| { apt-get update -q -o DPkg::Lock::Timeout=300 >/dev/null \
			     && apt-get install -y -q -o DPkg::Lock::Timeout=300 chromium >/dev/null; }; \
	else \
		echo "chromium: /usr/bin/chromium missing and not root; browser tests will not find it" >&2; \
	fi

# pytest exits 5 when it collects no tests: make fails on any non-zero status, so that fails too.
test-embedded: install
	$(EMBEDDED_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

services:
	deploy/scripts/start-services.sh

test-services: install services
	$(SERVICES_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(SERVICES_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Side-by-side measurements, printed as tables (JSON copies in bench-results/): the detection
# engine (torch eager vs ONNX Runtime fp32/int8), upload -> alert on a console, and live streams
# (onset -> alert, sensors sustained). The last two run embedded and, with the local PostgreSQL and
# Redis started, production-like with a separate Celery worker.
BENCH_MODULES := detection.bench frontend.bench detection.streaming.bench

bench: install-train services
	@mkdir -p bench-results
	@for module in $(BENCH_MODULES); do \
		echo "== $$module"; \
		$(SERVICES_ENV) DJANGO_SETTINGS_MODULE=outcry.settings $(PY) -m "$$module" || exit 1; \
	done

train: install-train
	$(PY) manage.py train_detector --data $(DATA)
