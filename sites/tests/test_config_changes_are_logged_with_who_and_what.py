"""Every change to a site's configuration (the site, its sensors, memberships and notification
channels) is logged with who made it, when, and each field from what to what, whichever way it was
made; secrets never reach the log; the log is for the site's managers and cannot be changed."""

import io
import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from alerts.models import NotificationChannel
from outcry.models import AppendOnlyError
from outcry.services import api_token_create
from sites.models import ConfigChange, Membership, Role, Sensor
from sites.services import sensor_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_site, make_sensor, make_member, make_user, client_for):
    site, other = make_site("Gym site"), make_site("Harbour")
    manager = make_member(site, Role.MANAGER)
    return type(
        "World",
        (),
        {
            "site": site,
            "other": other,
            "sensor": make_sensor(site, "Gym north"),
            "other_sensor": make_sensor(other, "Quay"),
            "manager": manager,
            "operator": make_member(site, Role.OPERATOR),
            "client": client_for(manager),
        },
    )


def log(**filters) -> list[ConfigChange]:
    return list(ConfigChange.objects.filter(**filters).order_by("id"))


def test_a_manager_silencing_a_sensor_and_lowering_its_threshold_is_one_entry_with_both_changes(world):
    before = ConfigChange.objects.count()  # the fixtures' own creations are logged too (no actor)

    response = world.client.patch(
        f"/api/v1/sensors/{world.sensor.pk}/",
        {"threshold_override": 0.3, "silenced_until": "2030-01-01T00:00:00Z", "name": "Gym north"},
        format="json",
    )

    assert response.status_code == 200
    assert ConfigChange.objects.count() == before + 1
    (entry,) = log(object_type="sensor", action="changed")
    assert (entry.actor, entry.actor_name, entry.site_id, entry.site_name) == (
        world.manager,
        world.manager.username,
        world.site.pk,
        "Gym site",
    )
    assert (entry.object_id, entry.object_repr) == (world.sensor.pk, "Gym site / Gym north")
    assert entry.changes == {
        "threshold_override": [None, 0.3],
        "silenced_until": [None, "2030-01-01T00:00:00+00:00"],
    }  # the unchanged name is not listed


def test_key_issue_and_revocation_are_actions_and_no_key_material_is_logged(world):
    rotated = world.client.post(f"/api/v1/sensors/{world.sensor.pk}/rotate-key/").json()
    world.client.post(f"/api/v1/sensors/{world.sensor.pk}/revoke-key/")

    entries = log(object_type="sensor", object_id=world.sensor.pk, actor=world.manager)
    assert [entry.action for entry in entries] == ["key_issued", "key_revoked"]
    assert all(entry.changes == {} for entry in entries)
    dumped = json.dumps([entry.changes for entry in ConfigChange.objects.all()])
    key_hash = Sensor.objects.get(pk=world.sensor.pk).key_hash
    assert rotated["key"] not in dumped and rotated["key"].split("_", 2)[2] not in dumped
    assert key_hash == "" or key_hash not in dumped


def test_memberships_granted_changed_and_removed_are_logged(world, make_user):
    make_user(username="newcomer")
    membership = world.client.post(
        "/api/v1/memberships/", {"username": "newcomer", "site": world.site.pk, "role": "viewer"}, format="json"
    ).json()
    world.client.patch(f"/api/v1/memberships/{membership['id']}/", {"role": "operator"}, format="json")
    world.client.delete(f"/api/v1/memberships/{membership['id']}/")

    entries = log(object_type="membership", object_id=membership["id"])
    assert [(entry.action, entry.changes) for entry in entries] == [
        ("created", {"user": [None, "newcomer"], "site": [None, "Gym site"], "role": [None, "viewer"]}),
        ("changed", {"role": ["viewer", "operator"]}),
        ("deleted", {"user": ["newcomer", None], "site": ["Gym site", None], "role": ["operator", None]}),
    ]  # who and where by name, not by id: the log reads without lookups
    assert all(entry.actor == world.manager for entry in entries)
    assert not Membership.objects.filter(pk=membership["id"]).exists()


def test_a_sensor_moved_to_another_site_is_logged_with_both_sites_names(world):
    world.sensor.site = world.other
    world.sensor.save()

    (entry,) = log(object_type="sensor", object_id=world.sensor.pk, action="changed")
    assert entry.changes == {"site": ["Gym site", "Harbour"]}


def test_a_sensor_moved_between_two_sites_of_the_same_name_is_still_logged(world, make_site):
    namesake = make_site("Gym site")  # names need not be unique: changes are compared as ids
    world.sensor.site = namesake
    world.sensor.save()

    (entry,) = log(object_type="sensor", object_id=world.sensor.pk, action="changed")
    assert entry.changes == {"site": [f"Gym site (id {world.site.pk})", f"Gym site (id {namesake.pk})"]}


