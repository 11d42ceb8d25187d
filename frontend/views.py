"""Page views: thin shells. Each renders a template plus the page's starting data as JSON; the
browser modules read everything else from the REST API and the console websocket."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.generic import TemplateView

from sites.models import Role
from sites.selectors import role_at_site, scope_to_user_sites, sensor_list, site_list


def _site_summaries(user) -> list[dict]:
    return [
        {"id": site.id, "name": site.name, "slug": site.slug, "role": role_at_site(user=user, site=site)}
        for site in site_list(user=user).order_by("name")
    ]


class ShellPage(LoginRequiredMixin, TemplateView):
    """A page of the operator console; ``page_config`` is rendered with ``json_script``."""

    page_name = ""

    def page_config(self) -> dict:
        user = self.request.user
        return {
            "page": self.page_name,
            "user": {"id": user.id, "username": user.username},
            "sites": _site_summaries(user),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["page_name"] = self.page_name
        context["page_config"] = self.page_config()
        # The navigation offers only the pages this user can use somewhere.
        ranks = [Role.rank(site["role"]) for site in context["page_config"]["sites"] if site["role"]]
        context["can_upload"] = any(rank >= Role.rank(Role.OPERATOR) for rank in ranks)
        context["can_manage"] = any(rank >= Role.rank(Role.MANAGER) for rank in ranks)
        return context


class ConsolePage(ShellPage):
    template_name = "frontend/console.html"
    page_name = "console"


class IncidentPage(ShellPage):
    template_name = "frontend/incident.html"
    page_name = "incident"

    def page_config(self) -> dict:
        return super().page_config() | {"incident_id": self.kwargs["incident_id"]}


class HistoryPage(ShellPage):
    template_name = "frontend/history.html"
    page_name = "history"

    def page_config(self) -> dict:
        sensors = sensor_list(user=self.request.user).order_by("site__name", "name")
        return super().page_config() | {
            "sensors": [{"id": s.id, "name": s.name, "site": s.site_id} for s in sensors],
        }


class ChangesPage(ShellPage):
    """The configuration change log of the sites the user manages (reads /api/v1/config-changes/)."""

    template_name = "frontend/changes.html"
    page_name = "changes"


class ReviewPage(ShellPage):
    """Each microphone's incidents by outcome, with threshold advice (reads /api/v1/alarm-review/)."""

    template_name = "frontend/review.html"
    page_name = "review"


class UploadPage(ShellPage):
    template_name = "frontend/upload.html"
    page_name = "upload"

    def page_config(self) -> dict:
        user = self.request.user
        sensors = scope_to_user_sites(sensor_list(user=user), user=user, min_role=Role.OPERATOR)
        return super().page_config() | {
            "sensors": [
                {"id": s.id, "name": s.name, "location": s.location, "site": s.site.name, "enabled": s.enabled}
                for s in sensors.order_by("site__name", "name")
            ]
        }


def favicon(request):
    """Pages that name no icon (the admin, the API docs) make browsers ask for /favicon.ico. The
    static URL is resolved per request: with hashed names it needs the collected manifest."""
    return HttpResponsePermanentRedirect(static("frontend/outcry.svg"))
