"""Who may do what, on their own site and on someone else's: every role, endpoint and target.

Roles, in ``ROLES`` order: anonymous (no credentials), none (signed in, no membership),
viewer / operator / manager of the *own* site, admin (platform admin).
Objects on a site the user cannot see are 404 (existence does not leak); visible but not allowed
is 403; a site named in a request body that the user cannot see is refused like a nonexistent
one (400).
"""

import pytest

from outcry.tests.api_matrix import Row, assert_row, matrix_params, statuses

#                 anonymous none viewer operator manager admin
READ_OWN = statuses(401, 404, 200, 200, 200, 200)
READ_OTHER = statuses(401, 404, 404, 404, 404, 200)
MANAGE_OWN = statuses(401, 404, 403, 403, 200, 200)
MANAGE_OTHER = statuses(401, 404, 404, 404, 404, 200)
DELETE_OWN = statuses(401, 404, 403, 403, 204, 204)
DELETE_OTHER = statuses(401, 404, 404, 404, 404, 204)
CREATE_OWN = statuses(401, 403, 403, 403, 201, 201)
# Who holds the manager role nowhere is refused before the body is read; a manager naming a site they
# cannot see gets the same 400 as for a site that does not exist.
CREATE_OTHER = statuses(401, 403, 403, 403, 400, 201)
EVERYONE_SIGNED_IN = statuses(401, 200, 200, 200, 200, 200)


def _site(target):
    return lambda w: f"/api/v1/sites/{getattr(w, target).pk}/"


def _sensor(target, suffix=""):
    return lambda w: f"/api/v1/sensors/{w.sensor[target].pk}/{suffix}"


def _membership(target):
    return lambda w: f"/api/v1/memberships/{w.bystander[target].pk}/"


def _rows_for_both_targets(action, method, url, own, other, body=None):
    return [
        Row(action, method, url("own"), "own", own, body),
        Row(action, method, url("other"), "other", other, body),
    ]


ROWS = [
    Row("site list", "get", lambda w: "/api/v1/sites/", "-", EVERYONE_SIGNED_IN),
    *_rows_for_both_targets("site retrieve", "get", _site, READ_OWN, READ_OTHER),
    Row(
        "site create",
        "post",
        lambda w: "/api/v1/sites/",
        "-",
        statuses(401, 403, 403, 403, 403, 201),
        lambda w: {"name": "New site", "slug": "new-site"},
    ),
    *_rows_for_both_targets("site update", "patch", _site, MANAGE_OWN, MANAGE_OTHER, lambda w: {"name": "Renamed"}),
    *_rows_for_both_targets("site delete", "delete", _site, statuses(401, 404, 403, 403, 403, 204), DELETE_OTHER),
    Row("sensor list", "get", lambda w: "/api/v1/sensors/", "-", EVERYONE_SIGNED_IN),
    *_rows_for_both_targets("sensor retrieve", "get", _sensor, READ_OWN, READ_OTHER),
    Row(
        "sensor create",
        "post",
        lambda w: "/api/v1/sensors/",
        "own",
        CREATE_OWN,
        lambda w: {"site": w.own.pk, "name": "New mic"},
    ),
    Row(
        "sensor create",
        "post",
        lambda w: "/api/v1/sensors/",
        "other",
        CREATE_OTHER,
        lambda w: {"site": w.other.pk, "name": "New mic"},
    ),
    *_rows_for_both_targets(
        "sensor update", "patch", _sensor, MANAGE_OWN, MANAGE_OTHER, lambda w: {"location": "Moved"}
    ),
    *_rows_for_both_targets("sensor delete", "delete", _sensor, DELETE_OWN, DELETE_OTHER),
    *_rows_for_both_targets("sensor rotate-key", "post", lambda t: _sensor(t, "rotate-key/"), MANAGE_OWN, MANAGE_OTHER),
    *_rows_for_both_targets("sensor revoke-key", "post", lambda t: _sensor(t, "revoke-key/"), MANAGE_OWN, MANAGE_OTHER),
    Row("membership list", "get", lambda w: "/api/v1/memberships/", "-", EVERYONE_SIGNED_IN),
    *_rows_for_both_targets("membership retrieve", "get", _membership, READ_OWN, READ_OTHER),
    Row(
        "membership create",
        "post",
        lambda w: "/api/v1/memberships/",
        "own",
        CREATE_OWN,
        lambda w: {"username": w.newcomer.username, "site": w.own.pk, "role": "operator"},
    ),
    Row(
        "membership create",
        "post",
        lambda w: "/api/v1/memberships/",
        "other",
        CREATE_OTHER,
        lambda w: {"username": w.newcomer.username, "site": w.other.pk, "role": "operator"},
    ),
    *_rows_for_both_targets(
        "membership update", "patch", _membership, MANAGE_OWN, MANAGE_OTHER, lambda w: {"role": "manager"}
    ),
    *_rows_for_both_targets("membership delete", "delete", _membership, DELETE_OWN, DELETE_OTHER),
    Row("users/me", "get", lambda w: "/api/v1/users/me/", "-", EVERYONE_SIGNED_IN),
]


@pytest.mark.parametrize(("row", "role"), matrix_params(ROWS))
def test_permission_matrix(row, role, world, client_for, site_data_snapshot):
    assert_row(client=client_for(world.actors[role]), row=row, role=role, world=world, snapshot=site_data_snapshot)


def _visible_ids(world, role, rows_of):
    if role == "admin":
        return rows_of(world.own) | rows_of(world.other)
    if role == "none":
        return set()
    return rows_of(world.own)


LISTS = {
    "/api/v1/sites/": lambda site: {site.pk},
    "/api/v1/sensors/": lambda site: set(site.sensors.values_list("pk", flat=True)),
    "/api/v1/memberships/": lambda site: set(site.memberships.values_list("pk", flat=True)),
}


@pytest.mark.parametrize("url", list(LISTS))
@pytest.mark.parametrize("role", ["none", "viewer", "operator", "manager", "admin"])
def test_lists_show_exactly_the_rows_of_visible_sites(url, role, world, client_for):
    response = client_for(world.actors[role]).get(url)

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == _visible_ids(world, role, LISTS[url])
