from datetime import timedelta

from django.utils import timezone

from sites.models import Role
from sites.services import sensor_key_rotate


def test_a_sensor_shows_status_key_state_and_effective_settings(make_site, make_sensor, make_member, client_for):
    site = make_site(default_threshold=0.6, default_cooldown_s=120)
    sensor = make_sensor(site, threshold_override=0.8, last_seen=timezone.now(), level_dbfs=-32.5)
    sensor_key_rotate(sensor=sensor)

    body = client_for(make_member(site, Role.VIEWER)).get(f"/api/v1/sensors/{sensor.pk}/").json()

    assert body["status"] == "online"
    assert body["has_active_key"] is True
    assert body["effective_threshold"] == 0.8
    assert body["effective_cooldown_s"] == 120
    assert body["level_dbfs"] == -32.5
    assert body["last_seen"] is not None
    assert "key_hash" not in body
    assert "key_lookup_id" not in body


def test_sensor_status_is_offline_when_quiet_and_disabled_when_switched_off(
    make_site, make_sensor, make_member, client_for
):
    site = make_site()
    quiet = make_sensor(site, last_seen=timezone.now() - timedelta(minutes=5))
    off = make_sensor(site, enabled=False, last_seen=timezone.now())
    client = client_for(make_member(site, Role.VIEWER))

    assert client.get(f"/api/v1/sensors/{quiet.pk}/").json()["status"] == "offline"
    assert client.get(f"/api/v1/sensors/{off.pk}/").json()["status"] == "disabled"


def test_a_manager_updates_their_site_settings(make_site, make_member, client_for):
    site = make_site()
    client = client_for(make_member(site, Role.MANAGER))

    response = client.patch(f"/api/v1/sites/{site.pk}/", {"default_threshold": 0.65, "status": "paused"}, format="json")

    assert response.status_code == 200
    site.refresh_from_db()
    assert (site.default_threshold, site.status) == (0.65, "paused")


def test_an_admin_creates_and_deletes_a_site(make_user, client_for):
    client = client_for(make_user(is_staff=True))

    created = client.post(
        "/api/v1/sites/", {"name": "Depot", "slug": "depot", "timezone": "Europe/Paris"}, format="json"
    )
    deleted = client.delete(f"/api/v1/sites/{created.json()['id']}/")

    assert created.status_code == 201
    assert created.json()["timezone"] == "Europe/Paris"
    assert deleted.status_code == 204
    assert client.get(f"/api/v1/sites/{created.json()['id']}/").status_code == 404
