"""The browser-microphone page: a manager streams this computer's microphone as one of their sensors."""

from frontend.views import ShellPage
from sites.models import Role
from sites.selectors import scope_to_user_sites, sensor_list


class MicrophonePage(ShellPage):
    """Lists the sensors the user manages; the page asks the API for a stream token for the chosen one
    (the sensor's key never reaches the browser) and streams over ``/ws/sensors/stream/``."""

    template_name = "frontend/microphone.html"
    page_name = "microphone"

    def page_config(self) -> dict:
        user = self.request.user
        sensors = scope_to_user_sites(sensor_list(user=user), user=user, min_role=Role.MANAGER)
        return super().page_config() | {
            "sensors": [
                {
                    "id": sensor.id,
                    "name": sensor.name,
                    "site": {"id": sensor.site_id, "name": sensor.site.name},
                    "kind": sensor.kind,
                    "usable": sensor.enabled and sensor.has_active_key,
                }
                for sensor in sensors.order_by("site__name", "name")
            ],
        }
