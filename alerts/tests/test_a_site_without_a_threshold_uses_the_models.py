"""A new site leaves its threshold to the detection model (chosen on validation data, 0.645 for the shipped
model) instead of a fixed 0.5: incidents are raised, prioritised and reviewed at the model's threshold
until a manager sets one for the site or the sensor."""

import pytest

from alerts.services import incident_raise_or_extend
from detection import selectors
from detection.engine import ModelError
from detection.selectors import FALLBACK_THRESHOLD, sensor_threshold

pytestmark = pytest.mark.django_db


class FakeEngine:
    threshold = 0.645


@pytest.fixture
def model_threshold(monkeypatch):
    monkeypatch.setattr("detection.engine.get_engine", lambda: FakeEngine())
    return FakeEngine.threshold


def test_a_new_site_has_no_threshold_of_its_own(make_site, make_sensor):
    sensor = make_sensor(make_site())

    assert sensor.site.default_threshold is None and sensor.effective_threshold is None


def test_the_threshold_comes_from_the_sensor_else_the_site_else_the_model(make_site, make_sensor, model_threshold):
    site = make_site()
    sensor = make_sensor(site)
    assert sensor_threshold(sensor) == model_threshold

    site.default_threshold = 0.7
    site.save()
    sensor.refresh_from_db()
    assert sensor_threshold(sensor) == 0.7

    sensor.threshold_override = 0.8
    assert sensor_threshold(sensor) == 0.8


def test_incidents_are_raised_at_the_models_threshold(make_site, make_sensor, make_detection, model_threshold):
    sensor = make_sensor(make_site())

    assert incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.6)) is None  # 0.6 < 0.645
    incident = incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.7))
    assert incident is not None and incident.priority == "low"  # under 0.645 + 0.10
    assert incident_raise_or_extend(detection=make_detection(sensor, peak_score=0.8, start_s=9)).priority == "medium"


def test_without_a_model_the_old_default_stands_in(make_site, make_sensor, monkeypatch):
    def no_model():
        raise ModelError("no model here")

    monkeypatch.setattr("detection.engine.get_engine", no_model)

    assert sensor_threshold(make_sensor(make_site())) == FALLBACK_THRESHOLD == selectors.FALLBACK_THRESHOLD


def test_the_shipped_model_sets_the_threshold_when_present(make_site, make_sensor):
    from detection.engine import get_engine

    try:
        engine = get_engine()
    except ModelError as error:
        pytest.skip(f"no shipped model here: {error}")
    assert sensor_threshold(make_sensor(make_site())) == engine.threshold


def test_the_alarm_review_names_the_model_as_the_source(
    make_site, make_sensor, make_member, client_for, model_threshold
):
    site = make_site()
    sensor = make_sensor(site)

    (row,) = client_for(make_member(site, "viewer")).get("/api/v1/alarm-review/").json()["sensors"]

    assert (row["sensor"]["id"], row["threshold"], row["threshold_source"]) == (sensor.pk, 0.645, "model")


def test_a_manager_gives_the_choice_back_to_the_model_with_null(make_site, make_member, client_for):
    site = make_site(default_threshold=0.7)

    response = client_for(make_member(site, "manager")).patch(
        f"/api/v1/sites/{site.pk}/", {"default_threshold": None}, format="json"
    )

    assert response.status_code == 200 and response.json()["default_threshold"] is None
    site.refresh_from_db()
    assert site.default_threshold is None
