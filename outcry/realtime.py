"""Push live events to channel-layer groups, only after the data they describe is committed."""

import asyncio
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def register_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the ASGI server's event loop (the in-memory layer's queues live on it)."""
    global _server_loop
    with _loop_lock:
        _server_loop = loop


def broadcast_after_commit(group: str, message: dict[str, Any], *, robust: bool = False) -> None:
    """``group_send`` once the transaction commits; ``robust``: a failed send is logged, not raised."""
    transaction.on_commit(lambda: group_send(group, message), robust=robust)


def group_send(group: str, message: dict[str, Any]) -> None:
    """Send from synchronous code (a view, a service, a task thread or a Celery worker).

    The in-process layer keeps asyncio queues bound to the server's loop; sending from another
    thread's loop would not wake the receivers, so in embedded mode the send is run on that loop.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _server_loop
    if isinstance(layer, InMemoryChannelLayer) and loop is not None and loop.is_running():
        future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        future.result(timeout=5)
        return
    async_to_sync(layer.group_send)(group, message)
