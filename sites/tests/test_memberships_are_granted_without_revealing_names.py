"""A manager grants a role by user id only to people their memberships list already shows them, and
to anyone else by exact username: walking user ids must not turn ids into names."""

from types import SimpleNamespace

import pytest

from sites.models import Membership, Role

URL = "/api/v1/memberships/"


@pytest.fixture
def grant(make_site, make_member, make_user, client_for):
    own, shared, elsewhere = make_site("Own"), make_site("Shared"), make_site("Elsewhere")
    manager = make_member(own, Role.MANAGER)
    make_member(shared, Role.VIEWER, user=manager)
    return SimpleNamespace(
        own=own,
        manager=manager,
        client=client_for(manager),
        colleague=make_member(shared, Role.OPERATOR),  # visible to the manager through "Shared"
        stranger=make_user("stranger-with-a-telling-name"),  # no memberships at all
        outsider=make_member(elsewhere, Role.VIEWER, user=make_user("outsider-at-another-site")),
    )


def _error(response, status=400) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_an_id_outside_your_sites_reads_like_an_unknown_id(grant):
    messages, answers = set(), []
    for user_id in (grant.stranger.pk, grant.outsider.pk, 987654):
        error = _error(grant.client.post(URL, {"user": user_id, "site": grant.own.pk, "role": "viewer"}))
        messages.add(error["message"].replace(str(user_id), "N"))
        answers.append(str(error))

    assert len(messages) == 1, messages
    assert "username" in messages.pop()  # it says how to grant someone new
    assert not any("stranger-with" in answer or "outsider-at" in answer for answer in answers)
    assert not Membership.objects.filter(site=grant.own).exclude(user=grant.manager).exists()


def test_a_colleague_from_another_of_your_sites_is_granted_by_id(grant):
    response = grant.client.post(URL, {"user": grant.colleague.pk, "site": grant.own.pk, "role": "operator"})

    assert response.status_code == 201, response.content
    assert response.json()["username"] == grant.colleague.username
    assert Membership.objects.get(site=grant.own, user=grant.colleague).role == Role.OPERATOR


def test_someone_new_is_granted_by_exact_username(grant):
    response = grant.client.post(
        URL, {"username": "stranger-with-a-telling-name", "site": grant.own.pk, "role": "viewer"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert (response.json()["user"], response.json()["username"]) == (grant.stranger.pk, grant.stranger.username)
    assert Membership.objects.get(site=grant.own, user=grant.stranger).role == Role.VIEWER


@pytest.mark.parametrize("username", ["nobody-by-this-name", "STRANGER-WITH-A-TELLING-NAME", "inactive-person"])
def test_an_unknown_or_inactive_username_is_refused(grant, make_user, username):
    make_user("inactive-person", is_active=False)

    error = _error(grant.client.post(URL, {"username": username, "site": grant.own.pk, "role": "viewer"}))

    assert error["fields"] == {"username": ["No active user with this username."]}
    assert not Membership.objects.filter(site=grant.own).exclude(user=grant.manager).exists()


def test_a_viewer_cannot_probe_which_usernames_exist(grant, make_member, client_for):
    viewer = client_for(make_member(grant.own, Role.VIEWER))

    for username in ("stranger-with-a-telling-name", "nobody-by-this-name"):
        response = viewer.post(URL, {"username": username, "site": grant.own.pk, "role": "viewer"})
        assert response.status_code == 403, (username, response.content)


def test_a_grant_names_its_person_once(grant):
    neither = _error(grant.client.post(URL, {"site": grant.own.pk, "role": "viewer"}))
    both = _error(
        grant.client.post(
            URL,
            {
                "user": grant.colleague.pk,
                "username": "stranger-with-a-telling-name",
                "site": grant.own.pk,
                "role": "viewer",
            },
        )
    )
    agreeing = grant.client.post(
        URL, {"user": grant.colleague.pk, "username": grant.colleague.username, "site": grant.own.pk, "role": "viewer"}
    )

    assert "user" in neither["fields"] and "username" in both["fields"]
    assert agreeing.status_code == 201, agreeing.content


def test_a_platform_admin_grants_anyone_by_id(grant, make_user, client_for):
    admin = client_for(make_user(is_staff=True))

    response = admin.post(URL, {"user": grant.stranger.pk, "site": grant.own.pk, "role": "viewer"})

    assert response.status_code == 201, response.content


def test_an_update_cannot_swap_the_person_by_username(grant, make_member):
    membership = Membership.objects.get(user=make_member(grant.own, Role.VIEWER), site=grant.own)

    error = _error(
        grant.client.patch(f"{URL}{membership.pk}/", {"username": grant.stranger.username, "role": "manager"})
    )
    same = grant.client.patch(f"{URL}{membership.pk}/", {"username": membership.user.username, "role": "operator"})

    assert "username" in error["fields"]
    assert same.status_code == 200 and same.json()["role"] == "operator"
