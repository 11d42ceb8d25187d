"""Writes for people's API tokens."""

from django.db import transaction
from django.utils import timezone

from outcry.models import ApiToken, User, new_secret


@transaction.atomic
def api_token_create(*, user: User, name: str = "api") -> tuple[ApiToken, str]:
    """A new token for ``user`` and its secret; the secret is returned here once and never stored."""
    secret, lookup_id, token_hash = new_secret(ApiToken.TOKEN_PREFIX)
    token = ApiToken.objects.create(user=user, name=name or "api", lookup_id=lookup_id, token_hash=token_hash)
    return token, secret


def api_token_revoke(*, token: ApiToken) -> None:
    """Stop ``token`` from authenticating; revoking twice keeps the first revocation time."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
