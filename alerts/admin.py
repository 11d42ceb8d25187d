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
class IncidentAdmin(admin.ModelAdmin):
    """Read-mostly: workflow changes go through the console or the API so they are logged."""

    list_display = ["id", "site", "sensor", "status", "priority", "peak_score", "detection_count", "opened_at"]
    list_filter = ["status", "priority", "site"]
    search_fields = ["id", "site__name", "sensor__name"]
    date_hierarchy = "opened_at"
    raw_id_fields = ["detections", "peak_detection"]
    readonly_fields = [field.name for field in Incident._meta.get_fields() if field.concrete and not field.many_to_many]
    inlines = [IncidentEventInline]

    def has_add_permission(self, request) -> bool:
        return False


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
