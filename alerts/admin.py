from django.contrib import admin

from alerts.models import Incident, IncidentEvent, NotificationChannel, NotificationDelivery
from outcry.admin import AppendOnlyAdmin


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    fields = ["created_at", "kind", "actor", "from_status", "to_status", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(AppendOnlyAdmin):
    """Read-only: workflow changes go through the console or the API, so that the timeline logs
    them; nothing here (its detections included) can change or delete an incident."""

    list_display = ["id", "site", "sensor", "status", "priority", "peak_score", "detection_count", "opened_at"]
    list_filter = ["status", "priority", "site"]
    search_fields = ["id", "site__name", "sensor__name"]
    date_hierarchy = "opened_at"
    inlines = [IncidentEventInline]


@admin.register(IncidentEvent)
class IncidentEventAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "incident", "kind", "actor", "from_status", "to_status"]
    list_filter = ["kind"]
    search_fields = ["incident__id", "text"]


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "kind", "enabled", "notify_on"]
    list_filter = ["kind", "enabled", "site"]
    search_fields = ["name", "site__name", "url"]


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "channel", "incident", "reason", "status", "attempts", "response_code", "sent_at"]
    list_filter = ["status", "channel__kind"]
    readonly_fields = [
        "channel",
        "incident",
        "reason",
        "status",
        "attempts",
        "next_attempt_at",
        "response_code",
        "last_error",
        "sent_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False
