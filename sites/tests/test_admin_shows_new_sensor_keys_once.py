import re

import pytest

from sites.models import Membership, Role, Sensor
from sites.services import sensor_from_key, sensor_key_rotate


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def _keys(html: str) -> list[str]:
    return re.findall(r"osk_[0-9a-f]{12}_[A-Za-z0-9_\-]+", html)


def test_site_sensor_and_membership_pages_load(admin_client, make_site, make_sensor, make_member):
    site = make_site()
    sensor = make_sensor(site)
    make_member(site, Role.OPERATOR)
    membership = Membership.objects.get()

    for url in (
        "/admin/sites/site/",
        f"/admin/sites/site/{site.pk}/change/",
        "/admin/sites/sensor/",
        f"/admin/sites/sensor/{sensor.pk}/change/",
        "/admin/sites/membership/",
        f"/admin/sites/membership/{membership.pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_the_rotate_action_shows_each_new_key_once(admin_client, make_sensor):
    sensor = make_sensor()

    response = admin_client.post(
        "/admin/sites/sensor/", {"action": "rotate_keys", "_selected_action": [sensor.pk]}, follow=True
    )

    keys = _keys(response.content.decode())
    assert len(keys) == 1
    assert sensor_from_key(keys[0]) == sensor
    assert _keys(admin_client.get("/admin/sites/sensor/").content.decode()) == []


def test_the_change_page_never_shows_the_key_or_its_hash(admin_client, make_sensor):
    sensor = make_sensor()
    key = sensor_key_rotate(sensor=sensor)
    sensor.refresh_from_db()

    html = admin_client.get(f"/admin/sites/sensor/{sensor.pk}/change/").content.decode()

    assert key not in html
    assert sensor.key_hash not in html


def test_the_revoke_action_revokes_keys(admin_client, make_sensor):
    sensor = make_sensor()
    key = sensor_key_rotate(sensor=sensor)

    admin_client.post("/admin/sites/sensor/", {"action": "revoke_keys", "_selected_action": [sensor.pk]})

    assert sensor_from_key(key) is None
    assert Sensor.objects.get(pk=sensor.pk).key_revoked_at is not None


def test_adding_a_sensor_in_the_admin_shows_its_first_key(admin_client, make_site):
    site = make_site()

    response = admin_client.post(
        "/admin/sites/sensor/add/",
        {"site": site.pk, "name": "Gym", "location": "", "kind": "edge", "enabled": "on", "active_hours": "[]"},
        follow=True,
    )

    keys = _keys(response.content.decode())
    assert len(keys) == 1
    assert sensor_from_key(keys[0]).name == "Gym"
