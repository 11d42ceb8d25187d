"""Helpers for the console websocket tests."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from alerts.routing import websocket_urlpatterns


@pytest.fixture
def fresh_channel_layer():
    """A new channel layer per test: the in-memory layer's queues belong to one event loop."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def console_for(user) -> WebsocketCommunicator:
    """A communicator on /ws/console/ with ``user`` already authenticated (as AuthMiddleware would)."""
    from django.contrib.auth.models import AnonymousUser

    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/console/")
    communicator.scope["user"] = user or AnonymousUser()
    return communicator


async def connected_console(user) -> tuple[WebsocketCommunicator, dict]:
    communicator = console_for(user)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return communicator, hello


async def next_incident_message(communicator: WebsocketCommunicator, timeout: float = 5) -> dict:
    message = json.loads(await communicator.receive_from(timeout=timeout))
    assert message["type"] == "incident.changed", message
    return message


async def browser_console(user):
    """(Django test client, communicator): a signed-in browser's /ws/console/ through the project's ASGI
    app with its session cookie, as in production; connected, nothing received yet."""
    from django.conf import settings
    from django.test import Client

    from outcry import tasking
    from outcry.asgi import application

    tasking.stop_embedded_beat()  # importing outcry.asgi starts the embedded beat: not wanted in tests
    client = Client()
    await sync_to_async(client.force_login)(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    communicator = WebsocketCommunicator(
        application, "/ws/console/", headers=[(b"cookie", cookie.encode()), (b"origin", b"http://127.0.0.1")]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return client, communicator