def test_a_foreign_key_whose_row_is_gone_keeps_its_id(world):
    from sites.changelog import _label

    assert _label(Membership, "user", 987654) == 987654
    assert _label(Membership, "site", world.site.pk) == "Gym site"
    assert _label(Membership, "role", "viewer") == "viewer"


def test_a_webhook_secret_never_reaches_the_log(world):
    created = world.client.post(
        "/api/v1/notification-channels/",
        {
            "site": world.site.pk,
            "kind": "webhook",
            "name": "SOC",
            "url": "https://soc.example.org/hook",
            "notify_on": ["new"],
        },
        format="json",
    ).json()
    assert "id" in created, created
    rotated = world.client.post(f"/api/v1/notification-channels/{created['id']}/rotate-secret/").json()

    entries = log(object_type="notification channel", object_id=created["id"])
    assert [entry.action for entry in entries] == ["created", "secret_rotated"]
    dumped = json.dumps([entry.changes for entry in entries])
    assert created["secret"] not in dumped and rotated["secret"] not in dumped
    assert NotificationChannel.objects.get(pk=created["id"]).secret == rotated["secret"]


def test_an_api_token_is_an_actor_too_and_changes_without_a_person_have_none(world):
    _token, secret = api_token_create(user=world.manager, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.patch(f"/api/v1/sites/{world.site.pk}/", {"ack_timeout_s": 120}, format="json").status_code == 200
    sensor_update(sensor=world.sensor, data={"enabled": False})  # e.g. from a management command

    site_entry, sensor_entry = log(action="changed")
    assert (site_entry.actor, site_entry.changes) == (world.manager, {"ack_timeout_s": [300, 120]})
    assert (sensor_entry.actor, sensor_entry.actor_name, sensor_entry.changes) == (None, "", {"enabled": [True, False]})


def test_heartbeats_and_other_bookkeeping_are_not_configuration(world):
    before = ConfigChange.objects.count()
    Sensor.objects.filter(pk=world.sensor.pk).update(level_dbfs=-30.0)  # what a heartbeat does
    assert ConfigChange.objects.count() == before
    call_command("seed_demo", "--base-url", "http://127.0.0.1:8000", stdout=io.StringIO())
    count_after_seed = ConfigChange.objects.count()
    call_command("seed_demo", "--base-url", "http://127.0.0.1:8000", stdout=io.StringIO())
    assert count_after_seed > before  # seeding creates sites and sensors: logged
    assert ConfigChange.objects.count() == count_after_seed  # seeding again changes nothing: nothing logged


def test_the_log_is_for_the_sites_managers_and_admins(world, make_user, client_for):
    world.client.patch(f"/api/v1/sensors/{world.sensor.pk}/", {"enabled": False}, format="json")
    sensor_update(sensor=world.other_sensor, data={"enabled": False})
    admin = make_user(is_staff=True)

    mine = world.client.get("/api/v1/config-changes/?action=changed").json()["results"]
    assert [entry["object_repr"] for entry in mine] == ["Gym site / Gym north"]
    assert mine[0]["changes"] == {"enabled": [True, False]} and mine[0]["actor_name"] == world.manager.username
    assert client_for(world.operator).get("/api/v1/config-changes/").json()["results"] == []
    every = client_for(admin).get("/api/v1/config-changes/?action=changed").json()["results"]
    assert {entry["site_name"] for entry in every} == {"Gym site", "Harbour"}
    assert APIClient().get("/api/v1/config-changes/").status_code == 401
    response = world.client.get(f"/api/v1/config-changes/?site={world.site.pk}&object_type=sensor&action=nonsense")
    assert response.status_code == 400


def test_the_log_outlives_a_deleted_site_and_cannot_be_changed(world, make_user, client_for):
    other_id = world.other.pk
    world.other_sensor.delete()
    world.other.delete()
    admin = make_user(is_staff=True)

    deleted = client_for(admin).get("/api/v1/config-changes/?object_type=site&action=deleted").json()["results"]
    assert [(entry["site"], entry["site_name"]) for entry in deleted] == [(other_id, "Harbour")]
    entry = ConfigChange.objects.first()
    with pytest.raises(AppendOnlyError):
        ConfigChange.objects.all().update(actor_name="someone else")
    with pytest.raises(AppendOnlyError):
        ConfigChange.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_the_admin_shows_the_log_read_only(world, make_user):
    from django.test import Client

    world.client.patch(f"/api/v1/sensors/{world.sensor.pk}/", {"enabled": False}, format="json")
    entry = log(action="changed")[0]
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))

    listing = client.get("/admin/sites/configchange/")
    assert listing.status_code == 200 and "Gym north" in listing.content.decode()
    assert client.get(f"/admin/sites/configchange/{entry.pk}/change/").status_code == 200  # a view-only page
    assert client.get("/admin/sites/configchange/add/").status_code == 403
    assert client.post(f"/admin/sites/configchange/{entry.pk}/delete/").status_code == 403
