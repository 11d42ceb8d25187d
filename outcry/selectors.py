"""Reads of platform data."""

from django.db.models import QuerySet

from outcry.models import ApiToken, User


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The tokens of ``user`` (revoked ones included, so they can be told apart); never anyone else's."""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)


def active_user(*, pk: int) -> User | None:
    """The user with this id if it exists and may still sign in (``is_active``)."""
    return User.objects.filter(pk=pk, is_active=True).first()
