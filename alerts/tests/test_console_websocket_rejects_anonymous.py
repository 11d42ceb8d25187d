import pytest
from django.contrib.auth.models import AnonymousUser

from alerts.tests.console import console_for, fresh_channel_layer  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("fresh_channel_layer"),
]


async def test_anonymous_connection_is_closed_with_4401():
    communicator = console_for(AnonymousUser())

    await communicator.connect(timeout=5)

    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
