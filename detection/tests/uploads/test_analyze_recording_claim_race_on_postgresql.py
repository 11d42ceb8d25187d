"""Two workers claiming the same recording at the same instant: exactly one wins (real PostgreSQL)."""

import threading

import pytest
from django.db import connection

from detection.models import Recording, RecordingStatus
from detection.services import RecordingBusy, recording_claim

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_two_workers_racing_for_a_claim_get_one_winner(queued_recording):
    start = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker():
        try:
            start.wait(10)
            outcome = "claimed" if recording_claim(recording_id=queued_recording.pk) else "nothing"
        except RecordingBusy:
            outcome = "busy"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == ["busy"] * 7 + ["claimed"]
    queued_recording.refresh_from_db()
    assert (queued_recording.status, queued_recording.attempts) == (RecordingStatus.PROCESSING, 1)
    assert Recording.objects.count() == 1
