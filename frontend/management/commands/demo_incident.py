"""Raise a demo incident on a site without the detection model: for trying the console.

It stores a recording (a real scream from the dev corpus when one is at hand, else a synthetic
wail), renders the evidence clip and spectrogram, records a detection with the given score and
hands it to the real alerting service, which raises (or, within the cooldown, extends) the
incident exactly as an analysed upload would. The notifications it queues (email, webhooks)
are sent before the command exits. In embedded mode the live broadcast stays inside this process
(the in-memory channel layer is per process): a console that is already open shows the incident
when it is reloaded, and the command says so; with REDIS_URL set it arrives live.
"""

import random
import threading
from datetime import timedelta
from pathlib import Path

import numpy as np
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from alerts.services import incident_raise_or_extend
from detection import evidence
from detection.audio import SAMPLE_RATE, decode_audio
from detection.models import Detection, Recording, RecordingSource, RecordingStatus, recording_upload_to
from detection.selectors import sensor_threshold
from outcry import tasking
from sites.models import Sensor, Site

DEMO_MODEL_VERSION = "demo"
DEV_SCREAMS = Path("/work/shared/datasets/scream-dev/scream")
# A webhook attempt gives up after 5 s; a delivery left pending is retried by the server.
TASKS_TIMEOUT_S = 60.0


