"""Webhooks never reach this server's own network neighbourhood (SSRF) unless the owner allows it:
refused when the channel is saved (an address written as such, or a name that resolves to one then)
and at delivery (what a name resolves to), and a delivery connects to the very address it checked."""

import socket
import threading
import time

import pytest

from alerts import destinations
from alerts.models import NotificationChannel
from alerts.notifications.message import DeliveryError, Message
from alerts.notifications.webhook import send
from alerts.tests.webhook_server import webhook_server

MESSAGE = Message(subject="s", text="t", payload={"type": "incident.new"})


@pytest.fixture
def world(make_site, make_member, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    site = make_site()
    return {"site": site, "manager": make_member(site, "manager")}


def _create(client, site, url):
    return client.post(
        "/api/v1/notification-channels/",
        {"site": site.pk, "kind": "webhook", "name": f"Hook {url}"[:100], "url": url, "notify_on": ["new"]},
        format="json",
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://localhost:6379/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://100.64.0.1/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_a_webhook_to_a_non_public_address_is_refused_in_words(world, client_for, url):
    response = _create(client_for(world["manager"]), world["site"], url)

    assert response.status_code == 400, response.content
    (message,) = response.json()["error"]["fields"]["url"]
    assert "is not a public address" in message and "WEBHOOK_ALLOWED_NETWORKS" in message
    assert not NotificationChannel.objects.exists()


def test_public_addresses_names_and_allowed_networks_are_accepted(world, client_for, settings):
    client = client_for(world["manager"])
    assert _create(client, world["site"], "https://hooks.example.org/outcry").status_code == 201
    assert _create(client, world["site"], "https://93.184.215.14/outcry").status_code == 201

    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert _create(client, world["site"], "http://10.20.3.4/pager").status_code == 201
    assert _create(client, world["site"], "http://10.21.3.4/pager").status_code == 400


def _dns(monkeypatch, answers: dict[str, list[str]]) -> None:
    """Names in ``answers`` resolve to those addresses; any other name does not resolve."""

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0)) for address in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


def test_a_name_resolving_to_a_private_address_is_refused_when_saved(world, client_for, monkeypatch, settings):
    _dns(monkeypatch, {"pager.corp.example": ["93.184.215.14", "10.0.0.7"], "hooks.example.org": ["93.184.215.14"]})
    client = client_for(world["manager"])

    response = _create(client, world["site"], "https://pager.corp.example/in")

    assert response.status_code == 400, response.content
    (message,) = response.json()["error"]["fields"]["url"]
    assert message.startswith("pager.corp.example resolves to 10.0.0.7, which is not a public address")
    assert "WEBHOOK_ALLOWED_NETWORKS" in message
    assert not NotificationChannel.objects.exists()
    assert _create(client, world["site"], "https://hooks.example.org/in").status_code == 201
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/24"]
    assert _create(client, world["site"], "https://pager.corp.example/in").status_code == 201


def test_only_a_manager_makes_the_server_look_a_name_up_and_only_once(world, client_for, make_member, monkeypatch):
    """A viewer must not get a DNS oracle for internal names (the refusal names the address)."""
    lookups = []
    _dns(monkeypatch, {"pager.corp.example": ["10.0.0.7"], "hooks.example.org": ["93.184.215.14"]})
    resolve = socket.getaddrinfo
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, *args, **kwargs: lookups.append(host) or resolve(host, *args, **kwargs)
    )
    viewer = client_for(make_member(world["site"], "viewer"))

    refused = _create(viewer, world["site"], "https://pager.corp.example/in")
    assert refused.status_code == 403, refused.content
    assert "10.0.0.7" not in refused.content.decode() and lookups == []

    assert _create(client_for(world["manager"]), world["site"], "https://hooks.example.org/in").status_code == 201
    assert lookups == ["hooks.example.org"]


def test_a_channel_whose_name_moved_to_a_private_address_can_still_be_disabled(world, client_for, monkeypatch):
    client = client_for(world["manager"])
    _dns(monkeypatch, {"pager.corp.example": ["93.184.215.14"]})
    channel = _create(client, world["site"], "https://pager.corp.example/in").json()
    _dns(monkeypatch, {"pager.corp.example": ["10.0.0.7"]})  # the name moved since

    disabled = client.patch(f"/api/v1/notification-channels/{channel['id']}/", {"enabled": False}, format="json")
    moved = client.patch(
        f"/api/v1/notification-channels/{channel['id']}/", {"url": "https://pager.corp.example/other"}, format="json"
    )

    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    assert moved.status_code == 400 and "url" in moved.json()["error"]["fields"]
    assert NotificationChannel.objects.get(pk=channel["id"]).url == "https://pager.corp.example/in"


def test_a_name_dns_cannot_answer_for_is_saved_and_left_to_the_delivery_check(world, client_for, monkeypatch):
    """Offline control rooms: a save neither fails nor hangs on DNS; the delivery checks the name."""
    _dns(monkeypatch, {})
    client = client_for(world["manager"])
    assert _create(client, world["site"], "https://unresolvable.example/in").status_code == 201

    released = threading.Event()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: released.wait(30) and [])
    monkeypatch.setattr(destinations, "SAVE_LOOKUP_TIMEOUT_S", 0.2)
    started = time.monotonic()
    try:
        response = _create(client, world["site"], "https://hanging-dns.example/in")
    finally:
        released.set()

    assert response.status_code == 201, response.content
    assert time.monotonic() - started < 10  # it waited its 0.2 s, not for the hanging lookup (30 s)


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery_and_nothing_is_sent(world):
    with webhook_server() as server:
        port = server.server_address[1]
        # As if the name had resolved publicly when saved (or the check was bypassed): only the
        # delivery-time check stands between the manager's URL and the local service.
        channel = NotificationChannel.objects.create(
            site=world["site"], kind="webhook", name="Rebound", url=f"http://localhost:{port}/hooks", notify_on=["new"]
        )
        with pytest.raises(DeliveryError) as refused:
            send(channel=channel, message=MESSAGE)

    assert refused.value.message.startswith("refused: localhost resolves to ")
    assert "which is not a public address" in refused.value.message
    assert server.received == []


def test_a_delivery_connects_to_the_address_it_checked_with_the_name_as_host(world, settings, monkeypatch):
    """DNS rebinding: the name is resolved once, checked, and that address is the one connected to."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    answers = iter(["127.0.0.1", "169.254.169.254"])  # a second lookup would be rebound
    real_getaddrinfo = socket.getaddrinfo

    def rebinding_dns(host, port, *args, **kwargs):
        if host != "hooks.example.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    with webhook_server() as server:
        port = server.server_address[1]
        channel = NotificationChannel.objects.create(
            site=world["site"],
            kind="webhook",
            name="SOC",
            url=f"http://hooks.example.test:{port}/in",
            notify_on=["new"],
        )
        assert send(channel=channel, message=MESSAGE) == 200

    (request,) = server.received
    assert request["path"] == "/in"
    assert request["headers"]["Host"] == f"hooks.example.test:{port}"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "Enter a valid URL."),
        ("http://2130706433/x", "Enter a valid URL."),
        ("ftp://example.org/x", "A webhook URL starts with http:// or https://."),
    ],
)
def test_a_malformed_webhook_url_is_refused_once_in_plain_words(make_site, make_member, client_for, url, message):
    site = make_site()
    response = client_for(make_member(site, "manager")).post(
        "/api/v1/notification-channels/",
        {"site": site.pk, "kind": "webhook", "name": "Pager", "url": url, "notify_on": ["new"]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["url"] == [message]
