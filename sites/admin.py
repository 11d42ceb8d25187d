from django.contrib import admin, messages
from django.utils.html import format_html

from outcry.admin import AppendOnlyAdmin
from sites.models import ConfigChange, Membership, Sensor, Site
from sites.services import sensor_key_revoke, sensor_key_rotate


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


class SensorInline(admin.TabularInline):
    model = Sensor
    extra = 0
    fields = ["name", "location", "kind", "enabled", "last_seen"]
    readonly_fields = ["last_seen"]
    show_change_link = True


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "timezone", "default_threshold", "default_cooldown_s"]
    list_filter = ["status"]
    search_fields = ["name", "slug", "address"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, SensorInline]


def _show_key_once(request, sensor: Sensor, key: str) -> None:
    messages.warning(
        request,
        format_html(
            "New key for <strong>{}</strong>: <code>{}</code> — copy it now, it will not be shown again.", sensor, key
        ),
    )


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin):
    """Sensor keys are stored hashed: a new key is shown once, in a message, when the sensor is
    added or its key rotated. The hash itself is never displayed."""

    list_display = ["name", "site", "kind", "enabled", "status", "has_active_key", "last_seen", "level_dbfs"]
    list_filter = ["site", "kind", "enabled"]
    search_fields = ["name", "location", "site__name"]
    list_select_related = ["site"]
    readonly_fields = ["last_seen", "level_dbfs", "key_lookup_id", "key_created_at", "key_revoked_at", "status"]
    exclude = ["key_hash"]
    actions = ["rotate_keys", "revoke_keys"]

    @admin.display(boolean=True, description="Active key")
    def has_active_key(self, sensor: Sensor) -> bool:
        return sensor.has_active_key

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            _show_key_once(request, obj, sensor_key_rotate(sensor=obj))

    @admin.action(description="Rotate keys of selected sensors (new keys shown once)")
    def rotate_keys(self, request, queryset):
        for sensor in queryset.select_related("site"):
            _show_key_once(request, sensor, sensor_key_rotate(sensor=sensor))

    @admin.action(description="Revoke keys of selected sensors")
    def revoke_keys(self, request, queryset):
        sensors = list(queryset)
        for sensor in sensors:
            sensor_key_revoke(sensor=sensor)
        self.message_user(request, f"Revoked the keys of {len(sensors)} sensor(s).", messages.SUCCESS)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "site", "role", "created_at"]
    list_filter = ["role", "site"]
    search_fields = ["user__username", "site__name"]
    autocomplete_fields = ["user", "site"]
    list_select_related = ["user", "site"]


@admin.register(ConfigChange)
class ConfigChangeAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "site_name", "actor_name", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["site_name", "actor_name", "object_repr"]
    date_hierarchy = "created_at"
