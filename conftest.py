"""Shared fixtures: factories for users, sites, sensors and memberships, and API clients.

Tests marked ``services`` need real PostgreSQL and Redis; they run in the production-like
configuration (DATABASE_URL and REDIS_URL set, see .ci/run) and are skipped in the embedded one.
"""

import itertools

import pytest
from django.conf import settings
from rest_framework.test import APIClient

_counter = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    if settings.REDIS_URL and settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL and Redis: run with DATABASE_URL and REDIS_URL set")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    # A server-start thread loading the real model would race with tests that replace the engine;
    # the tests that concern the warm-up send the signal themselves.
    settings.OUTCRY_WARM_UP_AT_START = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    """Work a test handed to the embedded task pool ends inside that test, before its database is
    flushed: left running, it writes into the next test (SQLite: "database table is locked")."""
    from outcry import tasking

    tasking.wait_for_embedded_tasks()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, whose PostgreSQL sessions opened by worker threads (async
    tests, websocket consumers) are ended before it is dropped: each holds a connection of its own
    thread that no test can close, and DROP DATABASE refuses while one is open."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttles count in the cache: one test's failed sign-ins must not refuse the next test's."""
    from django.conf import settings
    from django.core.cache import cache

    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        # clear() would FLUSHDB the Redis database that the channel layer and Celery share.
        client = cache._cache.get_client(write=True)
        stale = list(client.scan_iter(f"{settings.CACHE_KEY_PREFIX}:*"))
        if stale:
            client.delete(*stale)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; the real hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_without_manifest(settings):
    """Production settings serve hashed static files from a collectstatic manifest; tests render
    pages (admin, API docs) without running collectstatic."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def make_user(db):
    from outcry.models import User

    def make(username: str | None = None, *, password: str = "correct-horse-battery", **fields):
        username = username or f"user{next(_counter)}"
        return User.objects.create_user(username=username, password=password, email=f"{username}@example.org", **fields)

    return make


@pytest.fixture
def make_site(db):
    from sites.models import Site

    def make(name: str | None = None, **fields):
        number = next(_counter)
        name = name or f"Site {number}"
        return Site.objects.create(name=name, slug=fields.pop("slug", f"site-{number}"), **fields)

    return make


@pytest.fixture
def make_sensor(db, make_site):
    from sites.models import Sensor

    def make(site=None, name: str | None = None, **fields):
        return Sensor.objects.create(site=site or make_site(), name=name or f"Mic {next(_counter)}", **fields)

    return make


@pytest.fixture
def make_member(db, make_user):
    """A user holding ``role`` at ``site``."""
    from sites.models import Membership

    def make(site, role: str, user=None):
        user = user or make_user()
        Membership.objects.create(user=user, site=site, role=role)
        return user

    return make


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for():
    """An APIClient authenticated as ``user`` (force_authenticate; token auth has its own tests)."""

    def make(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make
