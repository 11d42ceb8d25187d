import csv
import json
from collections.abc import Iterator
from datetime import UTC, timedelta

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts.api.filters import IncidentFilterSet, NotificationDeliveryFilterSet
from alerts.api.serializers import (
    AlarmReviewQuerySerializer,
    AlarmReviewSerializer,
    AssignSerializer,
    IncidentEventSerializer,
    IncidentWithActionsSerializer,
    NotificationChannelSerializer,
    NotificationDeliverySerializer,
    OptionalTextSerializer,
    ResolveSerializer,
    TextSerializer,
)
from alerts.exceptions import IncidentActionForbidden, IncidentError, IncidentInvalidInput, IncidentStateConflict
from alerts.models import Incident, IncidentPriority, NotificationChannel, NotificationDelivery
from alerts.notifications.services import (
    notification_channel_create,
    notification_channel_delete,
    notification_channel_rotate_secret,
    notification_channel_update,
)
from alerts.selectors import (
    incident_list,
    incident_timeline,
    notification_channel_list,
    notification_delivery_list,
    sensor_alarm_review,
    site_roles,
)
from alerts.services import (
    incident_acknowledge,
    incident_annotate,
    incident_assign,
    incident_hold,
    incident_reopen,
    incident_resolve,
)
from outcry.api.mixins import RefuseMalformedBodyMixin
from outcry.models import User
from sites.api.views import SiteScopedViewSet
from sites.models import Role


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The incident is not in a state that allows this."
    default_code = "conflict"


def api_error(error: IncidentError) -> exceptions.APIException:
    """The HTTP form of a workflow refusal: 403 role, 409 state, 400 input."""
    if isinstance(error, IncidentActionForbidden):
        return exceptions.PermissionDenied(error.message)
    if isinstance(error, IncidentStateConflict):
        return Conflict(error.message)
    if isinstance(error, IncidentInvalidInput) and error.field:
        return exceptions.ValidationError({error.field: [error.message]})
    return exceptions.ValidationError(error.message)


def with_priority_rank(queryset: QuerySet[Incident]) -> QuerySet[Incident]:
    ranks = [When(priority=value, then=Value(IncidentPriority.rank(value))) for value in IncidentPriority.values]
    return queryset.annotate(priority_rank=Case(*ranks, output_field=IntegerField()))


INCIDENT_ORDERING = ["opened_at", "last_detection_at", "updated_at", "peak_score", "priority_rank", "status", "id"]

ERRORS = {
    400: OpenApiResponse(description="Invalid input (the API's error shape)."),
    403: OpenApiResponse(description="Your role at the incident's site does not allow this."),
    404: OpenApiResponse(description="No such incident among your sites."),
    409: OpenApiResponse(
        description="The incident's state does not allow this, e.g. someone acknowledged it first: the message "
        'says who and when ("Incident 12 was already acknowledged by alice at 2026-11-24 05:31:02 UTC.").'
    ),
}


