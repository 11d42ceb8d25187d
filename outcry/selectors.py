"""Reads of platform data."""

from django.db.models import QuerySet

from outcry.models import ApiToken, User


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The tokens of ``user`` (revoked ones included, so they can be told apart); never anyone else's."""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)
