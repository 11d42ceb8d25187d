"""Signed webhooks: POST the incident as JSON, signed with the channel's secret.

Headers: ``X-Outcry-Timestamp`` (Unix seconds) and ``X-Outcry-Signature``:
``"sha256=" + hex(HMAC-SHA256(secret, f"{timestamp}.{body}"))``. A receiver recomputes the HMAC over
the raw body, compares in constant time, and refuses timestamps more than a few minutes old.
Any 2xx answer is success; redirects are not followed (they count as failures).
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from alerts.models import NotificationChannel
from alerts.notifications.message import DeliveryError, Message

TIMEOUT_S = 5
USER_AGENT = "Outcry-Webhook/1.0"


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(*, secret: str, timestamp: str, body: bytes, signature: str, max_age_s: int = 300) -> bool:
    """What a receiver does (also used by the tests)."""
    if abs(time.time() - int(timestamp)) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret=secret, timestamp=timestamp, body=body), signature)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def send(*, channel: NotificationChannel, message: Message) -> int | None:
    body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        channel.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Outcry-Timestamp": timestamp,
            "X-Outcry-Signature": sign(secret=channel.secret, timestamp=timestamp, body=body),
        },
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_S) as response:
            return response.status
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code} {error.reason}", response_code=error.code) from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"could not reach {channel.url}: {reason}") from error
