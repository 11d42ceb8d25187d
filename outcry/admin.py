from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin

from outcry.models import ApiToken, User
from outcry.services import api_token_revoke

admin.site.site_header = "Outcry administration"
admin.site.site_title = "Outcry admin"


class AppendOnlyAdmin(admin.ModelAdmin):
    """Rows shown here, never added, changed or deleted here: audit rows
    (``outcry.models.AppendOnlyModel``) and what only logged workflows may change (incidents)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class OutcryUserAdmin(UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created through POST /api/v1/auth/token/ (the secret is shown there once); here they
    can be inspected and revoked. Only the hash is stored, so no secret can ever be shown."""

    list_display = ["__str__", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at", "created_at"]
    search_fields = ["user__username", "name", "lookup_id"]
    readonly_fields = ["user", "name", "lookup_id", "token_hash", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_tokens"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token=token)
        self.message_user(request, f"Revoked {len(tokens)} token(s).", messages.SUCCESS)
