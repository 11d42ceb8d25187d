from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from outcry.api.fields import ChoiceField, ModelSerializer
from outcry.models import User
from outcry.permissions import user_is_platform_admin
from sites.models import ConfigChange, Membership, Role, Sensor, SensorStatus, Site
from sites.selectors import grantable_user_list, site_list, user_has_role
from sites.services import (
    membership_create,
    membership_update,
    sensor_create,
    sensor_update,
    site_create,
    site_update,
)


class VisibleSiteField(serializers.PrimaryKeyRelatedField):
    """A site id among those the requesting user may see; any other id reads as nonexistent."""

    def get_queryset(self):
        request = self.context.get("request")
        return site_list(user=request.user) if request else Site.objects.none()


class GrantableUserField(serializers.PrimaryKeyRelatedField):
    """A user id the requester can already see in their memberships list (any active user for
    platform admins). Anyone else is granted by exact username, so walking ids reveals no names."""

    default_error_messages = {
        "does_not_exist": (
            'No user with id {pk_value} among the members of your sites; grant someone new by "username".'
        ),
    }

    def get_queryset(self):
        request = self.context.get("request")
        return grantable_user_list(user=request.user) if request else User.objects.none()


class MembershipUsernameField(serializers.CharField):
    """Reads as the member's username; written, it names the person to grant the role to."""

    def get_attribute(self, membership: Membership) -> str:
        return membership.user.username


class SiteSummarySerializer(ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "name", "slug"]


class SiteSerializer(ModelSerializer):
    effective_audio_retention_days = serializers.IntegerField(
        read_only=True, help_text="audio_retention_days, or the server's AUDIO_RETENTION_DAYS when it is empty."
    )

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "slug",
            "address",
            "timezone",
            "status",
            "default_threshold",
            "default_cooldown_s",
            "ack_timeout_s",
            "keep_stream_audio",
            "audio_retention_days",
            "effective_audio_retention_days",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def create(self, validated_data):
        return site_create(**validated_data)

    def update(self, instance, validated_data):
        return site_update(site=instance, data=validated_data)


class SensorSerializer(ModelSerializer):
    site = VisibleSiteField(help_text="Set at creation; a sensor does not move between sites.")
    status = ChoiceField(choices=SensorStatus.choices, read_only=True, help_text="Derived from last_seen.")
    has_active_key = serializers.BooleanField(read_only=True)
    effective_threshold = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="threshold_override, else the site's default_threshold; null: the detection model's own threshold.",
    )
    effective_cooldown_s = serializers.IntegerField(read_only=True, help_text="cooldown_override_s or the site's.")
    key = serializers.CharField(
        source="new_key",
        read_only=True,
        help_text="The sensor key: only in the response that created or rotated it, never again.",
    )

    class Meta:
        model = Sensor
        fields = [
            "id",
            "site",
            "name",
            "location",
            "kind",
            "enabled",
            "status",
            "threshold_override",
            "cooldown_override_s",
            "effective_threshold",
            "effective_cooldown_s",
            "silenced_until",
            "active_hours",
            "last_seen",
            "level_dbfs",
            "has_active_key",
            "key_created_at",
            "key_revoked_at",
            "key",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["last_seen", "level_dbfs", "key_created_at", "key_revoked_at", "created_at", "updated_at"]

    def validate(self, attrs):
        if self.instance is not None and "site" in attrs and attrs.pop("site") != self.instance.site:
            raise serializers.ValidationError(  # said, not silently dropped
                {"site": "A sensor does not move between sites; create a sensor at the other site."}
            )
        return attrs

    def create(self, validated_data):
        sensor, key = sensor_create(**validated_data)
        sensor.new_key = key
        return sensor

    def update(self, instance, validated_data):
        return sensor_update(sensor=instance, data=validated_data)


class SensorConfigSerializer(ModelSerializer):
    """What a sensor needs to know about itself (GET /api/v1/sensors/me/)."""

    site = serializers.SerializerMethodField()
    status = ChoiceField(choices=SensorStatus.choices, read_only=True)
    effective_threshold = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="null: the detection model's own (the stream's ready message says it).",
    )
    effective_cooldown_s = serializers.IntegerField(read_only=True)

    class Meta:
        model = Sensor
        fields = [
            "id",
            "name",
            "location",
            "kind",
            "enabled",
            "status",
            "site",
            "effective_threshold",
            "effective_cooldown_s",
            "silenced_until",
            "active_hours",
            "last_seen",
        ]
        read_only_fields = fields

    def get_site(self, sensor: Sensor) -> dict:
        return {
            "id": sensor.site_id,
            "name": sensor.site.name,
            "slug": sensor.site.slug,
            "timezone": sensor.site.timezone,
            "status": sensor.site.status,
        }


class MembershipSerializer(ModelSerializer):
    user = GrantableUserField(required=False)
    username = MembershipUsernameField(required=False, max_length=150)
    site = VisibleSiteField()
    site_name = serializers.CharField(source="site.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "username", "site", "site_name", "role", "created_at"]
        read_only_fields = ["created_at"]

    ONLY_THE_ROLE_CHANGES = "Only the role of a membership changes; remove it and grant a new one instead."

    def to_internal_value(self, data):
        # Resolved here rather than in validate() so that the one-membership-per-site check sees the user.
        attrs = super().to_internal_value(data)
        username = attrs.pop("username", None)
        if self.instance is not None:
            if username is not None and username != self.instance.user.username:
                raise serializers.ValidationError({"username": [self.ONLY_THE_ROLE_CHANGES]})
            return attrs
        if username is None and "user" not in attrs:
            raise serializers.ValidationError(
                {"user": ['Name the person to grant the role to: "user" (id) or "username".']}
            )
        if username is not None:
            request = self.context["request"]
            if not user_has_role(user=request.user, site=attrs["site"], min_role=Role.MANAGER):
                raise PermissionDenied()  # before the lookup, so only a site's managers learn who exists
            by_name = User.objects.filter(username=username, is_active=True).first()
            if by_name is None:
                raise serializers.ValidationError({"username": ["No active user with this username."]})
            if attrs.setdefault("user", by_name) != by_name:
                raise serializers.ValidationError(
                    {"username": ['This username is not the "user" given; send one of them.']}
                )
        return attrs

    def validate(self, attrs):
        if self.instance is not None:  # only the role changes; to move someone, delete and create
            for field in ("user", "site"):
                if field in attrs and attrs[field] != getattr(self.instance, field):
                    raise serializers.ValidationError({field: self.ONLY_THE_ROLE_CHANGES})
        return attrs

    def create(self, validated_data):
        return membership_create(**validated_data)

    def update(self, instance, validated_data):
        return membership_update(
            membership=instance,
            role=validated_data.get("role", instance.role),
            by_platform_admin=user_is_platform_admin(self.context["request"].user),
        )


class MyMembershipSerializer(ModelSerializer):
    site = SiteSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["site", "role"]


class MeSerializer(ModelSerializer):
    is_platform_admin = serializers.SerializerMethodField()
    memberships = MyMembershipSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "is_platform_admin", "memberships"]
        read_only_fields = fields

    def get_is_platform_admin(self, user: User) -> bool:
        return user_is_platform_admin(user)


class ConfigChangeSerializer(ModelSerializer):
    site = serializers.IntegerField(source="site_id", allow_null=True, help_text="Kept after the site is deleted.")
    actor = serializers.IntegerField(source="actor_id", allow_null=True, help_text="Null: no signed-in person.")

    class Meta:
        model = ConfigChange
        fields = [
            "id",
            "created_at",
            "site",
            "site_name",
            "actor",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
        ]
        read_only_fields = fields
