"""Browser pages stream with a short-lived token a manager obtains; the sensor key is never shown."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.core import signing

from detection.streaming import tokens
from detection.streaming.consumer import SensorStreamConsumer
from detection.streaming.protocol import CloseCode
from detection.tests.streaming.helpers import (
    connect_and_hello,
    expect_close,
    hello,
    send_hello,
)
from sites.models import Membership, Role
from sites.services import sensor_key_rotate


def _url(sensor) -> str:
    return f"/api/v1/sensors/{sensor.pk}/stream-token/"


@pytest.mark.django_db
def test_managers_get_a_token_and_never_the_key(stream_world, client_for):
    response = client_for(stream_world.manager).post(_url(stream_world.sensor))
    assert response.status_code == 201
    body = response.json()
    assert body["expires_in"] == 300 and body["stream_path"] == "/ws/sensors/stream/"
    assert stream_world.key not in json.dumps(body)
    assert tokens.grant_from_stream_token(body["token"]) == tokens.StreamGrant(
        sensor=stream_world.sensor, issuer_id=stream_world.manager.pk
    )


@pytest.mark.django_db
def test_others_get_no_token(stream_world, client_for, make_user, make_site, make_member):
    assert client_for(stream_world.operator).post(_url(stream_world.sensor)).status_code == 403
    assert client_for(make_user()).post(_url(stream_world.sensor)).status_code == 404
    assert client_for(make_member(make_site(), "manager")).post(_url(stream_world.sensor)).status_code == 404
    assert client_for(None).post(_url(stream_world.sensor)).status_code in (401, 403)


@pytest.mark.django_db
def test_expired_and_rotated_tokens_are_worthless(stream_world, monkeypatch):
    token = tokens.stream_token_issue(sensor=stream_world.sensor, user=stream_world.manager)
    monkeypatch.setattr(tokens, "STREAM_TOKEN_MAX_AGE_S", -1)
    assert tokens.grant_from_stream_token(token) is None
    monkeypatch.undo()
    sensor_key_rotate(sensor=stream_world.sensor)
    assert tokens.grant_from_stream_token(token) is None
    assert tokens.grant_from_stream_token(signing.dumps({"sensor": stream_world.sensor.pk}, salt="other")) is None


@pytest.mark.django_db
def test_a_token_is_worthless_once_its_manager_no_longer_manages_the_site(stream_world):
    token = tokens.stream_token_issue(sensor=stream_world.sensor, user=stream_world.manager)
    assert tokens.grant_from_stream_token(token) is not None

    Membership.objects.filter(user=stream_world.manager, site=stream_world.site).update(role=Role.OPERATOR)

    assert tokens.grant_from_stream_token(token) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_hello_with_a_token_streams_as_its_sensor(stream_world):
    token = await sync_to_async(tokens.stream_token_issue)(sensor=stream_world.sensor, user=stream_world.manager)
    communicator, ready = await connect_and_hello(hello(token=token))
    assert json.loads(ready["text"])["sensor"]["id"] == stream_world.sensor.pk
    await communicator.disconnect()

    await sync_to_async(sensor_key_rotate)(sensor=stream_world.sensor)
    await expect_close(await send_hello(hello(token=token)), CloseCode.UNAUTHORIZED)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_stream_opened_with_a_token_closes_when_its_manager_is_removed(stream_world, monkeypatch):
    monkeypatch.setattr(SensorStreamConsumer, "key_recheck_s", 0.3)
    token = await sync_to_async(tokens.stream_token_issue)(sensor=stream_world.sensor, user=stream_world.manager)
    communicator, _ready = await connect_and_hello(hello(token=token))

    await sync_to_async(Membership.objects.filter(user=stream_world.manager, site=stream_world.site).delete)()

    reason = await expect_close(communicator, CloseCode.UNAUTHORIZED, timeout=10)
    assert reason == "you are no longer a manager of this sensor's site"


@pytest.mark.django_db
def test_the_protocol_page_is_served(client):
    response = client.get("/api/v1/streaming/protocol/")
    assert response.status_code == 200
    assert b"4429" in response.content and b"hello" in response.content
    assert client.get("/api/v1/streaming/protocol/?format=md")["Content-Type"].startswith("text/markdown")
