"""Signed webhooks: POST the incident as JSON, signed with the channel's secret.

Headers: ``X-Outcry-Timestamp`` (Unix seconds) and ``X-Outcry-Signature``:
``"sha256=" + hex(HMAC-SHA256(secret, f"{timestamp}.{body}"))``. A receiver recomputes the HMAC over
the raw body, compares in constant time, and refuses timestamps more than a few minutes old.
Any 2xx answer is success; redirects are not followed (they count as failures). Destinations are
checked by ``destinations`` (no private addresses unless the owner allows them).
"""

import hashlib
import hmac
import http.client
import json
import socket
import time
from urllib.parse import urlsplit

from alerts.destinations import DestinationRefused, resolve_destination
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


def send(*, channel: NotificationChannel, message: Message) -> int | None:
    body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    parts = urlsplit(channel.url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    try:
        address = resolve_destination(host, port)
    except DestinationRefused as refusal:
        raise DeliveryError(f"refused: {refusal}") from refusal
    connection_class = http.client.HTTPSConnection if https else http.client.HTTPConnection
    connection = connection_class(host, port, timeout=TIMEOUT_S)  # Host header and TLS name: the host
    # ... but the socket goes to the address just checked, not to a second DNS answer.
    connection._create_connection = lambda _host_port, *args, **kwargs: socket.create_connection(
        (address, port), *args, **kwargs
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Outcry-Timestamp": timestamp,
        "X-Outcry-Signature": sign(secret=channel.secret, timestamp=timestamp, body=body),
    }
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        status, reason = response.status, response.reason
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryError(f"could not reach {channel.url}: {error}") from error
    finally:
        connection.close()
    if not 200 <= status < 300:  # a redirect is not followed: it counts as a failure
        raise DeliveryError(f"HTTP {status} {reason}", response_code=status)
    return status
