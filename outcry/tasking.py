"""Send Celery tasks after commit, in whichever way this deployment runs them.

- ``celery``: to the broker, for the separate ``celery worker`` processes (production).
- ``thread``: to a thread pool inside the server process (embedded mode): off the request path,
  same task code.
- ``inline``: synchronously right after commit (tests that want the result at once).

The embedded mode also runs the periodic tasks of ``CELERY_BEAT_SCHEDULE`` in a daemon thread,
standing in for ``celery beat``.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Task
from celery.schedules import schedule as interval_schedule
from django.conf import settings
from django.db import close_old_connections, transaction

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_beat_thread: threading.Thread | None = None
_beat_stop = threading.Event()


def enqueue(task: Task, *args: Any, **kwargs: Any) -> None:
    """Run ``task(*args, **kwargs)`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: dispatch(task, *args, **kwargs))


def dispatch(task: Task, *args: Any, **kwargs: Any) -> None:
    runner = settings.OUTCRY_TASK_RUNNER
    if runner == "celery":
        task.apply_async(args=args, kwargs=kwargs)
    elif runner == "inline":
        task.apply(args=args, kwargs=kwargs, throw=True)
    else:
        _get_executor().submit(_run_in_thread, task, args, kwargs)


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=settings.OUTCRY_TASK_THREADS, thread_name_prefix="outcry-task")
        return _executor


def _run_in_thread(task: Task, args: tuple, kwargs: dict) -> None:
    # Nobody reads this future's result: anything raised here must be logged or it is lost.
    try:
        close_old_connections()
        try:
            result = task.apply(args=args, kwargs=kwargs)
            if result.failed():
                logger.error("task %s failed: %r", task.name, result.result)
        finally:
            close_old_connections()
    except Exception:
        logger.exception("task %s could not run", task.name)


def wait_for_embedded_tasks(timeout: float = 30.0) -> None:
    """Block until the embedded pool has run everything submitted so far (tests and benchmarks).

    Every pool thread must hold one barrier task at the same moment, which it can only do once it
    has finished what it was running; the queue is FIFO, so everything submitted earlier is done.
    Returns at once when nothing was ever submitted.
    """
    executor = _executor
    if executor is None:
        return
    threads = executor._max_workers
    barrier = threading.Barrier(threads, timeout=timeout)
    futures = [executor.submit(barrier.wait) for _ in range(threads)]
    deadline = time.monotonic() + timeout
    for future in futures:
        future.result(timeout=max(0.0, deadline - time.monotonic()))


def start_embedded_beat(tick_s: float = 1.0) -> None:
    """Start the in-process stand-in for ``celery beat`` (embedded mode, once per process)."""
    global _beat_thread
    if settings.OUTCRY_TASK_RUNNER != "thread" or _beat_thread is not None:
        return
    _beat_stop.clear()
    _beat_thread = threading.Thread(target=_beat_loop, args=(tick_s,), name="outcry-beat", daemon=True)
    _beat_thread.start()


def stop_embedded_beat(timeout: float = 5.0) -> None:
    """Stop the in-process beat thread, if running (tests; a server just exits)."""
    global _beat_thread
    if _beat_thread is None:
        return
    _beat_stop.set()
    _beat_thread.join(timeout)
    _beat_thread = None


def _beat_loop(tick_s: float) -> None:
    from outcry.celery import app

    last_run: dict[str, datetime] = {}
    while not _beat_stop.is_set():
        now = datetime.now(UTC)
        for name, entry in app.conf.beat_schedule.items():
            every = entry["schedule"]
            if isinstance(every, int | float | timedelta):
                every = interval_schedule(run_every=every)
            is_due, _next_in = every.is_due(last_run.get(name, now - timedelta(days=1)))
            if is_due:
                last_run[name] = now
                task = app.tasks.get(entry["task"])
                if task is None:
                    logger.error("beat entry %s names unknown task %s", name, entry["task"])
                    continue
                _get_executor().submit(
                    _run_in_thread, task, tuple(entry.get("args", ())), dict(entry.get("kwargs", {}))
                )
        _beat_stop.wait(tick_s)


def register_periodic_task(name: str, task_name: str, every: float | timedelta | Callable) -> None:
    """Add a periodic task to the beat schedule (call from an AppConfig.ready())."""
    from outcry.celery import app

    app.conf.beat_schedule = {**app.conf.beat_schedule, name: {"task": task_name, "schedule": every}}
