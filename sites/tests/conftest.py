from types import SimpleNamespace

import pytest

from outcry.tests.api_matrix import ROLES
from sites.models import Membership, Role, Sensor, Site


@pytest.fixture
def world(make_site, make_sensor, make_member, make_user):
    """Two sites. The role actors belong to ``own`` only; ``other`` is somebody else's site.

    Each site has a sensor and a membership of a bystander (targets for updates and deletes).
    """
    own, other = make_site("Own site"), make_site("Other site")
    actors = {role: make_member(own, role) for role in (Role.VIEWER, Role.OPERATOR, Role.MANAGER)}
    actors["none"] = make_user()
    actors["admin"] = make_user(is_staff=True)
    actors["anonymous"] = None
    assert set(actors) == set(ROLES)
    return SimpleNamespace(
        own=own,
        other=other,
        actors=actors,
        sensor={"own": make_sensor(own, "Own mic"), "other": make_sensor(other, "Other mic")},
        bystander={
            "own": Membership.objects.get(user=make_member(own, Role.VIEWER), site=own),
            "other": Membership.objects.get(user=make_member(other, Role.MANAGER), site=other),
        },
        newcomer=make_user("newcomer"),
    )


@pytest.fixture
def site_data_snapshot():
    """Everything a write on sites, sensors or memberships could change."""

    def snapshot():
        return (
            list(Site.objects.order_by("pk").values()),
            list(Sensor.objects.order_by("pk").values()),
            list(Membership.objects.order_by("pk").values()),
        )

    return snapshot
