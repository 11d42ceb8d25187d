"""A body over the request limit is a 413 and a malformed one a 400, in the API's JSON error shape,
also for actions that take no body."""

from sites.models import Role


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


def test_an_oversized_json_body_is_413_json(make_incident, make_member, client_for, settings):
    incident = make_incident()
    client = client_for(make_member(incident.site, Role.OPERATOR))
    body = '{"text": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + '"}'

    response = client.post(f"/api/v1/incidents/{incident.pk}/annotate/", body, content_type="application/json")

    error = _error(response, 413)
    assert error["code"] == "too_large" and "limit of 5 MiB" in error["message"]


def test_a_malformed_body_is_refused_even_by_actions_that_take_none(make_incident, make_member, client_for):
    incident = make_incident()
    client = client_for(make_member(incident.site, Role.OPERATOR))

    error = _error(
        client.post(f"/api/v1/incidents/{incident.pk}/acknowledge/", "{bad", content_type="application/json"), 400
    )

    assert error["code"] == "parse_error" and "JSON" in error["message"]
    incident.refresh_from_db()
    assert incident.status == "new"
