"""Incidents and their timelines are the audit trail: deleting the sensor or site they belong to is
refused with a 409 that says to disable it instead, and nothing is removed."""

from alerts.models import Incident, IncidentEvent
from sites.models import Sensor, Site


def test_deleting_a_sensor_with_incidents_is_refused_with_409(make_incident, make_member, client_for):
    incident = make_incident()
    manager = make_member(incident.site, "manager")

    response = client_for(manager).delete(f"/api/v1/sensors/{incident.sensor_id}/")

    assert response.status_code == 409
    assert "Disable" in response.json()["error"]["message"]
    assert "1 incident refers to it" in response.json()["error"]["message"]
    assert Sensor.objects.filter(pk=incident.sensor_id).exists()
    assert Incident.objects.filter(pk=incident.pk).exists()
    assert IncidentEvent.objects.filter(incident=incident).exists()


def test_deleting_a_site_with_incidents_is_refused_with_409(make_incident, make_user, client_for):
    incident = make_incident()
    admin = make_user(is_staff=True, is_superuser=True)

    response = client_for(admin).delete(f"/api/v1/sites/{incident.site_id}/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Site.objects.filter(pk=incident.site_id).exists()
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_a_sensor_without_incidents_can_still_be_deleted(make_sensor, make_member, client_for):
    sensor = make_sensor()
    manager = make_member(sensor.site, "manager")

    response = client_for(manager).delete(f"/api/v1/sensors/{sensor.pk}/")

    assert response.status_code == 204
    assert not Sensor.objects.filter(pk=sensor.pk).exists()
