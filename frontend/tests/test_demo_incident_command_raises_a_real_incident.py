from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from alerts.models import Incident, IncidentEvent


def test_demo_incident_raises_an_incident_with_evidence(make_site, make_sensor, tmp_path):
    site = make_site(slug="north")
    sensor = make_sensor(site, "Gym")

    call_command("demo_incident", "--site", "north", "--sensor", "Gym", "--score", "0.97", "--audio", _wail(tmp_path))

    incident = Incident.objects.get()
    assert (incident.sensor, incident.status, incident.priority) == (sensor, "new", "critical")
    assert incident.peak_detection.evidence_clip and incident.peak_detection.spectrogram
    assert IncidentEvent.objects.filter(incident=incident, kind="opened").exists()


def test_a_second_demo_scream_within_the_cooldown_says_it_extended_the_open_incident(make_site, make_sensor, tmp_path):
    make_sensor(make_site(slug="north"), "Gym")
    outputs = []
    for _ in range(2):
        out = StringIO()
        call_command("demo_incident", "--site", "north", "--score", "0.9", "--audio", _wail(tmp_path), stdout=out)
        outputs.append(out.getvalue())

    incident = Incident.objects.get()
    assert outputs[0].startswith(f"Incident #{incident.pk} (")
    assert outputs[1].startswith(f"Added to open incident #{incident.pk} (detection 2; a scream on the same sensor")


def test_demo_incident_refuses_an_unknown_site(db):
    with pytest.raises(CommandError, match="No site with slug"):
        call_command("demo_incident", "--site", "nowhere")


def test_demo_incident_says_when_the_score_is_under_the_threshold(make_site, make_sensor, tmp_path):
    make_sensor(make_site(slug="north", default_threshold=0.9), "Gym")

    with pytest.raises(CommandError, match="under the threshold"):
        call_command("demo_incident", "--site", "north", "--score", "0.5", "--audio", _wail(tmp_path))


def _wail(tmp_path):
    from detection.evidence import render_clip
    from frontend.management.commands.demo_incident import synthetic_wail

    path = tmp_path / "wail.wav"
    path.write_bytes(render_clip(synthetic_wail(duration_s=3.0), 16_000))
    return str(path)
