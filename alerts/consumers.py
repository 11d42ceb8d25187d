"""The operator console's websocket: live incident changes of the user's sites."""

import asyncio
import logging
from importlib import import_module

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from alerts.broadcast import access_group, incident_group
from alerts.policy import allowed_actions
from alerts.selectors import console_sites
from detection.streaming.services import site_sensors_group
from outcry.selectors import active_user

logger = logging.getLogger(__name__)

UNAUTHENTICATED = 4401
# The user's sites or roles changed: the browser reconnects at once and gets the new set.
ACCESS_CHANGED = 4409
ACCESS_RECHECK_S = 60.0


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/console/``: joins ``site.<id>.incidents`` and ``site.<id>.sensors`` for exactly the user's sites.

    Sends ``{"type": "hello", "sites": [{id, name, role}]}`` once, then every
    ``{"type": "incident.changed", "incident", "event"}`` of those sites with the incident's
    ``allowed_actions`` for this user added, and every ``{"type": "sensor.status", "sensor"}``
    (online/offline, last_seen, level) of their sensors. Answers ``{"type": "ping"}`` with pong; ignores the rest.
    Anonymous users are refused with close code 4401.

    What a socket may see is fixed when it connects, so it is checked again while it is open: at
    once when one of the user's memberships, the user or their sign-in changes (``access.changed``
    on ``user.<id>.access``), and every ``access_recheck_s`` for what sends nothing (an expired
    session, a new site an admin sees). Signed out, expired or deactivated closes with 4401; other
    sites or roles close with 4409, and the browser reconnects to the new set.
    """

    access_recheck_s = ACCESS_RECHECK_S

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()  # accept first so the browser sees the close code, not a failed handshake
            await self.close(code=UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.closing = False
        self.sites = await database_sync_to_async(console_sites)(user=user)
        self.roles = {site["id"]: site["role"] for site in self.sites}
        self.groups_joined = [access_group(user.pk)] + [
            group for site in self.sites for group in (incident_group(site["id"]), site_sensors_group(site["id"]))
        ]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "sites": self.sites})
        self.recheck_timer = asyncio.create_task(self._recheck_periodically())

    async def disconnect(self, code) -> None:
        timer = getattr(self, "recheck_timer", None)
        if timer is not None:
            timer.cancel()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def access_changed(self, message: dict) -> None:
        await self._recheck_access()

    async def _recheck_periodically(self) -> None:
        while not self.closing:
            await asyncio.sleep(self.access_recheck_s)
            await self._recheck_access()

    async def _recheck_access(self) -> None:
        if self.closing:
            return
        try:
            user = await self._current_user()
            changed = user is not None and await database_sync_to_async(console_sites)(user=user) != self.sites
        except Exception:
            # A database blip must not cut operators off their alerts: the next check tries again.
            logger.warning("console of user %s: access check failed", self.user_id, exc_info=True)
            return
        if user is None:
            code = UNAUTHENTICATED
        elif changed:
            code = ACCESS_CHANGED
        else:
            return
        self.closing = True  # checks stop here: the browser reconnects or signs in again
        await self.close(code=code)

    async def _current_user(self):
        """The user this socket still acts for, read afresh; None once signed out, expired or deactivated."""
        session = self.scope.get("session")
        if session is not None and session.session_key:
            # The scope's session caches what it read at connect: load the stored one again.
            store = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
            user = await get_user({"session": store})
            return user if user.is_authenticated and user.pk == self.user_id else None
        return await database_sync_to_async(active_user)(pk=self.user_id)

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
