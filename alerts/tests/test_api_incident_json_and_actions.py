"""The incident JSON the console depends on, and the workflow through HTTP."""

import hashlib

import pytest
from django.core.files.base import ContentFile

from alerts.services import incident_acknowledge


@pytest.fixture
def world(make_sensor, make_member, make_incident, make_user):
    sensor = make_sensor(location="Gym, north wall")
    site = sensor.site
    operator = make_member(site, "operator", user=make_user("olga"))
    return {
        "sensor": sensor,
        "incident": make_incident(sensor, peak_score=0.97),
        "operator": operator,
        "other_operator": make_member(site, "operator", user=make_user("oscar")),
        "manager": make_member(site, "manager", user=make_user("maria")),
        "viewer": make_member(site, "viewer"),
    }


def test_incident_json_has_the_console_contract(world, client_for):
    incident = world["incident"]
    detection = incident.peak_detection
    detection.evidence_clip.save("clip.wav", ContentFile(b"RIFF"), save=False)
    detection.spectrogram.save("spec.png", ContentFile(b"PNG"), save=True)

    body = client_for(world["operator"]).get(f"/api/v1/incidents/{incident.pk}/").json()

    assert set(body) >= {
        "id",
        "url",
        "site",
        "sensor",
        "status",
        "priority",
        "peak_score",
        "detection_count",
        "opened_at",
        "last_detection_at",
        "waited_s",
        "acknowledged_at",
        "acknowledged_by",
        "assignee",
        "resolved_at",
        "resolved_by",
        "resolution",
        "resolution_note",
        "evidence",
        "allowed_actions",
    }
    assert body["url"] == f"/api/v1/incidents/{incident.pk}/"
    assert body["site"] == {"id": incident.site.pk, "name": incident.site.name, "slug": incident.site.slug}
    assert body["sensor"] == {"id": world["sensor"].pk, "name": world["sensor"].name, "location": "Gym, north wall"}
    assert (body["status"], body["priority"], body["peak_score"], body["detection_count"]) == (
        "new",
        "critical",
        0.97,
        1,
    )
    assert body["acknowledged_by"] is None and body["assignee"] is None and body["resolved_by"] is None
    assert isinstance(body["waited_s"], int) and body["waited_s"] >= 0
    assert body["evidence"] == {
        "detection_id": detection.pk,
        "recording_id": detection.recording_id,
        "start_s": detection.start_s,
        "end_s": detection.end_s,
        "clip_url": f"/api/v1/detections/{detection.pk}/clip/?v={version(detection.evidence_clip.name)}",
        "spectrogram_url": f"/api/v1/detections/{detection.pk}/spectrogram/?v={version(detection.spectrogram.name)}",
        "audio_deleted_at": None,
        "complete": True,
    }
    assert body["allowed_actions"] == ["acknowledge", "assign", "annotate", "hold", "resolve"]


def version(stored_name: str) -> str:
    return hashlib.sha256(stored_name.encode()).hexdigest()[:12]


def test_a_replaced_clip_gets_a_new_url_so_no_cache_serves_the_old_one(world, client_for):
    """A live stream's clip is replaced by the full one once the scream has ended; files are cached
    for 5 minutes, so the URL must change with the file, and the new URL must serve the new file."""
    client = client_for(world["operator"])
    detection = world["incident"].peak_detection
    detection.evidence_clip.save("clip.wav", ContentFile(b"RIFF-first-part"), save=True)
    first_url = client.get(f"/api/v1/incidents/{world['incident'].pk}/").json()["evidence"]["clip_url"]

    detection.evidence_clip.save("clip.wav", ContentFile(b"RIFF-whole-scream"), save=True)
    second_url = client.get(f"/api/v1/incidents/{world['incident'].pk}/").json()["evidence"]["clip_url"]

    assert first_url != second_url
    assert b"".join(client.get(second_url).streaming_content) == b"RIFF-whole-scream"
    detection_json = client.get(f"/api/v1/detections/{detection.pk}/").json()
    assert detection_json["evidence_clip_url"].endswith(second_url)


def test_evidence_urls_are_null_until_the_files_exist(world, client_for):
    body = client_for(world["operator"]).get(f"/api/v1/incidents/{world['incident'].pk}/").json()

    assert body["evidence"]["clip_url"] is None and body["evidence"]["spectrogram_url"] is None
    assert body["evidence"]["complete"] is False


def test_evidence_of_a_stream_still_recording_is_incomplete(world, client_for):
    detection = world["incident"].peak_detection
    detection.evidence_clip.save("clip.wav", ContentFile(b"RIFF"), save=False)
    detection.spectrogram.save("spec.png", ContentFile(b"PNG"), save=True)
    detection.recording.status = "processing"  # a live segment is "processing" until the scream has ended
    detection.recording.save()

    body = client_for(world["operator"]).get(f"/api/v1/incidents/{world['incident'].pk}/").json()

    assert body["evidence"]["clip_url"] and body["evidence"]["spectrogram_url"]
    assert body["evidence"]["complete"] is False


