"""outcry.tasking: tasks run only once their transaction commits, in the configured runner."""

import threading

import pytest
from django.db import transaction

from outcry import tasking
from outcry.tests import tasking_probes
from outcry.tests.tasking_probes import fail, record_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_probes():
    tasking_probes.reset()
    yield
    tasking_probes.reset()


@pytest.fixture
def thread_runner(settings):
    settings.OUTCRY_TASK_RUNNER = "thread"


@pytest.fixture
def inline_runner(settings):
    settings.OUTCRY_TASK_RUNNER = "inline"


def test_thread_runner_waits_for_commit_then_runs_off_the_calling_thread(
    thread_runner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tasking.enqueue(record_run, "upload")
        assert not tasking_probes.ran.wait(0.2), "ran before the transaction committed"

    assert len(callbacks) == 1

    assert tasking_probes.ran.wait(10), "the task never ran"
    tasking.wait_for_embedded_tasks()
    assert tasking_probes.runs == [{"label": "upload", "thread": tasking_probes.runs[0]["thread"]}]
    assert tasking_probes.runs[0]["thread"].startswith("outcry-task")
    assert tasking_probes.runs[0]["thread"] != threading.current_thread().name


def test_thread_runner_returns_before_the_task_finishes(thread_runner):
    release = threading.Event()
    started = threading.Event()

    def slow_apply(*args, **kwargs):
        started.set()
        release.wait(10)

    record_run.apply, original = slow_apply, record_run.apply
    try:
        tasking.dispatch(record_run, "slow")
        assert started.wait(10)
        assert not release.is_set()  # dispatch came back while the task is still running
    finally:
        release.set()
        tasking.wait_for_embedded_tasks()
        record_run.apply = original


def test_rolled_back_transaction_runs_nothing(thread_runner, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        tasking.enqueue(record_run, "never")
        raise RuntimeError("roll back")

    assert callbacks == []
    tasking.wait_for_embedded_tasks()
    assert tasking_probes.runs == []


def test_thread_runner_logs_a_failing_task_instead_of_raising(thread_runner, caplog):
    tasking.dispatch(fail)
    tasking.wait_for_embedded_tasks()

    assert "task outcry.tests.fail failed" in caplog.text


def test_inline_runner_runs_synchronously_in_the_calling_thread_after_commit(
    inline_runner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tasking.enqueue(record_run, "inline")
        assert tasking_probes.runs == []

    assert tasking_probes.runs == [{"label": "inline", "thread": threading.current_thread().name}]


def test_inline_runner_raises_the_task_error(inline_runner):
    with pytest.raises(RuntimeError, match="failed on purpose"):
        tasking.dispatch(fail)


def test_thread_runner_logs_a_task_that_could_not_start(thread_runner, monkeypatch, caplog):
    def database_gone():
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(tasking, "close_old_connections", database_gone)
    tasking.dispatch(record_run, "lost")
    tasking.wait_for_embedded_tasks()

    assert tasking_probes.runs == []
    assert "task outcry.tests.record_run could not run" in caplog.text
    assert "database unreachable" in caplog.text
