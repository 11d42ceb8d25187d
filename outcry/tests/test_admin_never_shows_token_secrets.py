import pytest

from outcry.models import ApiToken
from outcry.services import api_token_create


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def test_user_and_token_pages_load(admin_client, make_user):
    user = make_user()
    token, secret = api_token_create(user=user)

    for url in (
        "/admin/outcry/user/",
        f"/admin/outcry/user/{user.pk}/change/",
        "/admin/outcry/apitoken/",
        f"/admin/outcry/apitoken/{token.pk}/change/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert secret not in response.content.decode()


def test_tokens_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get("/admin/outcry/apitoken/add/").status_code == 403


def test_the_revoke_action_revokes_tokens(admin_client, make_user):
    token, _ = api_token_create(user=make_user())

    response = admin_client.post(
        "/admin/outcry/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]}, follow=True
    )

    assert "Revoked 1 token(s)." in response.content.decode()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
