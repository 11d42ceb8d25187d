from sites.models import Role


def test_me_lists_each_membership_with_its_role(make_site, make_member, client_for):
    north, south = make_site("North"), make_site("South")
    user = make_member(north, Role.MANAGER)
    make_member(south, Role.VIEWER, user=user)

    body = client_for(user).get("/api/v1/users/me/").json()

    assert body["username"] == user.username
    assert body["is_platform_admin"] is False
    assert body["memberships"] == [
        {"site": {"id": north.pk, "name": "North", "slug": north.slug}, "role": "manager"},
        {"site": {"id": south.pk, "name": "South", "slug": south.slug}, "role": "viewer"},
    ]


def test_me_says_when_the_user_is_a_platform_admin(make_user, client_for):
    body = client_for(make_user(is_staff=True)).get("/api/v1/users/me/").json()

    assert body["is_platform_admin"] is True
    assert body["memberships"] == []
