"""A site's last manager cannot demote or remove themselves (or be removed by a fellow member): nobody but a
platform admin could manage the site afterwards. With a second manager it works; an admin may do it."""

import pytest

from sites.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_with_one_manager(make_site, make_member):
    site = make_site("Northfield")
    manager = make_member(site, "manager")
    return site, manager, Membership.objects.get(site=site, user=manager)


def test_the_last_manager_cannot_demote_themselves(site_with_one_manager, client_for):
    _, manager, membership = site_with_one_manager

    response = client_for(manager).patch(f"/api/v1/memberships/{membership.pk}/", {"role": "viewer"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        f"{manager.username} is the last manager of Northfield: make someone else its manager before removing "
        "this manager role."
    )
    membership.refresh_from_db()
    assert membership.role == "manager"


def test_the_last_manager_cannot_leave(site_with_one_manager, client_for):
    _, manager, membership = site_with_one_manager

    response = client_for(manager).delete(f"/api/v1/memberships/{membership.pk}/")

    assert response.status_code == 400
    assert "last manager of Northfield" in response.json()["error"]["message"]
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_with_a_second_manager_either_may_step_down(site_with_one_manager, make_member, client_for):
    site, manager, membership = site_with_one_manager
    make_member(site, "manager")

    assert (
        client_for(manager)
        .patch(f"/api/v1/memberships/{membership.pk}/", {"role": "operator"}, format="json")
        .status_code
        == 200
    )
    membership.refresh_from_db()
    assert membership.role == "operator"


def test_a_platform_admin_may_remove_the_last_manager(site_with_one_manager, make_user, client_for):
    _, _, membership = site_with_one_manager
    admin = make_user(is_staff=True, is_superuser=True)

    assert client_for(admin).delete(f"/api/v1/memberships/{membership.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_other_members_change_as_before(site_with_one_manager, make_member, client_for):
    site, manager, _ = site_with_one_manager
    operator = make_member(site, "operator")
    operator_membership = Membership.objects.get(site=site, user=operator)

    assert (
        client_for(manager)
        .patch(f"/api/v1/memberships/{operator_membership.pk}/", {"role": "viewer"}, format="json")
        .status_code
        == 200
    )
    assert client_for(manager).delete(f"/api/v1/memberships/{operator_membership.pk}/").status_code == 204


def test_granting_a_second_role_at_the_same_site_says_what_to_do(site_with_one_manager, make_member, client_for):
    site, manager, _ = site_with_one_manager
    viewer = make_member(site, "viewer")

    response = client_for(manager).post(
        "/api/v1/memberships/", {"user": viewer.pk, "site": site.pk, "role": "operator"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "This person already has a role at this site: change that membership instead."
    )
