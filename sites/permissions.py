"""Site-role permissions: read needs ``viewer``, write needs ``manager`` at the object's site.

Reuse in other apps by subclassing the view attributes, not this class::

    class IncidentViewSet(SiteScopedViewSet):
        permission_classes = [SiteRolePermission]
        action_roles = {"acknowledge": Role.OPERATOR}

The object's site is ``obj`` itself for a Site, else ``obj.site``; a view can override
``get_permission_site(obj)`` for objects that reach their site another way.
"""

from rest_framework.permissions import BasePermission

from outcry.permissions import ActionRolePermission
from sites.models import Role, Sensor, Site
from sites.selectors import site_ids_with_role, user_has_role


class SiteRolePermission(ActionRolePermission):
    default_read_role = Role.VIEWER
    default_write_role = Role.MANAGER

    def user_has_role(self, *, user, obj, min_role: str) -> bool:
        return user_has_role(user=user, site=site_of(obj), min_role=min_role)

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if getattr(view, "action", None) == "create":
            # Someone who holds the role nowhere is told so before their body is read (a 403, not
            # the body's field errors); the role at the site the body names is checked once it is.
            role = self.required_role(request, view)
            site_ids = site_ids_with_role(user=request.user, min_role=role)
            if site_ids is not None and not site_ids.exists():
                self.message = f"You need the {role} role at a site to do this."
                return False
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        if hasattr(view, "get_permission_site"):
            obj = view.get_permission_site(obj)
        return super().has_object_permission(request, view, obj)


def site_of(obj) -> Site:
    return obj if isinstance(obj, Site) else obj.site


class IsSensor(BasePermission):
    """The request was authenticated with a sensor key (``request.auth`` is the Sensor)."""

    message = "This endpoint needs a sensor key."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Sensor)


class IsPersonOrSensor(BasePermission):
    """A signed-in person (token or session) or a sensor key; for endpoints both may call (uploads)."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) or isinstance(request.auth, Sensor)
