from io import StringIO

from django.core.management import call_command

from outcry.models import User
from sites.models import Membership, Role, Sensor, Site


def _seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_creates_sites_sensors_and_a_user_of_each_role(db):
    output = _seed()

    assert Site.objects.count() == 3
    assert all(2 <= site.sensors.count() <= 3 for site in Site.objects.all())
    assert all(sensor.has_active_key for sensor in Sensor.objects.all())
    assert User.objects.get(username="admin").is_superuser
    assert {m.role for m in Membership.objects.all()} == set(Role.values)
    assert output.count("osk_") == Sensor.objects.count()
    for username, password in [("manager", "outcry-manager"), ("operator", "outcry-operator")]:
        assert User.objects.get(username=username).check_password(password)
        assert password in output
    assert "http://127.0.0.1:8000/api/docs/" in output


def test_seeding_twice_duplicates_nothing_and_prints_no_keys(db):
    _seed()
    counts = (Site.objects.count(), Sensor.objects.count(), Membership.objects.count(), User.objects.count())
    hashes = set(Sensor.objects.values_list("key_hash", flat=True))

    output = _seed()

    assert (Site.objects.count(), Sensor.objects.count(), Membership.objects.count(), User.objects.count()) == counts
    assert set(Sensor.objects.values_list("key_hash", flat=True)) == hashes
    assert "osk_" not in output


def test_seeding_again_keeps_a_changed_password_unless_asked(db):
    _seed()
    operator = User.objects.get(username="operator")
    operator.set_password("my-own-secret")
    operator.save()

    _seed()
    assert User.objects.get(username="operator").check_password("my-own-secret")

    _seed("--reset-passwords")
    assert User.objects.get(username="operator").check_password("outcry-operator")


def test_the_riverside_operator_sees_only_riverside(db, client_for):
    _seed()

    response = client_for(User.objects.get(username="riverside")).get("/api/v1/sites/")

    assert [site["slug"] for site in response.json()["results"]] == ["riverside-plant"]


def test_printed_links_point_where_the_server_listens(db):
    output = _seed("--base-url", "http://0.0.0.0:8765/")

    assert "http://0.0.0.0:8765/api/docs/" in output and "http://0.0.0.0:8765/api/v1/auth/token/" in output
    assert ":8000" not in output
