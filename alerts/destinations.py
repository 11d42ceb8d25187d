"""Where webhooks may be sent: public addresses, and the networks the server's owner allows.

A manager types a webhook URL and the server POSTs to it. Unchecked, that is a request from inside
the network to any address a manager names (SSRF): the cloud metadata service, the database, the
admin page of another host, and the delivery log reports which ports answer. So a destination whose
address is not global (loopback, private, link-local, shared/CGNAT, multicast, reserved,
unspecified) is refused unless it lies in ``WEBHOOK_ALLOWED_NETWORKS``, the on-premises receivers
(a paging gateway, a VMS) the owner lists. It is checked when the channel is saved (an address
written as such, or localhost) and at every delivery after resolving the name; the delivery then
connects to the address it checked, so a DNS answer that changes in between (rebinding) cannot
slip through.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOW_HINT = "list its network in WEBHOOK_ALLOWED_NETWORKS to allow it"


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


def validate_webhook_url(url: str) -> None:
    """Refuses, when the channel is saved, a URL that names a non-public address outright (a name is
    resolved and checked at each delivery, when DNS is certain to be reachable)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        address = ipaddress.ip_address("127.0.0.1")
    else:
        address = _literal_address(host)
    if address is not None and not is_allowed(address):
        raise ValidationError(
            f"{host} is not a public address: webhooks go to public addresses only ({ALLOW_HINT}).",
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
    refused = [address for address in addresses if not is_allowed(ipaddress.ip_address(address.split("%")[0]))]
    if refused:
        raise DestinationRefused(f"{host} resolves to {refused[0]}, which is not a public address ({ALLOW_HINT})")
    return addresses[0]
