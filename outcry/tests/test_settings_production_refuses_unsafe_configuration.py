"""Production mode refuses to start with the embedded database, a weak secret key or no Redis."""

import json

import pytest

from outcry.tests.django_subprocess import clean_environment, production_environment, run_python

SETUP = "import django; django.setup(); print('started')"


def _refusal(env: dict[str, str]) -> str:
    result = run_python(SETUP, env)
    assert result.returncode != 0, f"started although it should not have:\n{result.stdout}"
    assert "ImproperlyConfigured" in result.stderr
    return result.stderr


def test_production_environment_starts():
    result = run_python(SETUP, production_environment())

    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_production_without_database_url_refuses_sqlite():
    env = production_environment()
    del env["DATABASE_URL"]

    assert "Production mode refuses SQLite" in _refusal(env)


def test_production_with_a_sqlite_database_url_is_refused():
    stderr = _refusal(production_environment(DATABASE_URL="sqlite:////tmp/outcry.sqlite3"))

    assert "Production mode refuses SQLite" in stderr


def test_production_with_the_default_secret_key_is_refused():
    env = production_environment()
    del env["DJANGO_SECRET_KEY"]

    assert "needs DJANGO_SECRET_KEY" in _refusal(env)


def test_production_with_a_short_secret_key_is_refused():
    stderr = _refusal(production_environment(DJANGO_SECRET_KEY="too-short-to-be-a-real-secret"))

    assert "at least 50 characters" in stderr


def test_production_without_redis_is_refused():
    env = production_environment()
    del env["REDIS_URL"]

    assert "needs REDIS_URL" in _refusal(env)


def test_unknown_mode_is_refused():
    assert "use 'embedded' or 'production'" in _refusal(clean_environment(OUTCRY_MODE="staging"))


@pytest.mark.parametrize("variable", ["DJANGO_DEBUG", "SECURE_SSL_REDIRECT"])
def test_malformed_boolean_is_refused(variable):
    assert "is not a boolean" in _refusal(production_environment(**{variable: "maybe"}))


def test_nothing_configured_runs_embedded():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'mode': s.OUTCRY_MODE, 'engine': s.DATABASES['default']['ENGINE'], "
        "'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'runner': s.OUTCRY_TASK_RUNNER, "
        "'broker': s.CELERY_BROKER_URL, 'storage': s.STORAGES['default']['BACKEND'], "
        "'email': s.EMAIL_BACKEND, 'debug': s.DEBUG}))"
    )
    result = run_python(code, clean_environment())

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "mode": "embedded",
        "engine": "django.db.backends.sqlite3",
        "layer": "channels.layers.InMemoryChannelLayer",
        "runner": "thread",
        "broker": "memory://",
        "storage": "django.core.files.storage.FileSystemStorage",
        "email": "django.core.mail.backends.console.EmailBackend",
        "debug": True,
    }


def test_production_environment_selects_the_real_services():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'engine': s.DATABASES['default']['ENGINE'], 'layer': s.CHANNEL_LAYERS['default']['BACKEND'], "
        "'runner': s.OUTCRY_TASK_RUNNER, 'broker': s.CELERY_BROKER_URL, "
        "'storage': s.STORAGES['default']['BACKEND'], 'debug': s.DEBUG}))"
    )
    result = run_python(code, production_environment(S3_BUCKET="outcry-media"))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "engine": "django.db.backends.postgresql",
        "layer": "channels_redis.core.RedisChannelLayer",
        "runner": "celery",
        "broker": "redis://redis.internal:6379/0",
        "storage": "storages.backends.s3.S3Storage",
        "debug": False,
    }


def test_embedded_mode_creates_its_var_directory(tmp_path):
    """A fresh checkout has no var/: the SQLite database must still open."""
    var_dir = tmp_path / "fresh" / "var"
    code = "import django; django.setup(); from django.db import connection; connection.ensure_connection()"
    result = run_python(code, clean_environment(OUTCRY_VAR_DIR=str(var_dir)))

    assert result.returncode == 0, result.stderr
    assert var_dir.is_dir()
