"""Managers configure their sites' channels; a webhook's secret is shown once."""

import pytest

from alerts.models import NotificationChannel
from alerts.notifications.services import notification_channel_create, notification_deliveries_create


@pytest.fixture
def world(make_site, make_member):
    site = make_site()
    return {"site": site, "manager": make_member(site, "manager")}


def test_webhook_secret_is_shown_at_creation_and_never_again(world, client_for):
    client = client_for(world["manager"])

    created = client.post(
        "/api/v1/notification-channels/",
        {
            "site": world["site"].pk,
            "kind": "webhook",
            "name": "SOC",
            "url": "https://soc.example.org/outcry",
            "notify_on": ["new", "escalation"],
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    body = created.json()
    channel = NotificationChannel.objects.get(pk=body["id"])
    assert body["secret"] == channel.secret and len(channel.secret) >= 32
    assert body["notify_on"] == ["new", "escalation"]
    assert client.get(f"/api/v1/notification-channels/{channel.pk}/").json()["secret"] is None
    assert client.get("/api/v1/notification-channels/").json()["results"][0]["secret"] is None

    rotated = client.post(f"/api/v1/notification-channels/{channel.pk}/rotate-secret/").json()
    channel.refresh_from_db()
    assert rotated["secret"] == channel.secret != body["secret"]


def test_email_channel_has_no_secret(world, client_for):
    body = (
        client_for(world["manager"])
        .post(
            "/api/v1/notification-channels/",
            {
                "site": world["site"].pk,
                "kind": "email",
                "name": "Desk",
                "recipients": ["desk@example.org"],
                "notify_on": ["escalation"],
            },
            format="json",
        )
        .json()
    )

    assert body["secret"] is None and body["recipients"] == ["desk@example.org"]
    assert NotificationChannel.objects.get(pk=body["id"]).secret == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "email", "name": "Desk", "notify_on": ["new"]}, "recipients"),
        ({"kind": "email", "name": "Desk", "recipients": ["not-an-address"], "notify_on": ["new"]}, "recipients"),
        ({"kind": "webhook", "name": "SOC", "notify_on": ["new"]}, "url"),
        ({"kind": "webhook", "name": "SOC", "url": "ftp://x.example.org/", "notify_on": ["new"]}, "url"),
        ({"kind": "webhook", "name": "SOC", "url": "https://x.example.org/", "notify_on": []}, "notify_on"),
        ({"kind": "sms", "name": "SOC", "notify_on": ["new"]}, "kind"),
    ],
)
def test_invalid_channels_are_400_on_the_field(world, client_for, body, field):
    response = client_for(world["manager"]).post(
        "/api/v1/notification-channels/", {"site": world["site"].pk, **body}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not NotificationChannel.objects.exists()


def test_kind_and_site_cannot_change(world, client_for, make_site, make_member):
    channel = notification_channel_create(
        site=world["site"], kind="email", name="Desk", recipients=["a@example.org"], notify_on=["new"]
    )
    other = make_site()
    make_member(other, "manager", user=world["manager"])
    client = client_for(world["manager"])

    url = f"/api/v1/notification-channels/{channel.pk}/"
    assert client.patch(url, {"kind": "webhook"}, format="json").status_code == 400
    assert client.patch(url, {"site": other.pk}, format="json").status_code == 400
    assert client.patch(url, {"recipients": ["b@example.org"]}, format="json").json()["recipients"] == ["b@example.org"]


def test_delivery_log_lists_the_sites_deliveries(world, client_for, make_incident, make_sensor):
    incident = make_incident(make_sensor(world["site"]))
    channel = notification_channel_create(
        site=world["site"], kind="webhook", name="SOC", url="https://x.example.org/", notify_on=["new"]
    )
    (delivery,) = notification_deliveries_create(incident=incident, reason="new")

    body = client_for(world["manager"]).get(f"/api/v1/notification-deliveries/?incident={incident.pk}").json()

    (row,) = body["results"]
    assert row["id"] == delivery.pk
    assert row["channel"] == {"id": channel.pk, "name": "SOC", "kind": "webhook"}
    assert (row["site"], row["incident"], row["reason"], row["status"], row["attempts"]) == (
        world["site"].pk,
        incident.pk,
        "new",
        "pending",
        0,
    )


def test_api_root_lists_the_alerts_endpoints(client_for, world):
    endpoints = client_for(world["manager"]).get("/api/v1/").json()["endpoints"]

    assert endpoints["incidents"].endswith("/api/v1/incidents/")
    assert endpoints["incidents/export.csv"].endswith("/api/v1/incidents/export.csv")
    assert endpoints["notification-channels"].endswith("/api/v1/notification-channels/")
    assert endpoints["notification-deliveries"].endswith("/api/v1/notification-deliveries/")