def synthetic_wail(duration_s: float = 6.0, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Quiet room noise (at least 4 s) with a 1.6-s rising, vibrato-laden harmonic wail from 2 s on."""
    rng = np.random.default_rng()
    samples = rng.normal(0, 0.01, int(max(duration_s, 4.0) * sample_rate)).astype(np.float32)
    length = int(1.6 * sample_rate)
    t = np.arange(length) / sample_rate
    pitch = 700 + 500 * t / t[-1] + 40 * np.sin(2 * np.pi * 6 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    wail = sum(np.sin(k * phase) / k for k in range(1, 6)) * np.hanning(length) * 0.5
    start = int(2.0 * sample_rate)
    samples[start : start + length] += wail.astype(np.float32)
    return np.clip(samples, -1, 1)


class Command(BaseCommand):
    help = "Raise a demo incident (recording + detection + incident) on a site, without the model."

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True, help="The site's slug.")
        parser.add_argument("--sensor", help="The sensor's name (default: a random enabled sensor of the site).")
        parser.add_argument("--score", type=float, help="Peak scream probability (default: random 0.75-0.99).")
        parser.add_argument("--ago", type=float, default=0.0, help="Seconds ago the scream happened (default 0).")
        parser.add_argument("--audio", type=Path, help="An audio file to use (default: a dev-corpus scream).")

    def handle(self, *args, site: str, sensor: str | None, score: float | None, ago: float, audio, **options):
        site_row = Site.objects.filter(slug=site).first()
        if site_row is None:
            raise CommandError(f"No site with slug {site!r}. Try: python manage.py seed_demo")
        sensors = Sensor.objects.filter(site=site_row, enabled=True)
        sensor_row = sensors.filter(name=sensor).first() if sensor else sensors.order_by("?").first()
        if sensor_row is None:
            raise CommandError(f"No enabled sensor {sensor or ''!r} at {site_row.name}.")
        score = score if score is not None else round(random.uniform(0.75, 0.99), 3)
        if not 0.0 <= score <= 1.0:
            raise CommandError("--score must be between 0 and 1.")

        samples, name = self._audio(audio)
        try:
            incident = self._raise(sensor_row, samples, name, score=score, ago_s=ago)
        finally:
            self._finish_background_tasks()
        if incident is None:
            raise CommandError(
                f"No incident raised: score {score} is under the threshold "
                f"({sensor_threshold(sensor_row)}) or the sensor may not raise now."
            )
        # Within the cooldown the alerting service extends the sensor's open incident, as it would
        # for a real scream: say so, or the user looks for a new card that never comes.
        what = (
            f"Added to open incident #{incident.pk} (detection {incident.detection_count}; a scream on the same"
            " sensor within the cooldown extends its incident)"
            if incident.detection_count > 1
            else f"Incident #{incident.pk}"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{what} ({incident.priority}, {incident.status}) at {site_row.name} / "
                f"{sensor_row.name}: /incidents/{incident.pk}/"
            )
        )
        if isinstance(get_channel_layer(), InMemoryChannelLayer):
            self.stdout.write(
                self.style.WARNING(
                    "Embedded mode: this command's live update stays in its own process, so consoles"
                    f" that are already open show incident #{incident.pk} when reloaded. To watch an"
                    " incident arrive live, upload a recording on the Upload page (/upload/) or through"
                    " the API (POST /api/v1/recordings/)."
                )
            )

    def _finish_background_tasks(self) -> None:
        """Wait for the tasks the incident queued (its notifications) in this process's task pool.

        In embedded mode (``OUTCRY_TASK_RUNNER=thread``) they run in threads of this process; left
        running at exit, they would be cut off mid-send by the interpreter's shutdown. Celery's
        workers, and the inline runner, need no waiting.
        """
        if settings.OUTCRY_TASK_RUNNER != "thread":
            return
        try:
            tasking.wait_for_embedded_tasks(timeout=TASKS_TIMEOUT_S)
        except (TimeoutError, threading.BrokenBarrierError):
            self.stderr.write(
                f"Notifications still sending after {TASKS_TIMEOUT_S:.0f} s; the server retries deliveries"
                " left pending."
            )

    def _audio(self, path: Path | None) -> tuple[np.ndarray, str]:
        if path is None and DEV_SCREAMS.is_dir():
            candidates = sorted(DEV_SCREAMS.iterdir())
            path = random.choice(candidates) if candidates else None
        if path is None:
            return synthetic_wail(), "synthetic-wail.wav"
        scream = decode_audio(path).samples
        # Put the scream 2 s into 6 s of quiet room noise, as a sensor would have heard it.
        total = max(len(scream) + 4 * SAMPLE_RATE, 6 * SAMPLE_RATE)
        samples = np.random.default_rng().normal(0, 0.005, total).astype(np.float32)
        samples[2 * SAMPLE_RATE : 2 * SAMPLE_RATE + len(scream)] += scream
        return np.clip(samples, -1, 1), path.name

    def _raise(self, sensor: Sensor, samples: np.ndarray, name: str, *, score: float, ago_s: float):
        duration_s = len(samples) / SAMPLE_RATE
        start_s, end_s = 2.0, min(duration_s, 3.6)
        clip_start, clip_end = evidence.clip_bounds(start_s=start_s, end_s=end_s, duration_s=duration_s)
        clip_samples = evidence.clip_samples(samples, SAMPLE_RATE, start_s=clip_start, end_s=clip_end)
        recording_wav = evidence.render_clip(samples, SAMPLE_RATE)
        clip = evidence.render_clip(clip_samples, SAMPLE_RATE)
        picture = evidence.render_spectrogram(
            clip_samples,
            SAMPLE_RATE,
            offset_s=clip_start,
            span=(start_s, end_s),
            title=f"{sensor.name}: scream probability {score:.2f}",
        )
        recorded_at = timezone.now() - timedelta(seconds=ago_s + start_s)
        stored: list[str] = []
        try:
            stored.append(default_storage.save(recording_upload_to(None, "demo.wav"), ContentFile(recording_wav)))
            stored.append(default_storage.save("detections/clips/demo.wav", ContentFile(clip)))
            stored.append(default_storage.save("detections/spectrograms/demo.png", ContentFile(picture)))
            with transaction.atomic():
                recording = Recording.objects.create(
                    site=sensor.site,
                    sensor=sensor,
                    source=RecordingSource.UPLOAD,
                    file=stored[0],
                    original_name=f"demo-{name}",
                    content_type="audio/wav",
                    size_bytes=len(recording_wav),
                    container="wav",
                    codec="pcm_s16le",
                    source_sample_rate=SAMPLE_RATE,
                    channels=1,
                    duration_s=duration_s,
                    status=RecordingStatus.DONE,
                    model_version=DEMO_MODEL_VERSION,
                    recorded_at=recorded_at,
                    finished_at=timezone.now(),
                )
                detection = Detection.objects.create(
                    recording=recording,
                    sensor=sensor,
                    site=sensor.site,
                    start_s=start_s,
                    end_s=end_s,
                    peak_score=score,
                    mean_score=round(score * 0.9, 3),
                    model_version=DEMO_MODEL_VERSION,
                    occurred_at=Detection.occurred_at_for(recording, start_s),
                    evidence_clip=stored[1],
                    spectrogram=stored[2],
                )
        except BaseException:
            for stored_name in stored:
                default_storage.delete(stored_name)
            raise
        return incident_raise_or_extend(detection=detection)
