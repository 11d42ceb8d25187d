"""The operator console's websocket: live incident changes of the user's sites."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from alerts.broadcast import incident_group
from alerts.policy import allowed_actions
from alerts.selectors import console_sites
from detection.streaming.services import site_sensors_group

UNAUTHENTICATED = 4401


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/console/``: joins ``site.<id>.incidents`` and ``site.<id>.sensors`` for exactly the user's sites.

    Sends ``{"type": "hello", "sites": [{id, name, role}]}`` once, then every
    ``{"type": "incident.changed", "incident", "event"}`` of those sites with the incident's
    ``allowed_actions`` for this user added, and every ``{"type": "sensor.status", "sensor"}``
    (online/offline, last_seen, level) of their sensors. Answers ``{"type": "ping"}`` with pong; ignores the rest.
    Anonymous users are refused with close code 4401.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()  # accept first so the browser sees the close code, not a failed handshake
            await self.close(code=UNAUTHENTICATED)
            return
        self.sites = await database_sync_to_async(console_sites)(user=user)
        self.roles = {site["id"]: site["role"] for site in self.sites}
        self.groups_joined = [
            group for site in self.sites for group in (incident_group(site["id"]), site_sensors_group(site["id"]))
        ]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "sites": self.sites})

    async def disconnect(self, code) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if text_data is None:
            return  # binary frames mean nothing here
        try:
            await super().receive(text_data=text_data, **kwargs)
        except ValueError:
            return  # not JSON: ignored like any other client message

    async def incident_changed(self, message: dict) -> None:
        incident = dict(message["incident"])
        role = self.roles.get(incident["site"]["id"])
        if role is None:
            return
        incident["allowed_actions"] = allowed_actions(role=role, status=incident["status"])
        await self.send_json({"type": "incident.changed", "incident": incident, "event": message["event"]})

    async def sensor_status(self, message: dict) -> None:
        if message.get("sensor", {}).get("site") in self.roles:
            await self.send_json({"type": "sensor.status", "sensor": message["sensor"]})
