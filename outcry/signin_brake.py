"""The brake on password guessing, shared by the sign-in page and the API's token login.

After MAX_FAILED_SIGN_INS wrong passwords for one username from one address, further tries from
that address for that username are refused (without checking the password) until the window has
passed since the last failure. Keyed by address and username together, so a shared proxy address
does not lock everyone out and nobody can lock a colleague out from elsewhere. Both logins count
into the same key: switching between them does not double the guesses.

The count lives in the cache (Redis in production, shared by every web process). If the cache
cannot be reached the brake is off and says so in the log: operators must still be able to sign in
to their alerts while Redis is down.
"""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

MAX_FAILED_SIGN_INS = 5
FAILED_SIGN_IN_WINDOW_S = 15 * 60
REFUSAL_MESSAGE = (
    "Too many failed sign-ins for this account from your address. "
    f"Try again in {FAILED_SIGN_IN_WINDOW_S // 60} minutes."
)


def brake_key(request, username: str) -> str | None:
    """The key failures of ``username`` from this request's address count under (None: no brake)."""
    username = (username or "").strip().lower()
    if not username or request is None:
        return None
    # REMOTE_ADDR is the proxy's client address only with daphne --proxy-headers behind a proxy that
    # overwrites X-Forwarded-For (README, "Running in production"); never X-Forwarded-For itself.
    return f"sign-in-failures:{request.META.get('REMOTE_ADDR', '')}:{username}"


def is_braked(key: str | None) -> bool:
    if key is None:
        return False
    try:
        return cache.get(key, 0) >= MAX_FAILED_SIGN_INS
    except Exception:  # any backend's connection error; see the module docstring
        logger.warning("Sign-in brake off: the cache cannot be read", exc_info=True)
        return False


def count_failure(key: str | None) -> None:
    if key is None:
        return
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


def forget_failures(key: str | None) -> None:
    if key is None:
        return
    try:
        cache.delete(key)
    except Exception:
        logger.warning("Sign-in brake: the cache cannot be written", exc_info=True)
