"""The console is reachable through the project's ASGI app with the browser's session cookie."""

import pytest
from asgiref.sync import sync_to_async

from alerts.tests.console import browser_console, fresh_channel_layer  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("fresh_channel_layer"),
]


async def test_signed_in_browser_gets_hello_through_outcry_asgi(make_site, make_member):
    site = await sync_to_async(make_site)("Campus")
    user = await sync_to_async(make_member)(site, "manager")

    _client, communicator = await browser_console(user)

    assert await communicator.receive_json_from(timeout=5) == {
        "type": "hello",
        "sites": [{"id": site.pk, "name": "Campus", "role": "manager"}],
    }
    await communicator.disconnect()
