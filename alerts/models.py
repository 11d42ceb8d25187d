"""Incidents, their append-only timeline, and the notification channels and deliveries of a site."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import models
from django.utils import timezone

from alerts.destinations import validate_webhook_url
from detection.models import Detection
from outcry.models import AppendOnlyModel
from sites.models import Sensor, Site


class IncidentStatus(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"


OPEN_STATUSES = (IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED, IncidentStatus.ON_HOLD)


class IncidentPriority(models.TextChoices):
    """Ordered least to most urgent."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"

    @classmethod
    def rank(cls, priority: str) -> int:
        return [cls.LOW, cls.MEDIUM, cls.HIGH, cls.CRITICAL].index(priority)


class Resolution(models.TextChoices):
    CONFIRMED_EMERGENCY = "confirmed_emergency", "Confirmed emergency"
    FALSE_ALARM = "false_alarm", "False alarm"
    TEST = "test", "Test"
    OTHER = "other", "Other"


class Incident(models.Model):
    """What an operator acts on: one or more detections of one sensor, close together in time."""

    # PROTECT: an incident and its timeline are the audit trail; they outlive nothing they refer to.
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="incidents")
    sensor = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="incidents")
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.NEW)
    priority = models.CharField(max_length=16, choices=IncidentPriority.choices, default=IncidentPriority.MEDIUM)
    peak_score = models.FloatField(help_text="Highest scream probability among the incident's detections.")
    peak_detection = models.ForeignKey(
        Detection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The detection with the highest score: the incident's evidence.",
    )
    detections = models.ManyToManyField(Detection, related_name="incidents", blank=True)
    detection_count = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(default=timezone.now)
    last_detection_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_incidents"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=32, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    last_escalated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["site", "status", "opened_at"], name="incident_feed"),
            models.Index(fields=["sensor", "status", "last_detection_at"], name="incident_sensor_open"),
            models.Index(fields=["status", "opened_at"], name="incident_status_opened"),
        ]

    def __str__(self) -> str:
        return f"Incident #{self.pk} ({self.status}, {self.priority})"

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.RESOLVED


class IncidentEventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    DETECTION_ADDED = "detection_added", "Detection added"
    DETECTION_RESCORED = "detection_rescored", "Detection rescored"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ASSIGNED = "assigned", "Assigned"
    NOTE = "note", "Note"
    HELD = "held", "Put on hold"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    ESCALATED = "escalated", "Escalated"
    NOTIFIED = "notified", "Notified"


class IncidentEvent(AppendOnlyModel):
    """One line of an incident's timeline, which is also its audit trail (append-only).

    Rows disappear only with their incident (a database-level cascade, e.g. deleting a site).
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=IncidentEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the system (detections, escalation, notifications).",
    )
    from_status = models.CharField(max_length=16, choices=IncidentStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=IncidentStatus.choices, blank=True)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on incident {self.incident_id}"


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class NotifyOn(models.TextChoices):
    NEW = "new", "New incident"
    ESCALATION = "escalation", "Escalation"


def validate_notify_on(value) -> None:
    if not isinstance(value, list) or not value or any(item not in NotifyOn.values for item in value):
        raise ValidationError(f"notify_on must be a non-empty list of {', '.join(NotifyOn.values)}.")


def validate_recipients(value) -> None:
    if not isinstance(value, list) or any(not isinstance(item, str) for item in value):
        raise ValidationError("recipients must be a list of email addresses.")
    for address in value:
        validate_email(address)


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class NotificationChannel(models.Model):
    """Where a site's incidents are announced: an email list or a signed webhook."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="notification_channels")
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    recipients = models.JSONField(default=list, blank=True, validators=[validate_recipients])
    url = models.URLField(
        max_length=500, blank=True, validators=[URLValidator(schemes=["http", "https"]), validate_webhook_url]
    )
    # Kept in clear: every delivery signs its body with it (HMAC-SHA256).
    secret = models.CharField(max_length=100, blank=True, default="", editable=False)
    notify_on = models.JSONField(default=list, validators=[validate_notify_on])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "name"],
                name="unique_channel_name_per_site",
                violation_error_message="This site already has a notification channel with this name.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def save(self, *args, **kwargs):
        if self.kind == ChannelKind.WEBHOOK and not self.secret:
            self.secret = new_webhook_secret()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.kind == ChannelKind.EMAIL and not self.recipients:
            raise ValidationError({"recipients": "An email channel needs at least one recipient."})
        if self.kind == ChannelKind.WEBHOOK and not self.url:
            raise ValidationError({"url": "A webhook channel needs a URL."})

    def notifies_on(self, reason: str) -> bool:
        """Whether a delivery for ``reason`` ("new", "escalation:N" or "priority:P") goes to this channel.

        A priority rise amends the new-incident announcement (it went out at a live scream's onset,
        often its weakest moment), so it goes where that announcement went.
        """
        kind = reason.split(":", 1)[0]
        return (NotifyOn.NEW if kind == "priority" else kind) in self.notify_on


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class NotificationDelivery(models.Model):
    """One announcement of one incident on one channel for one reason; the delivery log.

    Unique per (channel, incident, reason): however many times a reason is raised, it is announced
    once. A worker claims the row (pending → sending) with a conditional UPDATE before sending.
    """

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="deliveries")
    reason = models.CharField(
        max_length=32, help_text='"new", "escalation:<level>" or "priority:<priority it rose to>".'
    )
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="When pending: due time. When sending: when the claim lapses."
    )
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    announced_priority = models.CharField(
        max_length=16,
        choices=IncidentPriority.choices,
        blank=True,
        default="",
        help_text="The incident's priority in the message that was sent (blank until sent).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "incident", "reason"], name="unique_delivery_per_reason")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"Delivery {self.pk} of incident {self.incident_id} on {self.channel_id} ({self.reason}, {self.status})"
