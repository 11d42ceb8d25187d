"""An id filter with a number no database column holds (or not a whole number from 1) is a 400 naming the
parameter, never a 500 from the driver's overflow; an id in the path that large is a plain 404."""

import pytest

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"
FILTERS = [
    ("incidents/", "site"),
    ("incidents/", "sensor"),
    ("incidents/export.csv", "site"),
    ("recordings/", "site"),
    ("recordings/", "sensor"),
    ("detections/", "site"),
    ("detections/", "recording"),
    ("sensors/", "site"),
    ("memberships/", "site"),
    ("memberships/", "user"),
    ("config-changes/", "site"),
    ("config-changes/", "actor"),
    ("config-changes/", "object_id"),
    ("notification-deliveries/", "site"),
    ("notification-deliveries/", "channel"),
    ("notification-deliveries/", "incident"),
    ("alarm-review/", "site"),
    ("alarm-review/", "sensor"),
]


@pytest.fixture
def manager_client(make_site, make_member, client_for):
    client = client_for(make_member(make_site(), "manager"))
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(("endpoint", "parameter"), FILTERS)
@pytest.mark.parametrize("value", [HUGE, "0", "-3", "1.5"])
def test_an_id_filter_out_of_range_is_a_400_naming_it(manager_client, endpoint, parameter, value):
    response = manager_client.get(f"/api/v1/{endpoint}", {parameter: value})

    assert response.status_code == 400, response.content[:300]
    assert parameter in response.json()["error"]["fields"]


@pytest.mark.parametrize("endpoint", ["incidents", "sensors", "sites", "recordings", "detections", "memberships"])
def test_a_huge_id_in_the_path_is_a_404(manager_client, endpoint):
    assert manager_client.get(f"/api/v1/{endpoint}/{HUGE}/").status_code == 404


def test_a_score_filter_out_of_range_is_not_a_500(manager_client):
    assert manager_client.get("/api/v1/detections/", {"min_score": "1e400"}).status_code in (200, 400)
