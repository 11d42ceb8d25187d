"""Throttles that count in the shared cache and step aside, logged, when it cannot be reached."""

import logging

from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)


class CacheTolerantScopedRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle, except that a cache outage lets the request through with a warning
    instead of answering 500: a Redis blip must not lock integrators and operators out."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:  # any cache backend's connection error
            logger.warning("Throttle %r off: the cache cannot be reached", self.scope, exc_info=True)
            return True
