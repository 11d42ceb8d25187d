from rest_framework.test import APIClient


def test_the_api_root_links_every_resource(db):
    response = APIClient().get("/api/v1/")

    assert response.status_code == 200
    endpoints = response.json()["endpoints"]
    assert set(endpoints) >= {
        "users/me",
        "auth/token",
        "auth/tokens",
        "sites",
        "sensors",
        "sensors/me",
        "memberships",
        "docs",
    }
    assert endpoints["sites"] == "http://testserver/api/v1/sites/"
