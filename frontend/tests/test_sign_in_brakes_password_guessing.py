"""The sign-in page refuses further tries after five wrong passwords for one account from one
address, even with the right password, and says so; other accounts and a success are unaffected."""

import pytest

from outcry.signin_brake import MAX_FAILED_SIGN_INS

pytestmark = pytest.mark.django_db


def sign_in(client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def test_five_wrong_passwords_stop_further_tries_for_that_account(client, make_user):
    user = make_user(username="guard", password="right-password-1")
    other = make_user(username="colleague", password="right-password-2")
    for _ in range(MAX_FAILED_SIGN_INS):
        assert "Please enter a correct username" in sign_in(client, "guard", "wrong").content.decode()

    refused = sign_in(client, "GUARD", "right-password-1")  # the right password, and any case

    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    assert "Too many failed sign-ins for this account from your address" in refused.content.decode()
    assert sign_in(client, "colleague", "right-password-2").status_code == 302  # others sign in
    assert client.session["_auth_user_id"] == str(other.pk)
    assert user.pk != other.pk


def test_a_success_forgets_earlier_failures(client, make_user):
    make_user(username="guard", password="right-password-1")
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        sign_in(client, "guard", "wrong")
    assert sign_in(client, "guard", "right-password-1").status_code == 302
    client.logout()

    for _ in range(MAX_FAILED_SIGN_INS - 1):
        sign_in(client, "guard", "wrong")
    assert sign_in(client, "guard", "right-password-1").status_code == 302
