"""The brakes on password guessing count in the cache, which in production is Redis: every web
process sees one count. A cache outage turns the brakes off (logged) instead of locking everyone out."""

import logging

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from rest_framework.test import APIClient

from outcry.signin_brake import MAX_FAILED_SIGN_INS

pytestmark = pytest.mark.django_db


def sign_in(client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


@pytest.mark.services
def test_failed_sign_ins_are_counted_where_another_process_reads_them(client, make_user):
    make_user(username="guard", password="right-password-1")
    another_process_cache = caches.create_connection("default")  # its own Redis connection pool

    for _ in range(MAX_FAILED_SIGN_INS):
        sign_in(client, "guard", "wrong")

    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert another_process_cache.get("sign-in-failures:127.0.0.1:guard") == MAX_FAILED_SIGN_INS
    # and a count another process made refuses here
    another_process_cache.set("sign-in-failures:127.0.0.1:other", MAX_FAILED_SIGN_INS, 60)
    make_user(username="other", password="right-password-2")
    assert "Too many failed sign-ins" in sign_in(client, "other", "right-password-2").content.decode()


@pytest.mark.services
def test_cache_keys_do_not_collide_with_the_channel_layer_or_celery():
    cache.set("probe", 1, 60)
    client = cache._cache.get_client(write=True)
    assert [key.decode() for key in client.scan_iter("*probe*")] == [f"{settings.CACHE_KEY_PREFIX}:1:probe"]


class _UnreachableCache:
    def __getattr__(self, name):
        def refuse(*args, **kwargs):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return refuse


def test_sign_in_works_while_the_cache_is_unreachable(client, make_user, monkeypatch, caplog):
    user = make_user(username="guard", password="right-password-1")
    monkeypatch.setattr("outcry.signin_brake.cache", _UnreachableCache())

    with caplog.at_level(logging.WARNING, logger="outcry.signin_brake"):
        wrong = sign_in(client, "guard", "wrong")
        right = sign_in(client, "guard", "right-password-1")

    assert "Please enter a correct username" in wrong.content.decode()
    assert right.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    assert "Sign-in brake off" in caplog.text


def test_token_login_works_while_the_cache_is_unreachable(make_user, monkeypatch, caplog):
    make_user(username="integrator", password="right-password-1")
    monkeypatch.setattr("rest_framework.throttling.SimpleRateThrottle.cache", _UnreachableCache())

    with caplog.at_level(logging.WARNING, logger="outcry.api.throttles"):
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "integrator", "password": "right-password-1"}, format="json"
        )

    assert response.status_code == 201, response.content
    assert "Throttle 'token_login' off" in caplog.text
