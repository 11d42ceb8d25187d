"""Celery tasks that record where and when they ran (for the tasking tests)."""

import threading

from celery import shared_task

runs: list[dict] = []
ran = threading.Event()


def reset() -> None:
    runs.clear()
    ran.clear()


@shared_task(name="outcry.tests.record_run")
def record_run(label: str) -> str:
    runs.append({"label": label, "thread": threading.current_thread().name})
    ran.set()
    return label


@shared_task(name="outcry.tests.fail")
def fail() -> None:
    raise RuntimeError("probe task failed on purpose")
