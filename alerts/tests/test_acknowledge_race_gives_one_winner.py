"""Concurrent writers on PostgreSQL: threads with their own connections hit the same rows at once."""

import threading

import pytest
from django.db import connection

from alerts.exceptions import IncidentStateConflict
from alerts.models import Incident, IncidentEvent
from alerts.services import incident_acknowledge, incident_escalate, incident_raise_or_extend

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("inline_tasks")]


def run_together(*calls, timeout: float = 30) -> list:
    """Run each call in its own thread, released at the same moment; their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results


@pytest.mark.parametrize("round_", range(3))
def test_two_operators_acknowledging_at_once_give_one_acknowledgement(make_sensor, make_member, make_incident, round_):
    sensor = make_sensor()
    operators = [make_member(sensor.site, "operator") for _ in range(2)]
    incident = make_incident(sensor)

    results = run_together(
        *(
            lambda user=user: incident_acknowledge(incident=Incident.objects.get(pk=incident.pk), user=user)
            for user in operators
        )
    )

    winners = [result for result in results if isinstance(result, Incident)]
    losers = [result for result in results if isinstance(result, IncidentStateConflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    winner = winners[0].acknowledged_by
    assert losers[0].message.startswith(f"Incident {incident.pk} was already acknowledged by {winner.username} at ")
    assert IncidentEvent.objects.filter(incident=incident, kind="acknowledged").count() == 1
    assert Incident.objects.get(pk=incident.pk).acknowledged_by == winner


def test_simultaneous_detections_of_one_sensor_open_one_incident(make_sensor, make_detection):
    sensor = make_sensor()
    detections = [make_detection(sensor, peak_score=0.9, start_s=n) for n in range(4)]

    results = run_together(*(lambda d=d: incident_raise_or_extend(detection=d) for d in detections))

    assert all(isinstance(result, Incident) for result in results), results
    incident = Incident.objects.get()
    assert incident.detection_count == 4 and incident.detections.count() == 4
    assert IncidentEvent.objects.filter(kind="opened").count() == 1


def test_two_escalators_of_one_step_give_one_escalation(make_site, make_sensor, make_incident):
    incident = make_incident(make_sensor(make_site(ack_timeout_s=1)))
    # Three beat ticks (or workers) that each read the incident at escalation level 0.
    snapshots = [Incident.objects.get(pk=incident.pk) for _ in range(3)]

    results = run_together(*(lambda snapshot=snapshot: incident_escalate(incident=snapshot) for snapshot in snapshots))

    assert sorted(results) == [False, False, True]
    assert Incident.objects.get(pk=incident.pk).escalation_level == 1
    assert IncidentEvent.objects.filter(kind="escalated").count() == 1
