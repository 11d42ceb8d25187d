"""``manage.py demo_incident`` in embedded mode, as a user runs it: the notifications the incident
queues run in the command's own task threads, and the command waits for them before it exits
(left running, the interpreter's shutdown cut them off: "RuntimeError: cannot schedule new futures
after interpreter shutdown" and "coroutine ... was never awaited"). It also says that consoles
already open show the incident when reloaded (its live update stays in its own process)."""

import json

import pytest

from outcry.tests.django_subprocess import clean_environment, run_manage, run_python

pytestmark = pytest.mark.slow

_SEED = """
import django
django.setup()
from alerts.models import NotificationChannel
from sites.models import Sensor, Site
site = Site.objects.create(name="East Wing", slug="east")
Sensor.objects.create(site=site, name="Ward 3")
NotificationChannel.objects.create(
    site=site, kind="email", name="Desk", recipients=["desk@example.org"], notify_on=["new"]
)
NotificationChannel.objects.create(
    site=site, kind="webhook", name="Pager", url="http://127.0.0.1:9/hook", notify_on=["new"]
)
"""

_DELIVERIES = """
import django, json
django.setup()
from alerts.models import NotificationDelivery
print(json.dumps(sorted(
    [d.channel.name, d.status, d.attempts] for d in NotificationDelivery.objects.select_related("channel")
)))
"""


def test_demo_incident_sends_the_sites_notifications_before_it_exits(tmp_path):
    from detection.evidence import render_clip
    from frontend.management.commands.demo_incident import synthetic_wail

    wail = tmp_path / "wail.wav"
    wail.write_bytes(render_clip(synthetic_wail(duration_s=3.0), 16_000))
    env = clean_environment(OUTCRY_VAR_DIR=str(tmp_path / "var"), OUTCRY_MODE="embedded")
    assert run_manage("migrate", "--noinput", env=env, timeout=300).returncode == 0
    seeded = run_python(_SEED, env=env)
    assert seeded.returncode == 0, seeded.stderr[-2000:]

    result = run_manage("demo_incident", "--site", "east", "--score", "0.95", "--audio", str(wail), env=env)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "RuntimeError" not in result.stderr, result.stderr[-3000:]
    assert "never awaited" not in result.stderr, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "Incident #1 (critical, new) at East Wing / Ward 3" in result.stdout
    assert "already open show incident #1 when reloaded" in result.stdout
    assert "[Outcry] Critical incident #1" in result.stdout or "Critical_incident_=231" in result.stdout
    deliveries = run_python(_DELIVERIES, env=env)
    assert deliveries.returncode == 0, deliveries.stderr[-2000:]
    # Each channel had its attempt before the command exited: the email went out, and the webhook
    # (refused: 127.0.0.1 is no public address) waits for the server's retry.
    assert json.loads(deliveries.stdout.strip().splitlines()[-1]) == [["Desk", "sent", 1], ["Pager", "pending", 1]]
