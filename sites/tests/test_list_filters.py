from datetime import timedelta

import pytest
from django.utils import timezone

from sites.models import Role, SiteStatus


@pytest.fixture
def admin_client(make_user, client_for):
    return client_for(make_user(is_staff=True))


def _names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row.get("name") or row.get("username") for row in response.json()["results"]}


def test_sites_filter_by_status_and_slug(make_site, admin_client):
    make_site("Open", slug="open")
    make_site("Paused", slug="paused", status=SiteStatus.PAUSED)

    assert _names(admin_client.get("/api/v1/sites/?status=paused")) == {"Paused"}
    assert _names(admin_client.get("/api/v1/sites/?slug=open")) == {"Open"}


def test_sensors_filter_by_site_kind_enabled_and_status(make_site, make_sensor, admin_client):
    north, south = make_site(), make_site()
    make_sensor(north, "Online", last_seen=timezone.now())
    make_sensor(north, "Stale", last_seen=timezone.now() - timedelta(hours=1))
    make_sensor(north, "Never seen")
    make_sensor(south, "Off", enabled=False, kind="browser", last_seen=timezone.now())

    assert _names(admin_client.get(f"/api/v1/sensors/?site={south.pk}")) == {"Off"}
    assert _names(admin_client.get("/api/v1/sensors/?kind=browser")) == {"Off"}
    assert _names(admin_client.get("/api/v1/sensors/?enabled=false")) == {"Off"}
    assert _names(admin_client.get("/api/v1/sensors/?status=online")) == {"Online"}
    assert _names(admin_client.get("/api/v1/sensors/?status=offline")) == {"Stale", "Never seen"}
    assert _names(admin_client.get("/api/v1/sensors/?status=disabled")) == {"Off"}


def test_memberships_filter_by_site_role_and_user(make_site, make_member, admin_client):
    north, south = make_site(), make_site()
    manager = make_member(north, Role.MANAGER)
    make_member(south, Role.VIEWER, user=manager)
    viewer = make_member(north, Role.VIEWER)

    def usernames(query):
        return {
            (row["username"], row["site"])
            for row in admin_client.get(f"/api/v1/memberships/?{query}").json()["results"]
        }

    assert usernames(f"site={north.pk}") == {(manager.username, north.pk), (viewer.username, north.pk)}
    assert usernames("role=viewer") == {(manager.username, south.pk), (viewer.username, north.pk)}
    assert usernames(f"user={viewer.pk}") == {(viewer.username, north.pk)}


def test_filtering_on_a_site_you_cannot_see_looks_like_no_such_site(make_site, make_sensor, make_member, client_for):
    mine, theirs = make_site(), make_site()
    make_sensor(theirs)
    client = client_for(make_member(mine, Role.MANAGER))

    hidden = client.get(f"/api/v1/sensors/?site={theirs.pk}")
    missing = client.get("/api/v1/sensors/?site=999999")

    assert hidden.status_code == missing.status_code == 200
    assert hidden.json()["results"] == missing.json()["results"] == []


def test_lists_are_paginated(make_site, admin_client):
    for _ in range(3):
        make_site()

    body = admin_client.get("/api/v1/sites/?page_size=2").json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"].endswith("page=2&page_size=2")
