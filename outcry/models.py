import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class AppendOnlyError(Exception):
    """An audit row (an incident's timeline, the configuration change log) is never changed or removed."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only; they cannot be updated.")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only; they cannot be deleted.")


class AppendOnlyModel(models.Model):
    """Rows written once and never changed or deleted through the ORM (only a database cascade
    from what they belong to removes them)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError(f"{self._meta.verbose_name_plural} are append-only; they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.verbose_name_plural} are append-only; they cannot be deleted.")


class User(AbstractUser):
    """A person: an operator, a manager, a viewer or a platform admin (is_staff/is_superuser)."""

    class Meta:
        ordering = ["username"]


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy random secret (API tokens, sensor keys); never stored in clear."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> tuple[str, str, str]:
    """A new secret as (full_secret, lookup_id, hash). The lookup id is stored to find the row."""
    lookup_id = secrets.token_hex(6)
    full_secret = f"{prefix}_{lookup_id}_{secrets.token_urlsafe(32)}"
    return full_secret, lookup_id, hash_secret(full_secret)


class ApiToken(models.Model):
    """A person's API token. Shown once at creation; only its hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="api")
    lookup_id = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    TOKEN_PREFIX = "oct"

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} / {self.name} ({self.TOKEN_PREFIX}_{self.lookup_id}_…)"
