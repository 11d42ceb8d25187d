"""ASGI entry point: HTTP through Django, websockets through each app's ``routing.websocket_urlpatterns``."""

import asyncio
import os
import threading
from importlib import import_module
from importlib.util import find_spec

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outcry.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402

from outcry import realtime, signals, tasking  # noqa: E402


def _websocket_urlpatterns() -> list:
    patterns: list = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.routing"
        if find_spec(module_name) is not None:
            # Third-party apps may own a `routing` module too (channels does): take only URL lists.
            patterns.extend(getattr(import_module(module_name), "websocket_urlpatterns", []))
    return patterns


class RecordServerLoop:
    """Records the server's event loop so task threads can reach the in-memory channel layer."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        realtime.register_server_loop(asyncio.get_running_loop())
        return await self.app(scope, receive, send)


application = RecordServerLoop(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(_websocket_urlpatterns()))),
        }
    )
)
tasking.start_embedded_beat()
if settings.OUTCRY_WARM_UP_AT_START:
    # In the background: the server accepts connections while the model loads.
    threading.Thread(target=signals.announce_server_started, name="outcry-warm-up", daemon=True).start()