class IncidentViewSet(
    RefuseMalformedBodyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Incidents of your sites, newest first. Every member reads; operators and managers act.

    Each action answers 200 with the incident as it is now (with ``allowed_actions`` for you),
    403 when your role does not allow it, 409 when its state does not (the message names who got
    there first), 400 for bad input; a site you cannot see is 404.
    """

    queryset = Incident.objects.none()
    serializer_class = IncidentWithActionsSerializer
    filterset_class = IncidentFilterSet
    ordering_fields = INCIDENT_ORDERING
    ordering = ["-opened_at", "-id"]

    def get_queryset(self) -> QuerySet[Incident]:
        return with_priority_rank(incident_list(user=self.request.user))

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if self.request and self.request.user.is_authenticated:
            context["site_roles"] = site_roles(user=self.request.user)
        return context

    def handle_exception(self, exc):
        if isinstance(exc, IncidentError):
            exc = api_error(exc)
        return super().handle_exception(exc)

    def _respond(self, incident: Incident) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=incident.pk)).data)

    def _body(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=None, responses={200: IncidentWithActionsSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """new → acknowledged (or on_hold → acknowledged). Stops escalation."""
        return self._respond(incident_acknowledge(incident=self.get_object(), user=request.user))

    @extend_schema(request=AssignSerializer, responses={200: IncidentWithActionsSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign to a user id, "me", or null (unassign). Managers assign any operator or manager of
        the site; operators only themselves."""
        incident = self.get_object()
        value = self._body(AssignSerializer)["assignee"]
        assignee = _resolve_assignee(value, request.user, incident)
        return self._respond(incident_assign(incident=incident, user=request.user, assignee=assignee))

    @extend_schema(request=TextSerializer, responses={200: IncidentWithActionsSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def annotate(self, request, pk=None):
        """Add a note to the timeline (any status)."""
        incident = self.get_object()
        incident_annotate(incident=incident, user=request.user, text=self._body(TextSerializer)["text"])
        return self._respond(incident)

    @extend_schema(request=TextSerializer, responses={200: IncidentWithActionsSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        """new/acknowledged → on_hold; ``text`` says what it waits on."""
        incident = self.get_object()
        text = self._body(TextSerializer)["text"]
        return self._respond(incident_hold(incident=incident, user=request.user, text=text))

    @extend_schema(request=ResolveSerializer, responses={200: IncidentWithActionsSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Any open status → resolved, with a resolution and an optional note."""
        incident = self.get_object()
        body = self._body(ResolveSerializer)
        return self._respond(
            incident_resolve(incident=incident, user=request.user, resolution=body["resolution"], note=body["note"])
        )

    @extend_schema(request=OptionalTextSerializer, responses={200: IncidentWithActionsSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """resolved → acknowledged, with an optional reason."""
        incident = self.get_object()
        text = self._body(OptionalTextSerializer)["text"]
        return self._respond(incident_reopen(incident=incident, user=request.user, text=text))

    @extend_schema(responses={200: IncidentEventSerializer(many=True), 404: ERRORS[404]}, filters=False, parameters=[])
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def events(self, request, pk=None):
        """The incident's timeline, oldest first (not paginated): every transition, note,
        detection, escalation and notification."""
        incident = self.get_object()
        events = incident_timeline(user=request.user, incident=incident)
        return Response(IncidentEventSerializer(events, many=True).data)


def _resolve_assignee(value: str | None, user: User, incident: Incident) -> User | None:
    if value is None:
        return None
    if value == "me":
        return user
    if not str(value).isdigit():
        raise exceptions.ValidationError({"assignee": ['A user id, "me", or null.']})
    assignee = User.objects.filter(pk=int(value), is_active=True).first()
    if assignee is None:
        raise exceptions.ValidationError(
            # Word for word the refusal of an existing user who is not of the site: ids reveal nothing.
            {"assignee": [f"User {value} cannot be assigned: only operators and managers of {incident.site.name} can."]}
        )
    return assignee


CSV_COLUMNS = [
    "id",
    "site",
    "sensor",
    "location",
    "status",
    "priority",
    "peak_score",
    "detection_count",
    "opened_at",
    "last_detection_at",
    "acknowledged_at",
    "acknowledged_by",
    "assignee",
    "resolved_at",
    "resolved_by",
    "resolution",
    "resolution_note",
    "escalation_level",
]


class CsvRenderer(renderers.BaseRenderer):
    """Lets clients ask for text/csv; the body is streamed by the view, errors stay JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode() if data is not None else b""


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_time(moment) -> str:
    return moment.astimezone(UTC).isoformat() if moment else ""


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): an operator's
# note "=HYPERLINK(...)" must reach the manager who opens the export as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: str) -> str:
    """Free text for the CSV, prefixed with ' when a spreadsheet would read it as a formula."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _username(user) -> str:
    return _text_cell(user.username) if user else ""


def incident_csv_rows(incidents: QuerySet[Incident]) -> Iterator[list]:
    yield CSV_COLUMNS
    for incident in incidents.iterator(chunk_size=500):
        yield [
            incident.pk,
            _text_cell(incident.site.name),
            _text_cell(incident.sensor.name),
            _text_cell(incident.sensor.location),
            incident.status,
            incident.priority,
            f"{incident.peak_score:.4f}",
            incident.detection_count,
            _csv_time(incident.opened_at),
            _csv_time(incident.last_detection_at),
            _csv_time(incident.acknowledged_at),
            _username(incident.acknowledged_by),
            _username(incident.assignee),
            _csv_time(incident.resolved_at),
            _username(incident.resolved_by),
            incident.resolution,
            _text_cell(incident.resolution_note),
            incident.escalation_level,
        ]


class IncidentCsvExportView(generics.GenericAPIView):
    """The incident list as CSV (same filters and ordering as the list; not paginated; streamed)."""

    queryset = Incident.objects.none()
    filterset_class = IncidentFilterSet
    ordering_fields = INCIDENT_ORDERING
    ordering = ["-opened_at", "-id"]
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]
    pagination_class = None

    def get_queryset(self) -> QuerySet[Incident]:
        return with_priority_rank(incident_list(user=self.request.user))

    @extend_schema(
        operation_id="incidents_export_csv", responses={(200, "text/csv"): OpenApiTypes.STR, 400: ERRORS[400]}
    )
    def get(self, request):
        incidents = self.filter_queryset(self.get_queryset())
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in incident_csv_rows(incidents)), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="outcry-incidents-{stamp}.csv"'
        return response


class NotificationChannelViewSet(SiteScopedViewSet):
    """Email lists and signed webhooks that announce a site's incidents, managed by its managers.

    A webhook's signing secret is in ``secret`` only in the response that created it or rotated it
    (``POST …/rotate-secret/``). Only managers see channels.
    """

    queryset = NotificationChannel.objects.none()
    serializer_class = NotificationChannelSerializer
    ordering_fields = ["name", "site", "kind", "created_at"]
    filterset_fields = ["site", "kind", "enabled"]
    read_role = Role.MANAGER
    write_role = Role.MANAGER

    def get_queryset(self) -> QuerySet[NotificationChannel]:
        return notification_channel_list(user=self.request.user)

    def perform_create(self, serializer):
        self.check_object_permissions(self.request, serializer.validated_data["site"])
        serializer.instance = notification_channel_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = notification_channel_update(channel=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance: NotificationChannel) -> None:
        notification_channel_delete(channel=instance)

    @extend_schema(request=None, responses={200: NotificationChannelSerializer, 400: ERRORS[400]})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Give a webhook a new signing secret (returned once in ``secret``); the old one stops at once."""
        channel = self.get_object()
        if channel.kind != "webhook":
            raise exceptions.ValidationError("Only webhook channels have a secret.")
        return Response(self.get_serializer(notification_channel_rotate_secret(channel=channel)).data)


class NotificationDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """The delivery log: every announcement of an incident on a channel, its attempts and outcome
    (managers of the channel's site)."""

    queryset = NotificationDelivery.objects.none()
    serializer_class = NotificationDeliverySerializer
    filterset_class = NotificationDeliveryFilterSet
    ordering_fields = ["created_at", "sent_at", "status", "attempts"]

    def get_queryset(self) -> QuerySet[NotificationDelivery]:
        return notification_delivery_list(user=self.request.user)


class AlarmReviewView(generics.GenericAPIView):
    """How each of your sensors fared over the last ``days``: incidents by how operators resolved them,
    and a threshold advice drawn from it (``alerts.policy.threshold_advice``): the highest threshold
    that would still have raised every confirmed emergency and test, when it would have dropped false
    alarms. Every member of a site reads its sensors; only managers change thresholds."""

    pagination_class = None
    filter_backends = []

    @extend_schema(
        operation_id="alarm_review",
        parameters=[AlarmReviewQuerySerializer],
        responses={200: AlarmReviewSerializer, 400: ERRORS[400]},
    )
    def get(self, request):
        query = AlarmReviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        until = timezone.now()
        since = until - timedelta(days=query.validated_data["days"])
        sensors = sensor_alarm_review(
            user=request.user,
            since=since,
            until=until,
            site_id=query.validated_data.get("site"),
            sensor_id=query.validated_data.get("sensor"),
        )
        return Response(AlarmReviewSerializer({"since": since, "until": until, "sensors": sensors}).data)
