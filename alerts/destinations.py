"""Where webhooks may be sent: public addresses, and the networks the server's owner allows.

A manager types a webhook URL and the server POSTs to it. Unchecked, that is a request from inside
the network to any address a manager names (SSRF): the cloud metadata service, the database, the
admin page of another host, and the delivery log reports which ports answer. So a destination whose
address is not global (loopback, private, link-local, shared/CGNAT, multicast, reserved,
unspecified) is refused unless it lies in ``WEBHOOK_ALLOWED_NETWORKS``, the on-premises receivers
(a paging gateway, a VMS) the owner lists. It is checked when the channel is saved (an address
written as such, localhost, or what the name resolves to if DNS answers within a moment) and at
every delivery after resolving the name; the delivery then connects to the address it checked, so a
DNS answer that changes in between (rebinding) cannot slip through. The delivery check is the guard;
the one at save is there so that a manager learns of a refused address at once, not from failed
deliveries.
"""

import contextlib
import ipaddress
import socket
import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOW_HINT = "list its network in WEBHOOK_ALLOWED_NETWORKS to allow it"
# How long saving a channel waits for DNS: a control room's resolver may be slow or unreachable,
# and then the name is left to the delivery-time check.
SAVE_LOOKUP_TIMEOUT_S = 2.0


class DestinationRefused(Exception):
    pass


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(network, strict=False) for network in settings.WEBHOOK_ALLOWED_NETWORKS]


def is_allowed(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in network for network in _allowed_networks()):
        return True
    return address.is_global and not address.is_multicast


def _literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _first_refused(addresses: list[str]) -> str | None:
    return next((a for a in addresses if not is_allowed(ipaddress.ip_address(a.split("%")[0]))), None)


def _addresses_within(host: str, timeout_s: float) -> list[str]:
    """What ``host`` resolves to now, or [] if DNS fails or does not answer within ``timeout_s``
    (getaddrinfo has no timeout of its own, so it runs in a thread left behind if it hangs)."""
    answers: list[str] = []

    def lookup() -> None:
        with contextlib.suppress(OSError, UnicodeError):
            answers.extend(answer[4][0] for answer in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM))

    thread = threading.Thread(target=lookup, name="webhook-save-dns", daemon=True)
    thread.start()
    thread.join(timeout_s)
    return [] if thread.is_alive() else answers


def validate_webhook_url(url: str) -> None:
    """Refuses, when the channel is saved, a URL whose host is a non-public address: written as such,
    localhost, or a name that resolves to one now. A name DNS cannot answer for in time is accepted
    and checked at each delivery."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return
    if host == "localhost" or host.endswith(".localhost"):
        address = ipaddress.ip_address("127.0.0.1")
    else:
        address = _literal_address(host)
    if address is not None:
        if not is_allowed(address):
            raise ValidationError(
                f"{host} is not a public address: webhooks go to public addresses only ({ALLOW_HINT}).",
                code="destination_refused",
            )
        return
    refused = _first_refused(_addresses_within(host, SAVE_LOOKUP_TIMEOUT_S))
    if refused is not None:
        raise ValidationError(
            f"{host} resolves to {refused}, which is not a public address: webhooks go to public addresses only "
            f"({ALLOW_HINT}).",
            code="destination_refused",
        )


def resolve_destination(host: str, port: int) -> str:
    """The address to connect to for ``host``: every address the name resolves to must be allowed
    (else DestinationRefused), and the first is returned, for the connection to use it and no other."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DestinationRefused(f"{host} does not resolve: {exc}") from exc
    addresses = [answer[4][0] for answer in answers]
    refused = _first_refused(addresses)
    if refused is not None:
        raise DestinationRefused(f"{host} resolves to {refused}, which is not a public address ({ALLOW_HINT})")
    return addresses[0]
