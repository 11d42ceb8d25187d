"""The sign-in form, with a brake on password guessing."""

import logging

from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)

# Failed sign-ins allowed per (address, username) within the window before further tries are refused.
MAX_FAILED_SIGN_INS = 5
FAILED_SIGN_IN_WINDOW_S = 15 * 60


class ThrottledAuthenticationForm(AuthenticationForm):
    """After MAX_FAILED_SIGN_INS wrong passwords for one username from one address, further tries
    are refused (without checking the password) until the window has passed since the last failure.
    Keyed by address and username together, so a shared proxy address does not lock everyone out
    and nobody can lock a colleague out from elsewhere. The API's token login has its own throttle.

    The count lives in the cache (Redis in production, shared by every web process). If the cache
    cannot be reached the brake is off and says so in the log: operators must still be able to sign
    in to their alerts while Redis is down."""

    def clean(self):
        key = self._failures_key()
        if key is not None and _failures(key) >= MAX_FAILED_SIGN_INS:
            raise ValidationError(
                f"Too many failed sign-ins for this account from your address. "
                f"Try again in {FAILED_SIGN_IN_WINDOW_S // 60} minutes.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            if key is not None:
                _count_failure(key)
            raise
        if key is not None:
            _forget_failures(key)
        return cleaned

    def _failures_key(self) -> str | None:
        username = (self.cleaned_data.get("username") or "").strip().lower()
        if not username or self.request is None:
            return None
        address = self.request.META.get("REMOTE_ADDR", "")
        return f"sign-in-failures:{address}:{username}"


def _failures(key: str) -> int:
    try:
        return cache.get(key, 0)
    except Exception:  # any backend's connection error; see the class docstring
        logger.warning("Sign-in brake off: the cache cannot be read", exc_info=True)
        return 0


def _count_failure(key: str) -> None:
    try:
        try:
            # add + incr, not get + set: concurrent failures in two web processes both count.
            cache.add(key, 0, FAILED_SIGN_IN_WINDOW_S)
            cache.incr(key)
        except ValueError:  # the key expired between add and incr: this failure starts a new count
            cache.set(key, 1, FAILED_SIGN_IN_WINDOW_S)
        cache.touch(key, FAILED_SIGN_IN_WINDOW_S)  # the window runs from the last failure
    except Exception:
        logger.warning("Sign-in brake off: the cache cannot be written", exc_info=True)


def _forget_failures(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:
        logger.warning("Sign-in brake: the cache cannot be written", exc_info=True)
