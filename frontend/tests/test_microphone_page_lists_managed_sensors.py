"""The microphone page: for signed-in people, listing only the sensors they manage, never a key."""

import json

import pytest

from sites.models import Role
from sites.services import sensor_create, sensor_key_revoke

pytestmark = pytest.mark.django_db


def _config(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="page-config" type="application/json">') + len(
        '<script id="page-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_managers_see_their_sites_sensors_and_no_key(client, make_site, make_member):
    managed, watched = make_site("Managed"), make_site("Watched")
    browser_sensor, key = sensor_create(site=managed, name="Front desk laptop", kind="browser")
    revoked, _ = sensor_create(site=managed, name="Old mic")
    sensor_key_revoke(sensor=revoked)
    sensor_create(site=watched, name="Not mine")
    user = make_member(managed, Role.MANAGER)
    make_member(watched, Role.OPERATOR, user=user)
    client.force_login(user)

    response = client.get("/microphone/")
    assert response.status_code == 200
    assert key not in response.content.decode()
    sensors = {sensor["name"]: sensor for sensor in _config(response)["sensors"]}
    assert set(sensors) == {"Front desk laptop", "Old mic"}
    assert sensors["Front desk laptop"] == {
        "id": browser_sensor.pk,
        "name": "Front desk laptop",
        "site": {"id": managed.pk, "name": "Managed"},
        "kind": "browser",
        "usable": True,
    }
    assert sensors["Old mic"]["usable"] is False
    assert b"microphone.js" in response.content and b"microphone-worklet.js" in response.content


def test_people_who_manage_nothing_are_told_so(client, make_site, make_member):
    client.force_login(make_member(make_site(), Role.OPERATOR))
    response = client.get("/microphone/")
    assert b"No sensor you manage" in response.content
    assert b"microphone.js" not in response.content


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/microphone/")
    assert response.status_code == 302 and response.url.startswith("/login/")
