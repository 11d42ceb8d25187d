"""Liveness and readiness probes (JSON, no authentication)."""

import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check()
    except Exception as exc:  # a probe reports every failure instead of raising
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1), **(detail or {})}


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _check_channel_layer() -> dict:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)("readyz.")
    marker = uuid.uuid4().hex
    async_to_sync(layer.send)(channel, {"type": "readyz.ping", "marker": marker})
    message = async_to_sync(layer.receive)(channel)
    if message.get("marker") != marker:
        raise RuntimeError("channel layer returned a different message")
    return {"backend": type(layer).__name__}


def _check_broker() -> dict:
    if settings.OUTCRY_TASK_RUNNER != "celery":
        return {"backend": f"in-process ({settings.OUTCRY_TASK_RUNNER})"}
    from outcry.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"backend": app.conf.broker_url.split("://", 1)[0]}


@require_GET
@never_cache
def readyz(request):
    checks = {
        "database": _timed(_check_database),
        "channel_layer": _timed(_check_channel_layer),
        "broker": _timed(_check_broker),
    }
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