def test_viewers_are_offered_no_actions(world, client_for):
    body = client_for(world["viewer"]).get(f"/api/v1/incidents/{world['incident'].pk}/").json()

    assert body["allowed_actions"] == []


def test_acknowledge_answers_the_new_state(world, client_for):
    response = client_for(world["operator"]).post(f"/api/v1/incidents/{world['incident'].pk}/acknowledge/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"] == {"id": world["operator"].pk, "username": "olga"}
    assert body["allowed_actions"] == ["assign", "annotate", "hold", "resolve"]


def test_second_acknowledge_is_409_naming_who_won(world, client_for):
    incident_acknowledge(incident=world["incident"], user=world["operator"])

    response = client_for(world["other_operator"]).post(f"/api/v1/incidents/{world['incident'].pk}/acknowledge/")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["status"] == 409 and error["code"] == "conflict"
    assert error["message"].startswith(f"Incident {world['incident'].pk} was already acknowledged by olga at ")


def test_viewer_acting_gets_403_in_the_error_shape(world, client_for):
    response = client_for(world["viewer"]).post(
        f"/api/v1/incidents/{world['incident'].pk}/resolve/", {"resolution": "false_alarm"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["message"].startswith("You need the operator role")


def test_resolve_without_resolution_is_400_on_the_field(world, client_for):
    response = client_for(world["operator"]).post(
        f"/api/v1/incidents/{world['incident'].pk}/resolve/", {"note": "?"}, format="json"
    )

    assert response.status_code == 400
    assert "resolution" in response.json()["error"]["fields"]


def test_resolve_annotate_reopen_round_trip(world, client_for):
    client = client_for(world["operator"])
    url = f"/api/v1/incidents/{world['incident'].pk}/"

    assert client.post(url + "annotate/", {"text": "Guard sent"}, format="json").status_code == 200
    resolved = client.post(url + "resolve/", {"resolution": "false_alarm", "note": "Kids"}, format="json").json()
    assert (resolved["status"], resolved["resolution"], resolved["resolution_note"]) == (
        "resolved",
        "false_alarm",
        "Kids",
    )
    assert resolved["resolved_by"]["username"] == "olga"
    assert resolved["allowed_actions"] == ["annotate", "reopen"]
    reopened = client.post(url + "reopen/", {"text": "Again"}, format="json").json()
    assert reopened["status"] == "acknowledged"

    events = client.get(url + "events/").json()
    assert [event["kind"] for event in events] == ["opened", "note", "resolved", "reopened"]
    assert events[0]["actor"] is None
    assert events[1] == {
        "id": events[1]["id"],
        "kind": "note",
        "actor": {"id": world["operator"].pk, "username": "olga"},
        "from_status": "",
        "to_status": "",
        "text": "Guard sent",
        "data": {},
        "created_at": events[1]["created_at"],
    }


@pytest.mark.parametrize(
    ("who", "assignee", "status", "expected"),
    [
        ("operator", "me", 200, "olga"),
        ("manager", "other_operator", 200, "oscar"),
        ("operator", "other_operator", 403, None),
        ("manager", "viewer", 400, None),
        ("manager", 999999, 400, None),
        ("manager", "nobody", 400, None),
    ],
)
def test_assign_by_id_or_me(world, client_for, who, assignee, status, expected):
    value = world[assignee].pk if assignee in world else assignee

    response = client_for(world[who]).post(
        f"/api/v1/incidents/{world['incident'].pk}/assign/", {"assignee": value}, format="json"
    )

    assert response.status_code == status, response.json()
    if expected:
        assert response.json()["assignee"]["username"] == expected
    else:
        assert set(response.json()) == {"error"}


def test_unassign_with_null(world, client_for):
    client = client_for(world["manager"])
    url = f"/api/v1/incidents/{world['incident'].pk}/assign/"
    client.post(url, {"assignee": world["operator"].pk}, format="json")

    response = client.post(url, {"assignee": None}, format="json")

    assert response.status_code == 200 and response.json()["assignee"] is None


def test_refused_assignees_are_not_named_so_ids_do_not_reveal_usernames(world, client_for, make_user, make_site):
    stranger = make_user("riverside-guard")  # someone of another site, whose name this manager may not know
    make_site("Riverside")
    url = f"/api/v1/incidents/{world['incident'].pk}/assign/"
    client = client_for(world["manager"])

    refusals = {
        value: client.post(url, {"assignee": value}, format="json").json()["error"]["fields"]["assignee"][0]
        for value in (stranger.pk, 999999)
    }

    site = world["incident"].site.name
    assert refusals[stranger.pk] == f"User {stranger.pk} cannot be assigned: only operators and managers of {site} can."
    assert refusals[999999] == f"User 999999 cannot be assigned: only operators and managers of {site} can."
    assert "riverside-guard" not in str(refusals)
