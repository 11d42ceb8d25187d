from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import generics, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from outcry.api.mixins import RefuseMalformedBodyMixin
from outcry.models import User
from outcry.permissions import user_is_platform_admin
from sites.api.serializers import (
    ConfigChangeSerializer,
    MembershipSerializer,
    MeSerializer,
    SensorConfigSerializer,
    SensorSerializer,
    SiteSerializer,
)
from sites.authentication import SensorKeyAuthentication
from sites.filters import ConfigChangeFilterSet, MembershipFilterSet, SensorFilterSet, SiteFilterSet
from sites.models import ConfigChange, Membership, Sensor, Site
from sites.permissions import IsSensor, SiteRolePermission
from sites.selectors import config_change_list, membership_list, sensor_list, site_list
from sites.services import membership_delete, sensor_delete, sensor_key_revoke, sensor_key_rotate, site_delete


class SiteScopedViewSet(RefuseMalformedBodyMixin, viewsets.ModelViewSet):
    """CRUD over site-owned rows: the queryset is scoped to the user's sites (others are 404) and
    ``SiteRolePermission`` checks the role at the object's site (visible but not allowed is 403).
    Creating a row checks the role at the site named in the request body."""

    permission_classes = [SiteRolePermission]

    def perform_create(self, serializer):
        site = serializer.validated_data.get("site")
        if site is not None:
            self.check_object_permissions(self.request, site)
        serializer.save()


class SiteViewSet(SiteScopedViewSet):
    """Sites you are a member of (all of them for platform admins). Only platform admins create or
    delete sites; a site's managers update it."""

    queryset = Site.objects.none()
    serializer_class = SiteSerializer
    filterset_class = SiteFilterSet
    ordering_fields = ["name", "slug", "status", "created_at"]
    admin_only_actions = {"create", "destroy"}

    def get_queryset(self):
        return site_list(user=self.request.user)

    def perform_destroy(self, instance: Site) -> None:
        site_delete(site=instance)


class SensorViewSet(SiteScopedViewSet):
    """Sensors of your sites. Managers of a sensor's site create, change and delete it and manage
    its key; the key appears only in the response that created or rotated it."""

    queryset = Sensor.objects.none()
    serializer_class = SensorSerializer
    filterset_class = SensorFilterSet
    ordering_fields = ["name", "site", "kind", "last_seen", "created_at"]

    def get_queryset(self):
        return sensor_list(user=self.request.user)

    def perform_destroy(self, instance: Sensor) -> None:
        sensor_delete(sensor=instance)

    @extend_schema(request=None, responses=SensorSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-key")
    def rotate_key(self, request, pk=None):
        """Give the sensor a new key (returned once in ``key``); the old key stops working at once."""
        sensor = self.get_object()
        sensor.new_key = sensor_key_rotate(sensor=sensor)
        return Response(self.get_serializer(sensor).data)

    @extend_schema(request=None, responses=SensorSerializer)
    @action(detail=True, methods=["post"], url_path="revoke-key")
    def revoke_key(self, request, pk=None):
        """Revoke the sensor's key; it cannot authenticate until a manager rotates a new one."""
        sensor = self.get_object()
        sensor_key_revoke(sensor=sensor)
        return Response(self.get_serializer(sensor).data)


class MembershipViewSet(SiteScopedViewSet):
    """Who holds which role where. Everyone sees the memberships of their sites; a site's managers
    grant, change and remove memberships of that site only."""

    queryset = Membership.objects.none()
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilterSet
    ordering_fields = ["created_at", "role", "site", "user"]

    def get_queryset(self):
        return membership_list(user=self.request.user)

    def perform_destroy(self, instance: Membership) -> None:
        membership_delete(membership=instance, by_platform_admin=user_is_platform_admin(self.request.user))


class ConfigChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """The configuration change log of the sites you manage: who created, changed or deleted a site,
    sensor, membership or notification channel, when, and each field from what to what (secrets
    never appear: a new sensor key or webhook secret is an action). Append-only; newest first."""

    queryset = ConfigChange.objects.none()
    serializer_class = ConfigChangeSerializer
    filterset_class = ConfigChangeFilterSet
    ordering_fields = ["created_at"]
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return config_change_list(user=self.request.user)


class UserMeView(generics.RetrieveAPIView):
    """You: your memberships with your role at each site, and whether you are a platform admin."""

    serializer_class = MeSerializer
    permission_classes = [IsAuthenticated]

    def get_object(self) -> User:
        memberships = Membership.objects.select_related("site")
        return User.objects.prefetch_related(Prefetch("memberships", queryset=memberships)).get(pk=self.request.user.pk)


class SensorMeView(generics.RetrieveAPIView):
    """The calling sensor's own configuration (site, thresholds, schedule); needs a sensor key."""

    serializer_class = SensorConfigSerializer
    authentication_classes = [SensorKeyAuthentication]
    permission_classes = [IsSensor]

    def get_object(self) -> Sensor:
        return self.request.auth
