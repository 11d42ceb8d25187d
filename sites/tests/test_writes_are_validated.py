import pytest

from sites.models import Membership, Role, Sensor


@pytest.fixture
def manager(make_site, make_member, client_for):
    site = make_site()
    return site, client_for(make_member(site, Role.MANAGER))


def _fields(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "active_hours",
    [
        {"days": [0]},
        [{"days": [7], "start": "08:00", "end": "09:00"}],
        [{"days": [], "start": "08:00", "end": "09:00"}],
        [{"days": [1], "start": "8am", "end": "09:00"}],
        [{"days": [1], "start": "08:00", "end": "24:00"}],
        [{"days": [1], "start": "08:00"}],
    ],
)
def test_a_malformed_schedule_is_refused(manager, active_hours):
    site, client = manager

    response = client.post(
        "/api/v1/sensors/", {"site": site.pk, "name": "Mic", "active_hours": active_hours}, format="json"
    )

    assert "active_hours" in _fields(response)
    assert not Sensor.objects.exists()


def test_a_schedule_may_run_past_midnight(manager):
    site, client = manager
    schedule = [{"days": [4, 5], "start": "22:00", "end": "06:00"}]

    response = client.post(
        "/api/v1/sensors/", {"site": site.pk, "name": "Mic", "active_hours": schedule}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["active_hours"] == schedule


def test_threshold_override_must_be_a_probability(manager):
    site, client = manager

    response = client.post(
        "/api/v1/sensors/", {"site": site.pk, "name": "Mic", "threshold_override": 1.5}, format="json"
    )

    assert "threshold_override" in _fields(response)


def test_two_sensors_of_a_site_cannot_share_a_name(manager, make_sensor):
    site, client = manager
    make_sensor(site, "Gym")

    response = client.post("/api/v1/sensors/", {"site": site.pk, "name": "Gym"}, format="json")

    assert response.status_code == 400


def test_a_sensor_does_not_move_between_sites(manager, make_sensor, make_site, make_member):
    site, client = manager
    sensor = make_sensor(site)
    elsewhere = make_site()

    response = client.patch(f"/api/v1/sensors/{sensor.pk}/", {"site": elsewhere.pk, "name": "Renamed"}, format="json")

    assert "site" in _fields(response)  # refused, not silently ignored
    renamed = sensor.name
    sensor.refresh_from_db()
    assert (sensor.site, sensor.name) == (site, renamed)


def test_an_unknown_role_is_refused(manager, make_user):
    site, client = manager

    response = client.post(
        "/api/v1/memberships/", {"user": make_user().pk, "site": site.pk, "role": "owner"}, format="json"
    )

    assert "role" in _fields(response)


def test_a_user_holds_one_membership_per_site(manager, make_member):
    site, client = manager
    viewer = make_member(site, Role.VIEWER)

    response = client.post(
        "/api/v1/memberships/", {"user": viewer.pk, "site": site.pk, "role": "manager"}, format="json"
    )

    assert response.status_code == 400
    assert Membership.objects.get(user=viewer).role == Role.VIEWER


def test_a_membership_update_may_change_only_the_role(manager, make_member, make_site, make_user):
    site, client = manager
    viewer = make_member(site, Role.VIEWER)
    membership = Membership.objects.get(user=viewer)

    response = client.patch(
        f"/api/v1/memberships/{membership.pk}/",
        {"role": "operator", "site": make_site().pk, "user": make_user().pk},
        format="json",
    )

    assert {"site", "user"} & set(_fields(response))  # refused, not silently ignored
    membership.refresh_from_db()
    assert (membership.user, membership.site, membership.role) == (viewer, site, Role.VIEWER)
    response = client.patch(f"/api/v1/memberships/{membership.pk}/", {"role": "operator"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "operator"


def test_site_timezone_must_be_known(make_user, client_for):
    client = client_for(make_user(is_staff=True))

    response = client.post("/api/v1/sites/", {"name": "X", "slug": "x", "timezone": "Mars/Olympus"}, format="json")

    assert "timezone" in _fields(response)


def test_renaming_a_sensor_to_a_taken_name_is_refused(manager, make_sensor):
    site, client = manager
    make_sensor(site, "Gym")
    other = make_sensor(site, "Hall")

    response = client.patch(f"/api/v1/sensors/{other.pk}/", {"name": "Gym"}, format="json")

    assert response.status_code == 400
    other.refresh_from_db()
    assert other.name == "Hall"


@pytest.mark.parametrize("days", [0, -3, 3651, "a month", 2.5])
def test_audio_retention_must_be_1_to_3650_whole_days(manager, days):
    site, client = manager

    response = client.patch(f"/api/v1/sites/{site.pk}/", {"audio_retention_days": days}, format="json")

    assert "audio_retention_days" in _fields(response)
    site.refresh_from_db()
    assert site.audio_retention_days is None


def test_a_manager_sets_the_sites_audio_retention_or_clears_it_for_the_servers(manager, settings):
    site, client = manager
    settings.AUDIO_RETENTION_DAYS = 30

    body = client.patch(f"/api/v1/sites/{site.pk}/", {"audio_retention_days": 7}, format="json").json()
    assert (body["audio_retention_days"], body["effective_audio_retention_days"]) == (7, 7)

    body = client.patch(f"/api/v1/sites/{site.pk}/", {"audio_retention_days": None}, format="json").json()
    assert (body["audio_retention_days"], body["effective_audio_retention_days"]) == (None, 30)


def test_a_membership_changes_only_its_role_and_naming_the_same_site_is_fine(manager, make_site, make_sensor):
    site, client = manager
    other = make_site()
    sensor = make_sensor(site, "Gym mic")
    membership = Membership.objects.get(site=site)

    assert "site" in _fields(client.patch(f"/api/v1/memberships/{membership.pk}/", {"site": other.pk}, format="json"))
    same_site = client.patch(f"/api/v1/sensors/{sensor.pk}/", {"site": site.pk, "name": "Gym mic 2"}, format="json")
    assert same_site.status_code == 200 and same_site.json()["name"] == "Gym mic 2"
    assert Sensor.objects.get(pk=sensor.pk).site == site


def test_a_second_sensor_of_the_same_name_at_a_site_is_refused_in_words(manager, make_sensor):
    site, client = manager
    make_sensor(site, "Gym")

    response = client.post("/api/v1/sensors/", {"site": site.pk, "name": "Gym"}, format="json")

    assert response.json()["error"]["message"] == "This site already has a sensor with this name."
