import re
from datetime import timedelta
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from outcry.models import AppendOnlyModel


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a known IANA time zone (e.g. 'Europe/Paris').")


_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def validate_active_hours(value) -> None:
    """A schedule: a list of ``{"days": [0..6], "start": "HH:MM", "end": "HH:MM"}`` ranges."""
    if not isinstance(value, list):
        raise ValidationError("Active hours must be a list of {days, start, end} ranges.")
    for number, entry in enumerate(value, start=1):
        if not isinstance(entry, dict) or set(entry) != {"days", "start", "end"}:
            raise ValidationError(f"Range {number} must have exactly the keys days, start and end.")
        days = entry["days"]
        if (
            not isinstance(days, list)
            or not days
            or any(isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6 for day in days)
        ):
            raise ValidationError(f"Range {number}: days must be a non-empty list of 0 (Monday) to 6 (Sunday).")
        for key in ("start", "end"):
            if not isinstance(entry[key], str) or not _CLOCK_TIME.match(entry[key]):
                raise ValidationError(f"Range {number}: {key} must be a time as HH:MM (00:00 to 23:59).")


MAX_AUDIO_RETENTION_DAYS = 3650
# Longer would be a mistake (and timedelta overflows far beyond): a day either way.
MAX_COOLDOWN_S = 24 * 3600
MAX_ACK_TIMEOUT_S = 24 * 3600


class SiteStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    RETIRED = "retired", "Retired"


class Site(models.Model):
    """A place that is monitored: a school, a hospital wing, a factory floor."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    address = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    status = models.CharField(max_length=16, choices=SiteStatus.choices, default=SiteStatus.ACTIVE)
    default_threshold = models.FloatField(
        null=True,
        blank=True,
        default=None,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=(
            "Scream probability at or above which a detection raises an incident; empty: the detection "
            "model's own threshold, chosen on validation data (0.645 for the shipped model)."
        ),
    )
    default_cooldown_s = models.PositiveIntegerField(
        "default cooldown (s)",
        default=60,
        validators=[MaxValueValidator(MAX_COOLDOWN_S)],
        help_text="A detection this soon after an open incident's last one joins it (at most a day).",
    )
    ack_timeout_s = models.PositiveIntegerField(
        "acknowledgement timeout (s)",
        default=300,
        validators=[MaxValueValidator(MAX_ACK_TIMEOUT_S)],
        help_text="An incident still new after this long escalates to the site's managers (0: never; at most a day).",
    )
    keep_stream_audio = models.BooleanField(
        default=False, help_text="Keep continuous stream audio (off: only segments around detections)."
    )
    audio_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_AUDIO_RETENTION_DAYS)],
        help_text=(
            "Days the site's audio is kept (empty: the server's AUDIO_RETENTION_DAYS). Audio of open "
            "incidents and of confirmed emergencies is kept beyond it."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_audio_retention_days(self) -> int:
        return self.audio_retention_days or settings.AUDIO_RETENTION_DAYS


class SensorKind(models.TextChoices):
    EDGE = "edge", "Edge device"
    BROWSER = "browser", "Browser microphone"
    FILE_DROP = "file_drop", "File drop"


class SensorStatus(models.TextChoices):
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    DISABLED = "disabled", "Disabled"


class Sensor(models.Model):
    """A microphone at a site. Authenticates with its own key (stored hashed), never a user's."""

    KEY_PREFIX = "osk"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="sensors")
    name = models.CharField(max_length=200)
    location = models.CharField(max_length=200, blank=True, help_text="Where it hangs, e.g. 'Gym, north wall'.")
    kind = models.CharField(max_length=16, choices=SensorKind.choices, default=SensorKind.EDGE)
    enabled = models.BooleanField(default=True)
    threshold_override = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    cooldown_override_s = models.PositiveIntegerField(
        "cooldown override (s)", null=True, blank=True, validators=[MaxValueValidator(MAX_COOLDOWN_S)]
    )
    silenced_until = models.DateTimeField(null=True, blank=True)
    # [{"days": [0..6] (Monday=0), "start": "HH:MM", "end": "HH:MM"}, ...] in the site's time zone;
    # empty = always active. A range whose end is before its start runs past midnight.
    active_hours = models.JSONField(default=list, blank=True, validators=[validate_active_hours])
    last_seen = models.DateTimeField(null=True, blank=True)
    level_dbfs = models.FloatField("level (dBFS)", null=True, blank=True)
    key_lookup_id = models.CharField(max_length=12, unique=True, null=True, blank=True)
    key_hash = models.CharField(max_length=64, blank=True)
    key_created_at = models.DateTimeField(null=True, blank=True)
    key_revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "name"],
                name="unique_sensor_name_per_site",
                violation_error_message="This site already has a sensor with this name.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.site.name} / {self.name}"

    @property
    def status(self) -> str:
        if not self.enabled:
            return SensorStatus.DISABLED
        if self.last_seen and timezone.now() - self.last_seen <= timedelta(seconds=settings.SENSOR_OFFLINE_AFTER_S):
            return SensorStatus.ONLINE
        return SensorStatus.OFFLINE

    @property
    def has_active_key(self) -> bool:
        return bool(self.key_hash) and self.key_revoked_at is None

    @property
    def effective_threshold(self) -> float | None:
        """The override, else the site's default; None: the detection model's own threshold
        (``detection.selectors.sensor_threshold`` resolves it)."""
        return self.threshold_override if self.threshold_override is not None else self.site.default_threshold

    @property
    def effective_cooldown_s(self) -> int:
        return self.cooldown_override_s if self.cooldown_override_s is not None else self.site.default_cooldown_s


class Role(models.TextChoices):
    """Ordered least to most: each role can do everything the ones before it can."""

    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    MANAGER = "manager", "Manager"

    @classmethod
    def rank(cls, role: str) -> int:
        return [cls.VIEWER, cls.OPERATOR, cls.MANAGER].index(role)


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "site"],
                name="unique_membership_per_user_site",
                violation_error_message="This person already has a role at this site: change that membership instead.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} at {self.site}"


class ChangeAction(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"
    KEY_ISSUED = "key_issued", "New key issued"
    KEY_REVOKED = "key_revoked", "Key revoked"
    SECRET_ROTATED = "secret_rotated", "Secret rotated"


class ConfigChange(AppendOnlyModel):
    """One change to a site's configuration (the site, its sensors, memberships, notification
    channels): who, when, what, and each field from what to what. Append-only; written by
    ``sites.changelog`` when the row is saved or deleted, in the same transaction."""

    # No database constraint: the log outlives a deleted site (its name is kept beside the id).
    site = models.ForeignKey(
        Site, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    site_name = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when no signed-in person made the change (a management command, a task).",
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="The actor's username, kept if they go.")
    action = models.CharField(max_length=24, choices=ChangeAction.choices)
    object_type = models.CharField(max_length=40, help_text="site, sensor, membership or notification channel.")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    object_repr = models.CharField(max_length=300)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [before, after]}; secrets never appear.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "created_at"], name="configchange_site_created")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type} {self.object_repr}"
