"""Run Django in a child process with an exact environment (settings are read once, at import)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Everything outcry/settings.py reads that would change the mode, so a child starts from nothing.
_CONFIG_PREFIXES = ("DJANGO_", "OUTCRY_", "CELERY_", "S3_", "EMAIL_", "SECURE_", "SESSION_", "CSRF_")
_CONFIG_NAMES = {"DATABASE_URL", "REDIS_URL", "DB_CONN_MAX_AGE", "STATIC_ROOT", "MEDIA_ROOT", "DEFAULT_FROM_EMAIL"}


def strong_secret_key() -> str:
    return secrets.token_urlsafe(64)


def clean_environment(**overrides: str) -> dict[str, str]:
    """The current environment without Outcry's configuration, plus ``overrides``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _CONFIG_NAMES and not name.startswith(_CONFIG_PREFIXES)
    }
    env["DJANGO_SETTINGS_MODULE"] = "outcry.settings"
    env.update(overrides)
    return env


def production_environment(**overrides: str) -> dict[str, str]:
    """A complete production configuration (nothing is contacted unless the child connects)."""
    production = {
        "DATABASE_URL": "postgres://outcry@db.internal:5432/outcry",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "DJANGO_SECRET_KEY": strong_secret_key(),
        "DJANGO_ALLOWED_HOSTS": "outcry.example.org",
    }
    return clean_environment(**(production | overrides))


def run_python(code: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )


def run_manage(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )
