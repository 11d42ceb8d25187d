"""A manager tunes a noisy microphone from evidence: /api/v1/alarm-review/ counts each sensor's incidents by
how operators resolved them and advises the highest threshold that would still have raised every confirmed
emergency and test while dropping false alarms (or says why to keep the present one)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.policy import threshold_advice
from alerts.services import incident_resolve

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("current", "false_alarms", "real_screams", "threshold", "avoided", "reason"),
    [
        (
            0.645,
            [0.66, 0.70, 0.72, 0.90],
            [0.97, 0.85],
            0.80,
            3,
            "At 0.80 instead of 0.645, 3 of 4 false alarms would not have been raised, with every real scream "
            "still raised (the lowest of 2 scored 0.85).",
        ),
        (
            0.645,
            [0.66, 0.70, 0.72, 0.90],
            [],
            0.74,
            3,
            "At 0.74 instead of 0.645, 3 of 4 false alarms would not have been raised, with a step of at most "
            "0.10, as no confirmed emergency or test shows how high real screams score at this microphone "
            "(a test scream, resolved as a test, would).",
        ),
        (
            0.6,
            [0.61, 0.62, 0.64],
            [0.99],
            0.65,
            3,
            "At 0.65 instead of 0.60, 3 of 3 false alarms would not have been raised, with every real scream "
            "still raised (the lowest of 1 scored 0.99).",
        ),
        (
            0.645,
            [0.66, 0.70, 0.72],
            [0.68],
            None,
            0,
            "Keep 0.645: a real scream scored 0.68, and a higher threshold could miss one like it.",
        ),
        (
            0.645,
            [0.99, 0.97, 0.98],
            [],
            None,
            0,
            "Keep 0.645: the false alarms scored too high (the lowest 0.97) to drop safely.",
        ),
        (0.8, [0.66, 0.70, 0.72], [], None, 0, "Keep 0.80: every false alarm of the period scored under it."),
        (0.645, [0.66, 0.7], [], None, 0, "2 false alarms resolved: too few to advise a change (3 are needed)."),
        (0.645, [], [0.9], None, 0, "No false alarm resolved in the period: nothing to advise."),
    ],
)
def test_threshold_advice(current, false_alarms, real_screams, threshold, avoided, reason):
    advice = threshold_advice(current=current, false_alarm_peaks=false_alarms, real_scream_peaks=real_screams)

    assert (advice.threshold, advice.false_alarms_avoided, advice.reason) == (threshold, avoided, reason)


def test_advice_never_passes_the_ceiling_nor_a_real_scream():
    advice = threshold_advice(current=0.9, false_alarm_peaks=[0.99] * 5, real_scream_peaks=[])
    assert advice.threshold is None  # 0.95 is the ceiling, and every false alarm scored over it

    advice = threshold_advice(current=0.5, false_alarm_peaks=[0.55, 0.6, 0.9], real_scream_peaks=[0.62])
    assert advice.threshold == 0.57 and advice.false_alarms_avoided == 1


@pytest.fixture
def world(make_site, make_sensor, make_member, make_incident):
    """Two sites; the noisy microphone at North has 4 false alarms, a confirmed emergency, a test, one open
    incident, and an older false alarm outside the 30 days."""
    north, south = make_site("North", default_threshold=0.645), make_site("South")
    manager, viewer = make_member(north, "manager"), make_member(north, "viewer")
    operator = make_member(north, "operator")
    noisy, quiet, elsewhere = make_sensor(north, "Gym"), make_sensor(north, "Library"), make_sensor(south, "Hall")
    now = timezone.now()
    outcomes = [
        (0.66, "false_alarm", 2),
        (0.70, "false_alarm", 3),
        (0.72, "false_alarm", 4),
        (0.90, "false_alarm", 5),
        (0.97, "confirmed_emergency", 6),
        (0.85, "test", 7),
        (0.99, "false_alarm", 24 * 40),
    ]
    for peak_score, resolution, hours_ago in outcomes:
        moment = now - timedelta(hours=hours_ago)
        incident = make_incident(noisy, peak_score=peak_score, occurred_at=moment, opened_at=moment)
        incident_resolve(incident=incident, user=operator, resolution=resolution)
    make_incident(noisy, peak_score=0.8, occurred_at=now - timedelta(hours=1), opened_at=now - timedelta(hours=1))
    hall = make_incident(elsewhere, peak_score=0.7)
    incident_resolve(incident=hall, user=make_member(south, "operator"), resolution="false_alarm")
    return {"manager": manager, "viewer": viewer, "north": north, "south": south, "noisy": noisy, "quiet": quiet}


def test_the_review_counts_outcomes_and_advises_a_threshold(world, client_for):
    response = client_for(world["manager"]).get("/api/v1/alarm-review/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [row["sensor"]["name"] for row in body["sensors"]] == ["Gym", "Library"]  # South is not theirs
    gym = body["sensors"][0]
    assert gym["site"]["name"] == "North"
    assert (gym["threshold"], gym["threshold_source"], gym["incidents"], gym["open"]) == (0.645, "site", 7, 1)
    assert gym["resolved"] == {"confirmed_emergency": 1, "false_alarm": 4, "test": 1, "other": 0}
    assert gym["advice"]["threshold"] == 0.80
    assert gym["advice"]["false_alarms_avoided"] == 3
    library = body["sensors"][1]
    assert library["incidents"] == 0 and library["advice"]["threshold"] is None


def test_a_longer_period_counts_older_incidents(world, client_for):
    response = client_for(world["viewer"]).get("/api/v1/alarm-review/", {"days": 60, "sensor": world["noisy"].pk})

    (gym,) = response.json()["sensors"]
    assert gym["resolved"]["false_alarm"] == 5
    # The 0.99 false alarm is too high to drop; the others still are.
    assert (gym["advice"]["threshold"], gym["advice"]["false_alarms_avoided"]) == (0.80, 3)


def test_filters_never_reach_another_site(world, client_for):
    client = client_for(world["manager"])

    assert client.get("/api/v1/alarm-review/", {"site": world["south"].pk}).json()["sensors"] == []
    assert [
        row["sensor"]["name"]
        for row in client.get("/api/v1/alarm-review/", {"site": world["north"].pk}).json()["sensors"]
    ] == ["Gym", "Library"]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"days": 0}, "days"), ({"days": 400}, "days"), ({"days": "week"}, "days"), ({"sensor": "gym"}, "sensor")],
)
def test_bad_queries_are_400_naming_the_parameter(world, client_for, query, field):
    response = client_for(world["manager"]).get("/api/v1/alarm-review/", query)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_anonymous_gets_nothing(api_client):
    assert api_client.get("/api/v1/alarm-review/").status_code in (401, 403)
