"""Platform-level Celery tasks."""

from typing import Any

from celery import shared_task

from outcry import realtime

PING_EVENT_TYPE = "outcry.ping"


@shared_task(name="outcry.tasks.broadcast_ping")
def broadcast_ping(group: str, payload: dict[str, Any]) -> None:
    """Send ``payload`` to a channel-layer group as an ``outcry.ping`` event.

    A diagnostic for operations: it proves that a worker can reach the channel layer that the
    web process's websockets listen on (the path every live incident update takes).
    """
    realtime.group_send(group, {"type": PING_EVENT_TYPE, "payload": payload})
