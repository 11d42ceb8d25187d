from rest_framework.test import APIClient

from outcry.models import ApiToken, hash_secret
from outcry.signin_brake import MAX_FAILED_SIGN_INS


def _login(username: str, password: str, **extra):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password, **extra}, format="json")


def test_login_returns_a_token_that_authenticates(make_user):
    user = make_user("alice", password="s3cret-pass-word")

    response = _login("alice", "s3cret-pass-word", name="laptop")

    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("oct_")
    assert body["name"] == "laptop"
    assert body["user"] == {"id": user.pk, "username": "alice"}
    me = APIClient().get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


def test_only_the_hash_of_the_secret_is_stored(make_user):
    make_user("alice", password="s3cret-pass-word")

    secret = _login("alice", "s3cret-pass-word").json()["token"]

    token = ApiToken.objects.get()
    assert token.token_hash == hash_secret(secret)
    assert all(secret not in str(value) for value in ApiToken.objects.values().get().values())


def test_a_wrong_password_gets_no_token(make_user):
    make_user("alice", password="s3cret-pass-word")

    response = _login("alice", "guess")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Unable to log in with the username and password provided."
    assert not ApiToken.objects.exists()


def test_a_disabled_account_gets_no_token(make_user):
    make_user("alice", password="s3cret-pass-word", is_active=False)

    assert _login("alice", "s3cret-pass-word").status_code == 400


def test_login_is_throttled_after_ten_attempts_a_minute(make_user, settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token_login"] == "10/min"
    make_user("alice", password="s3cret-pass-word")

    statuses = [_login(f"user-{number}", "guess").status_code for number in range(11)]

    assert statuses == [400] * 10 + [429]
    error = _login("alice", "s3cret-pass-word").json()["error"]
    assert (error["status"], error["code"]) == (429, "throttled")


def test_a_forged_x_forwarded_for_does_not_reset_the_count(make_user):
    client = APIClient()
    statuses = [
        client.post(
            "/api/v1/auth/token/",
            {"username": f"user-{number}", "password": "guess"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{number}",
        ).status_code
        for number in range(11)
    ]

    assert statuses == [400] * 10 + [429]


def test_five_wrong_passwords_for_one_account_brake_both_logins(make_user, client):
    make_user("alice", password="s3cret-pass-word")
    make_user("bob", password="b0b-pass-word")
    assert [_login("alice", "guess").status_code for _ in range(MAX_FAILED_SIGN_INS)] == [400] * MAX_FAILED_SIGN_INS

    refused = _login("alice", "s3cret-pass-word")  # the right password
    page = client.post("/login/", {"username": "alice", "password": "s3cret-pass-word"})

    assert refused.status_code == 429
    assert refused.json()["error"]["message"].startswith("Too many failed sign-ins for this account")
    assert "Too many failed sign-ins" in page.content.decode() and "_auth_user_id" not in client.session
    assert _login("bob", "b0b-pass-word").status_code == 201  # other accounts are not braked
