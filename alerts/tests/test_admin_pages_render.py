from django.test import Client

from alerts.notifications.services import notification_channel_create, notification_deliveries_create


def test_admin_lists_and_shows_incidents_events_channels_and_deliveries(make_user, make_incident):
    incident = make_incident()
    channel = notification_channel_create(
        site=incident.site, kind="webhook", name="SOC", url="https://x.example.org/", notify_on=["new"]
    )
    (delivery,) = notification_deliveries_create(incident=incident, reason="new")
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))

    for url in (
        "/admin/alerts/incident/",
        f"/admin/alerts/incident/{incident.pk}/change/",
        "/admin/alerts/incidentevent/",
        "/admin/alerts/notificationchannel/",
        f"/admin/alerts/notificationchannel/{channel.pk}/change/",
        "/admin/alerts/notificationdelivery/",
        f"/admin/alerts/notificationdelivery/{delivery.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/alerts/incident/add/").status_code == 403
    page = client.get(f"/admin/alerts/incident/{incident.pk}/change/").content.decode()
    assert 'name="detections"' not in page and "deletelink" not in page  # view only
    assert client.post(f"/admin/alerts/incident/{incident.pk}/change/", {"detections": []}).status_code == 403
