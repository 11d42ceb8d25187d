"""Signals the platform sends for every app to react to."""

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent once by each server process (outcry.asgi), from a background thread, as it starts: apps load
# what their first request would otherwise wait for. In embedded mode the server process analyses
# uploads, and in every mode it scores live streams, so a cold model would delay the first alert.
server_started = Signal()


def announce_server_started() -> None:
    """Send ``server_started``; a receiver that fails is logged and the others still run."""
    failures = [result for _, result in server_started.send_robust(sender=None) if isinstance(result, Exception)]
    if failures:
        logger.error(
            "warm-up failed at server start (%d of its receivers); the first requests will load what they need",
            len(failures),
        )
