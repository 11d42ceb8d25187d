"""Role-per-action permissions for DRF views, independent of where roles come from.

A view declares which role each action needs; a subclass says how to find a user's role over an
object (``sites.permissions.SiteRolePermission`` reads memberships). Views scope their querysets to
what the user may see, so an invisible object is a 404 before these checks run; these checks turn
"visible but not allowed" into a 403.

View attributes read here:
    read_role           role needed for safe methods (GET, HEAD, OPTIONS)
    write_role          role needed for every other action unless ``action_roles`` says otherwise
    action_roles        {action name: role}, e.g. {"acknowledge": "operator"}
    admin_only_actions  actions only platform admins may perform (e.g. creating a site)
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission


def user_is_platform_admin(user) -> bool:
    """Platform admins (staff or superusers) act as managers of every site."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.is_staff))


class ActionRolePermission(BasePermission):
    default_read_role: str = ""
    default_write_role: str = ""

    def required_role(self, request, view) -> str:
        action = getattr(view, "action", None)
        action_roles = getattr(view, "action_roles", {})
        if action in action_roles:
            return action_roles[action]
        if request.method in SAFE_METHODS:
            return getattr(view, "read_role", self.default_read_role)
        return getattr(view, "write_role", self.default_write_role)

    def is_admin_only(self, view) -> bool:
        return getattr(view, "action", None) in getattr(view, "admin_only_actions", ())

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        # Collection-level admin-only actions (create) are refused here; detail-level ones wait for
        # the object so that objects the user cannot see stay 404.
        lookup_kwarg = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
        if self.is_admin_only(view) and lookup_kwarg not in getattr(view, "kwargs", {}):
            return user_is_platform_admin(request.user)
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        if user_is_platform_admin(request.user):
            return True
        if self.is_admin_only(view):
            return False
        return self.user_has_role(user=request.user, obj=obj, min_role=self.required_role(request, view))

    def user_has_role(self, *, user, obj, min_role: str) -> bool:
        raise NotImplementedError("subclasses say how a user's role over an object is found")
