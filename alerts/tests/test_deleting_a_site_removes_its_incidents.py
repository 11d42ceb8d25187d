"""Events refuse deletes one by one, but a deleted site or sensor takes its incidents and their events along."""

from alerts.models import Incident, IncidentEvent


def test_deleting_a_site_removes_its_incidents_and_timelines(make_incident, make_member):
    incident = make_incident()
    make_member(incident.site, "operator")

    incident.site.delete()

    assert not Incident.objects.exists()
    assert not IncidentEvent.objects.exists()


def test_deleting_a_sensor_removes_its_incidents(make_incident):
    incident = make_incident()

    incident.sensor.delete()

    assert not Incident.objects.exists()
