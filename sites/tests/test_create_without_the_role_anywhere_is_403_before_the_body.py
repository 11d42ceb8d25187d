"""Someone who is nowhere a manager asking to create a sensor, membership or notification channel is told
they lack the role (403), whatever their body holds: not a list of field errors that invites them to fix it."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("endpoint", ["sensors", "memberships", "notification-channels"])
@pytest.mark.parametrize("body", [{}, {"site": "not a number"}])
def test_an_operator_gets_403_not_field_errors(make_site, make_member, client_for, endpoint, body):
    operator = make_member(make_site(), "operator")

    response = client_for(operator).post(f"/api/v1/{endpoint}/", body, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "You need the manager role at a site to do this."


def test_a_manager_still_gets_the_field_errors(make_site, make_member, client_for):
    manager = make_member(make_site(), "manager")

    response = client_for(manager).post("/api/v1/sensors/", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) >= {"site", "name"}
