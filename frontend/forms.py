"""The sign-in form, with a brake on password guessing."""

from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

# Failed sign-ins allowed per (address, username) within the window before further tries are refused.
MAX_FAILED_SIGN_INS = 5
FAILED_SIGN_IN_WINDOW_S = 15 * 60


class ThrottledAuthenticationForm(AuthenticationForm):
    """After MAX_FAILED_SIGN_INS wrong passwords for one username from one address, further tries
    are refused (without checking the password) until the window has passed since the last failure.
    Keyed by address and username together, so a shared proxy address does not lock everyone out
    and nobody can lock a colleague out from elsewhere. The API's token login has its own throttle."""

    def clean(self):
        key = self._failures_key()
        if key is not None and cache.get(key, 0) >= MAX_FAILED_SIGN_INS:
            raise ValidationError(
                f"Too many failed sign-ins for this account from your address. "
                f"Try again in {FAILED_SIGN_IN_WINDOW_S // 60} minutes.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            if key is not None:
                cache.set(key, cache.get(key, 0) + 1, FAILED_SIGN_IN_WINDOW_S)
            raise
        if key is not None:
            cache.delete(key)
        return cleaned

    def _failures_key(self) -> str | None:
        username = (self.cleaned_data.get("username") or "").strip().lower()
        if not username or self.request is None:
            return None
        address = self.request.META.get("REMOTE_ADDR", "")
        return f"outcry:sign-in-failures:{address}:{username}"
