"""Reads of site-owned data, always scoped to what the asking user may see."""

from django.db.models import QuerySet

from outcry.models import User
from outcry.permissions import user_is_platform_admin
from sites.models import ConfigChange, Membership, Role, Sensor, Site


def site_list(*, user: User) -> QuerySet[Site]:
    if user_is_platform_admin(user):
        return Site.objects.all()
    if not user.is_authenticated:
        return Site.objects.none()
    return Site.objects.filter(memberships__user=user).distinct()


def site_ids_with_role(*, user: User, min_role: str = Role.VIEWER) -> QuerySet | None:
    """IDs of the sites where ``user`` holds at least ``min_role``; None means every site (admins)."""
    if user_is_platform_admin(user):
        return None
    if not user.is_authenticated:
        return Site.objects.none().values_list("id", flat=True)
    allowed = [role for role in Role.values if Role.rank(role) >= Role.rank(min_role)]
    return Membership.objects.filter(user=user, role__in=allowed).values_list("site_id", flat=True)


def scope_to_user_sites(
    queryset: QuerySet, *, user: User, site_field: str = "site", min_role: str = Role.VIEWER
) -> QuerySet:
    """Restrict any site-owned queryset to the sites ``user`` holds ``min_role`` at."""
    site_ids = site_ids_with_role(user=user, min_role=min_role)
    if site_ids is None:
        return queryset
    return queryset.filter(**{f"{site_field}__in": site_ids})


def role_at_site(*, user: User, site: Site) -> str | None:
    """The user's role at ``site`` (admins act as managers everywhere); None without a membership."""
    if user_is_platform_admin(user):
        return Role.MANAGER
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, site=site).values_list("role", flat=True).first()


def user_has_role(*, user: User, site: Site, min_role: str) -> bool:
    role = role_at_site(user=user, site=site)
    return role is not None and Role.rank(role) >= Role.rank(min_role)


def sensor_list(*, user: User) -> QuerySet[Sensor]:
    return scope_to_user_sites(Sensor.objects.select_related("site"), user=user)


def membership_list(*, user: User) -> QuerySet[Membership]:
    return scope_to_user_sites(Membership.objects.select_related("user", "site"), user=user)


def grantable_user_list(*, user: User) -> QuerySet[User]:
    """Active users ``user`` may name by id when granting a role: the members of their sites, whom
    the memberships list already shows them (every active user for platform admins)."""
    active = User.objects.filter(is_active=True)
    site_ids = site_ids_with_role(user=user)
    if site_ids is None:
        return active
    return active.filter(memberships__site__in=site_ids).distinct()


def site_managers(*, site: Site) -> QuerySet[User]:
    return User.objects.filter(memberships__site=site, memberships__role=Role.MANAGER, is_active=True)


def config_change_list(*, user: User) -> QuerySet[ConfigChange]:
    """The change log of the sites ``user`` manages (every site's, and deleted sites', for admins)."""
    return scope_to_user_sites(ConfigChange.objects.select_related("actor"), user=user, min_role=Role.MANAGER)
