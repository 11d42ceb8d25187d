"""The embedded stand-in for `celery beat` runs periodic tasks in the server process."""

import time
from datetime import timedelta

import pytest

from outcry import tasking
from outcry.celery import app
from outcry.tests import tasking_probes

# Task threads close their stale database connections before each task; that needs DB access.
pytestmark = pytest.mark.django_db


@pytest.fixture
def beat(settings):
    """An empty beat schedule and the thread runner; the beat thread is stopped afterwards."""
    settings.OUTCRY_TASK_RUNNER = "thread"
    tasking.stop_embedded_beat()  # one that an import of outcry.asgi may have started
    tasking_probes.reset()
    saved_schedule = dict(app.conf.beat_schedule)
    app.conf.beat_schedule = {}
    yield
    tasking.stop_embedded_beat()
    tasking.wait_for_embedded_tasks()
    app.conf.beat_schedule = saved_schedule
    tasking_probes.reset()


def _schedule(name: str, task_name: str, every: timedelta | float, label: str) -> None:
    tasking.register_periodic_task(name, task_name, every)
    app.conf.beat_schedule[name]["args"] = (label,)


def _labels() -> list[str]:
    return [run["label"] for run in tasking_probes.runs]


def test_due_task_runs_once_per_interval_on_the_task_threads(beat):
    _schedule("probe-hourly", "outcry.tests.record_run", timedelta(hours=1), "hourly")

    tasking.start_embedded_beat(tick_s=0.02)
    assert tasking_probes.ran.wait(10), "the periodic task never ran"
    time.sleep(0.3)  # ~15 more ticks: an hourly task is not due again
    tasking.stop_embedded_beat()
    tasking.wait_for_embedded_tasks()

    assert _labels() == ["hourly"]
    assert tasking_probes.runs[0]["thread"].startswith("outcry-task")


def test_short_interval_task_runs_repeatedly(beat):
    _schedule("probe-fast", "outcry.tests.record_run", 0.05, "fast")

    tasking.start_embedded_beat(tick_s=0.02)
    deadline = time.monotonic() + 10
    while len(tasking_probes.runs) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    tasking.stop_embedded_beat()

    assert len(tasking_probes.runs) >= 3


def test_unknown_task_is_logged_and_the_others_still_run(beat, caplog):
    _schedule("probe-missing", "outcry.tests.no_such_task", timedelta(hours=1), "missing")
    _schedule("probe-hourly", "outcry.tests.record_run", timedelta(hours=1), "hourly")

    tasking.start_embedded_beat(tick_s=0.02)
    assert tasking_probes.ran.wait(10)
    tasking.stop_embedded_beat()

    assert _labels() == ["hourly"]
    assert "beat entry probe-missing names unknown task outcry.tests.no_such_task" in caplog.text


def test_beat_does_not_start_unless_tasks_run_in_process(beat, settings):
    settings.OUTCRY_TASK_RUNNER = "celery"
    _schedule("probe-hourly", "outcry.tests.record_run", timedelta(hours=1), "hourly")

    tasking.start_embedded_beat(tick_s=0.02)
    time.sleep(0.2)

    assert tasking._beat_thread is None
    assert tasking_probes.runs == []
