"""How fast one caller may upload recordings."""

from outcry.api.throttles import CacheTolerantScopedRateThrottle
from sites.models import Sensor


class UploadRateThrottle(CacheTolerantScopedRateThrottle):
    """The view's ``throttle_scope`` (``recording_upload``) per caller: a sensor by its id, a person
    by theirs, anyone else by address (sensors behind one NAT, or people behind one proxy, count
    apart). Each upload is decoded in the request and again by a worker: an unbounded sender would
    take the CPU of every site."""

    def get_cache_key(self, request, view):
        if isinstance(request.auth, Sensor):
            ident = f"sensor-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
