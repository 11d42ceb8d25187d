"""The sign-in form, with the brake on password guessing (``outcry.signin_brake``)."""

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from outcry import signin_brake


class ThrottledAuthenticationForm(AuthenticationForm):
    """Refuses further tries once ``signin_brake`` has counted too many failures for this username
    from this address (the API's token login counts into the same brake)."""

    def clean(self):
        key = signin_brake.brake_key(self.request, self.cleaned_data.get("username"))
        if signin_brake.is_braked(key):
            raise ValidationError(signin_brake.REFUSAL_MESSAGE, code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            signin_brake.count_failure(key)
            raise
        signin_brake.forget_failures(key)
        return cleaned
