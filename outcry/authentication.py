"""API token authentication for people: ``Authorization: Bearer oct_<id>_<secret>`` (or ``Token``)."""

import hmac

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from outcry.models import ApiToken, hash_secret


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: expected 'Bearer <token>'.")
        raw = header[1]
        if not raw.startswith(f"{ApiToken.TOKEN_PREFIX}_"):
            return None  # another scheme's token (a sensor key): let the next authenticator try
        parts = raw.split("_", 2)
        token = (
            ApiToken.objects.select_related("user").filter(lookup_id=parts[1], revoked_at__isnull=True).first()
            if len(parts) == 3
            else None
        )
        if token is None or not hmac.compare_digest(token.token_hash, hash_secret(raw)):
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This user account is disabled.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return "Bearer"


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A person's API token (oct_…) from POST /api/v1/auth/token/.",
        }
