"""The ASGI application the wiring tests serve with a real daphne: Outcry's own HTTP app and
server-loop hook, plus one probe websocket that asks for ``outcry.tasks.broadcast_ping`` and relays
what reaches its group. Test-only: production routes nothing like it.
"""

import asyncio

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from outcry import realtime, tasking
from outcry.asgi import RecordServerLoop, django_asgi_app
from outcry.tasks import broadcast_ping


class WiringProbeConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.group = self.scope["url_route"]["kwargs"]["group"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # RecordServerLoop must have told outcry.realtime which loop serves this connection.
        loop_registered = realtime._server_loop is asyncio.get_running_loop()
        await self.send_json({"joined": self.group, "server_loop_registered": loop_registered})

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: dict, **kwargs) -> None:
        # The same call an upload view makes: the deployment's runner decides where the task runs.
        await sync_to_async(tasking.dispatch)(broadcast_ping, self.group, content)

    async def outcry_ping(self, event: dict) -> None:
        await self.send_json({"received": event["payload"]})


application = RecordServerLoop(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": URLRouter([path("ws/wiring-probe/<str:group>/", WiringProbeConsumer.as_asgi())]),
        }
    )
)
