"""The console is reachable through the project's ASGI app with the browser's session cookie."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from alerts.tests.console import fresh_channel_layer  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("fresh_channel_layer"),
]


async def test_signed_in_browser_gets_hello_through_outcry_asgi(make_site, make_member):
    from outcry import tasking
    from outcry.asgi import application

    tasking.stop_embedded_beat()  # importing outcry.asgi starts the embedded beat: not wanted in tests
    site = await sync_to_async(make_site)("Campus")
    user = await sync_to_async(make_member)(site, "manager")
    client = Client()
    await sync_to_async(client.force_login)(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    communicator = WebsocketCommunicator(
        application, "/ws/console/", headers=[(b"cookie", cookie.encode()), (b"origin", b"http://127.0.0.1")]
    )

    connected, _ = await communicator.connect(timeout=5)

    assert connected
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "hello",
        "sites": [{"id": site.pk, "name": "Campus", "role": "manager"}],
    }
    await communicator.disconnect()
