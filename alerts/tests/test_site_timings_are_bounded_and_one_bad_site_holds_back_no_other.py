"""Cooldowns and acknowledgement timeouts are at most a day: a larger number is a 400, not a value that
overflows when an incident is raised or escalated. And should one incident fail to escalate anyway, the
beat still escalates every other site's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import tasks
from alerts.models import Incident
from alerts.tasks import escalate_unacknowledged

pytestmark = pytest.mark.django_db

TOO_LONG = 100_000_000_000


@pytest.fixture
def manager_world(make_site, make_sensor, make_member, client_for):
    site = make_site()
    sensor = make_sensor(site)
    return {"site": site, "sensor": sensor, "client": client_for(make_member(site, "manager"))}


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [("sites", "default_cooldown_s"), ("sites", "ack_timeout_s"), ("sensors", "cooldown_override_s")],
)
def test_a_timing_over_a_day_is_refused(manager_world, endpoint, field):
    target = manager_world["site"] if endpoint == "sites" else manager_world["sensor"]
    response = manager_world["client"].patch(f"/api/v1/{endpoint}/{target.pk}/", {field: TOO_LONG}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"][field] == ["Ensure this value is less than or equal to 86400."]
    assert manager_world["client"].patch(
        f"/api/v1/{endpoint}/{target.pk}/", {field: 86400}, format="json"
    ).status_code in (200, 403)


def test_one_incident_that_cannot_escalate_holds_back_no_other(
    make_site, make_sensor, make_incident, inline_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    opened = timezone.now() - timedelta(seconds=400)
    broken_site, good_site = make_site("Broken", ack_timeout_s=300), make_site("Good", ack_timeout_s=300)
    broken = make_incident(make_sensor(broken_site), opened_at=opened - timedelta(seconds=1))  # comes first
    good = make_incident(make_sensor(good_site), opened_at=opened)
    real_check = tasks.incident_escalation_due

    def failing_for_the_broken_site(*, incident, now):
        if incident.pk == broken.pk:  # as a timing saved before the bound overflowed timedelta
            raise OverflowError("date value out of range")
        return real_check(incident=incident, now=now)

    monkeypatch.setattr(tasks, "incident_escalation_due", failing_for_the_broken_site)

    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_unacknowledged.apply().get() == 1

    assert Incident.objects.get(pk=good.pk).escalation_level == 1
    assert Incident.objects.get(pk=broken.pk).escalation_level == 0
