"""Every API refusal is {"error": {"status", "code", "message"[, "fields"]}}."""

from rest_framework.test import APIClient

from sites.models import Role


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    return body["error"]


def test_validation_errors_name_each_field(make_user, client_for):
    client = client_for(make_user(is_staff=True))

    error = _error(client.post("/api/v1/sites/", {"slug": "not a slug!"}, format="json"), 400)

    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"name", "slug"}
    assert error["message"].startswith(("name: ", "slug: "))


def test_missing_credentials_are_401(db):
    error = _error(APIClient().get("/api/v1/sites/"), 401)

    assert error["code"] == "not_authenticated"


def test_insufficient_role_is_403(make_site, make_member, client_for):
    site = make_site()

    error = _error(client_for(make_member(site, Role.VIEWER)).patch(f"/api/v1/sites/{site.pk}/", {}), 403)

    assert error["code"] == "permission_denied"


def test_unknown_objects_and_urls_are_404(make_user, client_for):
    client = client_for(make_user())

    assert _error(client.get("/api/v1/sites/424242/"), 404)["code"] == "not_found"
    assert _error(client.get("/api/v1/no-such-endpoint/"), 404)["code"] == "not_found"


def test_a_wrong_method_is_405(make_user, client_for):
    error = _error(client_for(make_user()).put("/api/v1/users/me/", {}), 405)

    assert error["code"] == "method_not_allowed"


def test_throttled_requests_are_429(db):
    responses = [APIClient().post("/api/v1/auth/token/", {"username": "x", "password": "y"}) for _ in range(11)]

    error = _error(responses[-1], 429)

    assert error["code"] == "throttled"


def test_outside_the_api_a_404_is_not_json(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_unknown_api_urls_are_json_even_with_debug_on(make_user, client_for, settings):
    settings.DEBUG = True  # `make run` serves with DEBUG on; its 404 page would list every URL pattern
    client = client_for(make_user())

    error = _error(client.get("/api/v1/no-such-endpoint/"), 404)
    assert error["message"] == "No API endpoint at this URL."
    assert _error(client.get("/api/nothing-here"), 404)["code"] == "not_found"


def test_an_api_url_without_its_trailing_slash_redirects_a_get_and_names_it_otherwise(make_user, client_for):
    client = client_for(make_user(is_staff=True))

    response = client.get("/api/v1/sites?status=active")
    assert (response.status_code, response["Location"]) == (301, "/api/v1/sites/?status=active")
    error = _error(client.post("/api/v1/sites", {"name": "x"}, format="json"), 404)
    assert "did you mean /api/v1/sites/?" in error["message"]


def test_a_sensor_key_sent_where_people_authenticate_is_told_where_it_works(make_sensor):
    from rest_framework.test import APIClient

    from sites.services import sensor_key_rotate

    key = sensor_key_rotate(sensor=make_sensor())
    for headers in ({"HTTP_X_SENSOR_KEY": key}, {"HTTP_AUTHORIZATION": f"Bearer {key}"}):
        error = _error(APIClient().get("/api/v1/incidents/", **headers), 403)
        assert "may only upload recordings" in error["message"]
    sensor_me = APIClient().get("/api/v1/sensors/me/", HTTP_X_SENSOR_KEY=key)
    assert sensor_me.status_code == 200


def test_an_unknown_ordering_or_page_is_a_400_that_says_what_works(make_user, client_for):
    client = client_for(make_user(is_staff=True))

    error = _error(client.get("/api/v1/sites/?ordering=-password"), 400)
    assert error["fields"]["ordering"] == ["Cannot order by -password; use one of: created_at, name, slug, status."]
    assert client.get("/api/v1/sites/?ordering=-name,slug").status_code == 200
    for page in ("abc", "0", "-1"):
        assert "is not a page number" in _error(client.get(f"/api/v1/sites/?page={page}"), 400)["fields"]["page"][0]
    assert _error(client.get("/api/v1/sites/?page=999"), 404)["code"] == "not_found"  # past the end
    assert client.get("/api/v1/sites/?page=last").status_code == 200
    for size in ("abc", "0", "-1", "501", "1.5"):
        message = _error(client.get(f"/api/v1/sites/?page_size={size}"), 400)["fields"]["page_size"][0]
        assert message == f"'{size}' is not a page size: use a whole number from 1 to 500."
    assert client.get("/api/v1/sites/?page_size=500").status_code == 200


def test_an_unknown_choice_is_refused_with_the_accepted_values(make_site, make_member, make_user, client_for):
    site = make_site()
    client = client_for(make_member(site, Role.MANAGER))
    person = make_user()

    def membership(role):
        return client.post(
            "/api/v1/memberships/", {"username": person.username, "site": site.pk, "role": role}, format="json"
        )

    unknown = _error(membership("guard"), 400)
    as_list = _error(membership(["viewer"]), 400)
    channel = _error(
        client.post(
            "/api/v1/notification-channels/",
            {"site": site.pk, "kind": "email", "name": "Desk", "recipients": ["a@example.org"], "notify_on": ["all"]},
            format="json",
        ),
        400,
    )

    assert unknown["fields"]["role"] == ['"guard" is not a valid choice; use one of: viewer, operator, manager.']
    assert as_list["fields"]["role"] == ["Expected one value (one of: viewer, operator, manager), not a list."]
    assert channel["fields"]["notify_on"] == ['"all" is not a valid choice; use one of: new, escalation.']
    assert membership("viewer").status_code == 201
