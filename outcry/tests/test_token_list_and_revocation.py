from rest_framework.test import APIClient

from outcry.services import api_token_create, api_token_revoke


def _client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_user_lists_their_own_tokens_without_secrets(make_user):
    alice, bob = make_user(), make_user()
    token, secret = api_token_create(user=alice, name="laptop")
    api_token_create(user=bob)

    response = _client(secret).get("/api/v1/auth/tokens/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [token.pk]
    assert rows[0]["prefix"] == f"oct_{token.lookup_id}_…"
    assert secret not in response.content.decode()
    assert token.token_hash not in response.content.decode()


def test_deleting_a_token_revokes_it(make_user):
    user = make_user()
    _, keep_secret = api_token_create(user=user)
    lose, lose_secret = api_token_create(user=user)

    response = _client(keep_secret).delete(f"/api/v1/auth/tokens/{lose.pk}/")

    assert response.status_code == 204
    lose.refresh_from_db()
    assert lose.revoked_at is not None
    assert _client(lose_secret).get("/api/v1/users/me/").status_code == 401
    assert _client(keep_secret).get("/api/v1/users/me/").status_code == 200


def test_a_token_can_revoke_itself(make_user):
    token, secret = api_token_create(user=make_user())

    assert _client(secret).delete(f"/api/v1/auth/tokens/{token.pk}/").status_code == 204
    assert _client(secret).get("/api/v1/auth/tokens/").status_code == 401


def test_someone_elses_token_is_not_found(make_user):
    _, secret = api_token_create(user=make_user())
    theirs, _ = api_token_create(user=make_user())

    response = _client(secret).delete(f"/api/v1/auth/tokens/{theirs.pk}/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_revoking_twice_keeps_the_first_time(make_user):
    token, _ = api_token_create(user=make_user())
    api_token_revoke(token=token)
    first = token.revoked_at

    api_token_revoke(token=token)

    assert token.revoked_at == first


def test_a_malformed_or_unknown_token_is_401(db):
    for header in ("Bearer oct_nope", "Bearer oct_000000000000_x", "Bearer a b"):
        response = APIClient().get("/api/v1/users/me/", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert response.json()["error"]["status"] == 401
