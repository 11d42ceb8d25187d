import pytest

from outcry.models import hash_secret
from sites.models import Role, Sensor
from sites.services import sensor_from_key


@pytest.fixture
def manager_client(make_site, make_member, client_for):
    site = make_site()
    return site, client_for(make_member(site, Role.MANAGER))


def _stored_values(sensor: Sensor) -> list[str]:
    return [str(value) for value in Sensor.objects.filter(pk=sensor.pk).values().get().values()]


def test_creating_a_sensor_returns_a_working_key_once(manager_client):
    site, client = manager_client

    created = client.post("/api/v1/sensors/", {"site": site.pk, "name": "Gym"}, format="json")

    assert created.status_code == 201
    key = created.json()["key"]
    sensor = Sensor.objects.get(pk=created.json()["id"])
    assert key.startswith("osk_")
    assert sensor_from_key(key) == sensor
    assert created.json()["has_active_key"] is True
    assert "key" not in client.get(f"/api/v1/sensors/{sensor.pk}/").json()
    assert "key" not in client.get("/api/v1/sensors/").json()["results"][0]


def test_the_raw_key_is_never_stored(manager_client):
    site, client = manager_client

    key = client.post("/api/v1/sensors/", {"site": site.pk, "name": "Gym"}, format="json").json()["key"]

    sensor = Sensor.objects.get(name="Gym")
    assert all(key not in value for value in _stored_values(sensor))
    assert sensor.key_hash == hash_secret(key)


def test_key_hash_never_appears_in_responses(manager_client, make_sensor):
    site, client = manager_client
    sensor = make_sensor(site)
    client.post(f"/api/v1/sensors/{sensor.pk}/rotate-key/")
    sensor.refresh_from_db()

    body = client.get(f"/api/v1/sensors/{sensor.pk}/").content.decode()

    assert "key_hash" not in body
    assert sensor.key_hash not in body


def test_rotating_returns_a_new_key_and_the_old_one_stops_working(manager_client):
    site, client = manager_client
    created = client.post("/api/v1/sensors/", {"site": site.pk, "name": "Gym"}, format="json").json()

    rotated = client.post(f"/api/v1/sensors/{created['id']}/rotate-key/")

    assert rotated.status_code == 200
    new_key = rotated.json()["key"]
    assert new_key != created["key"]
    assert sensor_from_key(created["key"]) is None
    assert sensor_from_key(new_key).pk == created["id"]


def test_revoking_stops_the_key_until_a_new_one_is_rotated(manager_client):
    site, client = manager_client
    created = client.post("/api/v1/sensors/", {"site": site.pk, "name": "Gym"}, format="json").json()

    revoked = client.post(f"/api/v1/sensors/{created['id']}/revoke-key/")

    assert revoked.status_code == 200
    assert revoked.json()["has_active_key"] is False
    assert revoked.json()["key_revoked_at"] is not None
    assert "key" not in revoked.json()
    assert sensor_from_key(created["key"]) is None
    assert Sensor.objects.get(pk=created["id"]).key_hash == ""

    new_key = client.post(f"/api/v1/sensors/{created['id']}/rotate-key/").json()["key"]
    assert sensor_from_key(new_key).pk == created["id"]


def test_a_disabled_sensor_key_does_not_authenticate(manager_client):
    site, client = manager_client
    created = client.post("/api/v1/sensors/", {"site": site.pk, "name": "Gym"}, format="json").json()

    client.patch(f"/api/v1/sensors/{created['id']}/", {"enabled": False}, format="json")

    assert sensor_from_key(created["key"]) is None
